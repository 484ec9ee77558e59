/**
 * The data `planner report`, `planner check` and `planner explain` return. These are the
 * `--json` documents: fields are stable and documented in docs/report.md. Bytes are
 * uncompressed NAR bytes (narSize), the unit Nix reports and layers are planned in.
 */

export type StrategyId = 'planner' | 'single' | 'popularity' | 'auto-layer' | 'lower-bound';

export interface StrategyFigures {
  id: StrategyId;
  /** Short name for sentences: "1.41x less than per-image auto-layer". */
  label: string;
  /** One line on what the strategy is. */
  describe: string;
  /** Distinct layers stored in the registry (lower bound: one per distinct set of images, no budget). */
  layers: number;
  /** Bytes the registry stores for every image: each distinct layer once. */
  registryBytes: number;
  /** Bytes a fresh host that runs every service downloads. */
  coldPullBytes: number;
  /**
   * Bytes a push of this change uploads: layers not in the base's plan of the same strategy
   * (lower bound: store paths in no base layer). Null without a base, and for baselines when
   * the base's closures are unknown (--base-lock).
   */
  pushBytes: number | null;
}

export interface Comparison {
  /** The baseline's bytes. */
  baselineBytes: number;
  /** The planner's bytes. */
  plannerBytes: number;
  /** baselineBytes - plannerBytes (negative: the planner is worse). */
  savedBytes: number;
  /** baselineBytes / plannerBytes ("2.6x less than ..."); null when the planner's figure is 0. */
  ratio: number | null;
}

export interface Savings {
  baseline: Exclude<StrategyId, 'planner'>;
  label: string;
  registry: Comparison;
  coldPull: Comparison;
  /** Null without a base. */
  push: Comparison | null;
}

export interface ImageReport {
  /** `name:tag`. */
  ref: string;
  paths: number;
  closureBytes: number;
  /** Store layers the plan gives the image. */
  layers: number;
  /** Store layers allowed: maxLayers - 1 (customisation layer) - baseLayers. */
  storeBudget: number;
  maxLayers: number;
  baseLayers: number;
  /** Bytes in layers that other images use too. */
  sharedBytes: number;
  /** Bytes in layers only this image uses. */
  privateBytes: number;
  sharedLayers: number;
  privateLayers: number;
  /** With a base: bytes a host running the base version pulls to run this one; else null. */
  pullBytes: number | null;
}

export interface LayerReport {
  id: string;
  /** Position in the plan's global order, 0 = bottom. */
  position: number;
  narSize: number;
  paths: number;
  /** Refs of the images using the layer, sorted. */
  images: string[];
  /** narSize * (images - 1): bytes the registry would store again without sharing this layer. */
  savedBytes: number;
  /** Up to three of the layer's store paths, largest first. */
  largestPaths: string[];
}

export interface BumpReport {
  /** The library's store path. */
  path: string;
  /** Images whose closure holds it. */
  images: number;
  /** It and every path depending on it: the paths a bump gives new hashes. */
  changedPaths: number;
  changedBytes: number;
  /**
   * Per strategy, planner first: the bytes of the distinct layers holding a changed path
   * (pushed again whole), and `ratioToChanged` = bytes / changedBytes (1 = only what changed;
   * unlike the savings ratios, lower is better). The lower bound is the changed bytes
   * themselves. Null only if changedBytes is 0 while bytes is not.
   */
  push: { id: StrategyId; bytes: number; ratioToChanged: number | null }[];
}

export interface BaseInfo {
  /** The git revision given with --base, or null for --base-lock. */
  ref: string | null;
  commit: string | null;
  /** The lock file given with --base-lock, or the base's planner.lock.json (repository path). */
  lockFile: string | null;
  /** Whether the base's closures were available (needed for baselines at the base). */
  hasClosures: boolean;
}

export interface ReportData {
  schemaVersion: 1;
  workspace: string;
  base: BaseInfo | null;
  totals: {
    images: number;
    /** Every store path once. */
    uniquePaths: number;
    uniqueBytes: number;
    /** Sum over images of closure bytes. */
    closureBytes: number;
    /** Distinct layers of the plan. */
    layers: number;
  };
  /** planner first, then single, popularity, auto-layer, lower-bound. */
  strategies: StrategyFigures[];
  /** The planner against each other strategy. */
  savings: Savings[];
  /** Sorted by ref. */
  images: ImageReport[];
  /** Layers used by two or more images, most bytes saved first (at most --top). */
  sharedLayers: LayerReport[];
  /** Every layer of the plan, bottom first (the HTML heatmap's columns). */
  layers: LayerReport[];
  /** What bumping each of the most widely used libraries would push again (at most --bumps). */
  bumps: BumpReport[];
}

export type CheckName = 'lock-drift' | 'max-push-bytes' | 'max-closure-growth' | 'min-savings-vs-auto-layer' | 'budget';

export interface CheckOutcome {
  name: CheckName;
  status: 'pass' | 'fail' | 'skip';
  /** One line naming the check and the numbers, e.g. "push 12.0 MiB > limit 10.0 MiB". */
  message: string;
  /** The limit the check used (bytes, ratio, "10%"), null when skipped. */
  limit: number | string | boolean | null;
  /** The measured value (bytes or ratio), null when skipped. */
  actual: number | null;
  /** Images that failed (closure growth, budget). */
  images?: string[];
  /** What to do about a failure. */
  hint?: string;
  /** On failure: E_LOCK_DRIFT for lock-drift, E_CHECK_FAILED for the thresholds (see docs/errors.md). */
  code?: 'E_LOCK_DRIFT' | 'E_CHECK_FAILED';
}

export interface LayerChange {
  id: string;
  narSize: number;
  paths: number;
  images: string[];
  largestPaths: string[];
}

export interface CheckImage {
  ref: string;
  status: 'added' | 'removed' | 'changed' | 'unchanged';
  /** Bytes a host running the base version pulls for the head version. */
  pullBytes: number;
  layers: {
    base: number | null;
    head: number | null;
    /** Layers of the image in the committed planner.lock.json, null when there is none. */
    lock: number | null;
    storeBudget: number | null;
  };
  closure: {
    baseBytes: number | null;
    headBytes: number | null;
    growthBytes: number | null;
    /** growthBytes / baseBytes; null when the image is new or was empty. */
    growthRatio: number | null;
  };
}

export interface LockStatus {
  /** Workspace-relative path of the lock. */
  file: string;
  /**
   * ok: equal to what planner plan writes; drift: differs; missing: none committed (nor in
   * the base); deleted: none committed but the base has one (fails); skipped: --no-lock-check.
   */
  status: 'ok' | 'drift' | 'missing' | 'deleted' | 'skipped';
  /** With drift: images whose layers differ, and layers only in the lock / only in the plan. */
  imagesChanged: string[];
  layersOnlyInLock: number;
  layersOnlyInPlan: number;
  /** With drift: what differs besides the layout (maxLayers, storeDir, a layer's recorded paths or size), in words. */
  differences: string[];
}

export interface CheckData {
  schemaVersion: 1;
  workspace: string;
  base: BaseInfo;
  passed: boolean;
  checks: CheckOutcome[];
  layers: {
    added: LayerChange[];
    removed: LayerChange[];
    unchanged: number;
    addedBytes: number;
    removedBytes: number;
    unchangedBytes: number;
  };
  /** Bytes a push of this change uploads (= layers.addedBytes). */
  pushBytes: number;
  images: CheckImage[];
  savings: {
    /** auto-layer registry bytes / planner registry bytes, at the base and here. */
    vsAutoLayer: { base: number | null; head: number; change: number | null };
  };
  lock: LockStatus;
}

export interface ExplainPathData {
  kind: 'path';
  path: string;
  narSize: number;
  layer: {
    id: string;
    position: number;
    narSize: number;
    /** The other store paths in the layer, largest first. */
    otherPaths: { path: string; narSize: number }[];
    images: string[];
  } | null;
  /** Each image containing the path, with the shortest chain of references from one of its roots. */
  images: { ref: string; chain: string[] }[];
}

export interface ExplainImageData {
  kind: 'image';
  ref: string;
  closureBytes: number;
  paths: number;
  storeBudget: number;
  maxLayers: number;
  baseLayers: number;
  /** Bottom first. */
  layers: {
    id: string;
    position: number;
    narSize: number;
    paths: number;
    shared: boolean;
    /** How many images use the layer (1 = only this one). */
    images: number;
    largestPaths: string[];
  }[];
}

export type ExplainData = ExplainPathData | ExplainImageData;
