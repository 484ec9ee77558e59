import { PlannerError } from '@planner/errors';
import type { SharedGraph } from '@planner/graph';
import type { Plan, PlanLayer } from '@planner/layering';
import { formatBytes, formatCount, formatLess, formatRatio, formatSignedPercent, plural } from './format.js';
import { diffLayers, imageBytes, imagePullBytes, layersById, ratio, registryBytes } from './measures.js';
import type { BaseInfo, CheckData, CheckImage, CheckOutcome, LayerChange, LockStatus } from './types.js';

/** Thresholds after merging planner.config.json `check` with command-line flags. */
export interface Thresholds {
  maxPushBytes?: number | undefined;
  /** Bytes, or a percentage string such as "10%". */
  maxClosureGrowth?: number | string | undefined;
  minSavingsVsAutoLayer?: number | undefined;
  /** Default true. */
  failOnBudgetExceeded?: boolean | undefined;
  /** Default true: a committed lock that differs from the plan fails. */
  lockCheck?: boolean | undefined;
}

export interface CheckInput {
  workspace: string;
  graph: SharedGraph;
  /** The plan `planner plan` would write for this tree. */
  plan: Plan;
  /** Per-image auto-layer over this tree, for the savings ratio. */
  autoLayer: Plan;
  base: {
    info: BaseInfo;
    plan: Plan;
    /** Per-image auto-layer at the base; absent when the base's closures are unknown. */
    autoLayer?: Plan | undefined;
  };
  lock: {
    /** Workspace-relative path, for messages. */
    file: string;
    /** The committed lock, parsed; undefined when there is none. */
    committed?: Plan | undefined;
    /** Whether the committed lock serialises exactly as the plan does. */
    equal: boolean;
  };
  thresholds: Thresholds;
}

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1000, kb: 1000, m: 1e6, mb: 1e6, g: 1e9, gb: 1e9, t: 1e12, tb: 1e12, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3, tib: 1024 ** 4 };

/** "104857600", "100MiB", "1.5 GB" -> bytes. */
export function parseBytes(text: string, flag: string): number {
  const m = /^\s*([0-9]+(?:\.[0-9]+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  const unit = m ? UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) {
    throw new PlannerError('E_USAGE', `${flag} ${JSON.stringify(text)}: expected a size such as 104857600, 100MiB or 1.5GB`, { hint: `units: B, KB, MB, GB, KiB, MiB, GiB` });
  }
  return Math.round(Number(m[1]) * unit);
}

/** "10%" or a size -> the form planner.config.json uses (bytes number or "N%"). */
export function parseGrowth(text: string, flag: string): number | string {
  if (/^\s*[0-9]+(\.[0-9]+)?\s*%\s*$/.test(text)) return text.replace(/\s+/g, '');
  try {
    return parseBytes(text, flag);
  } catch {
    throw new PlannerError('E_USAGE', `${flag} ${JSON.stringify(text)}: expected a size such as 50MiB or a share of the base closure such as 10%`, {
      hint: 'units: B, KB, MB, GB, KiB, MiB, GiB; or N%',
    });
  }
}

function layerChange(layer: PlanLayer, sizes: (p: string) => number): LayerChange {
  const largest = [...layer.paths].sort((a, b) => sizes(b) - sizes(a) || (a < b ? -1 : a > b ? 1 : 0)).slice(0, 3);
  return { id: layer.id, narSize: layer.narSize, paths: layer.paths.length, images: [...layer.images].sort(), largestPaths: largest };
}

function sizeLookup(plans: Plan[]): (p: string) => number {
  // Path sizes are not in a Plan; a layer with a single path tells it, else rank by layer.
  const sizes = new Map<string, number>();
  for (const plan of plans) for (const l of plan.layers) if (l.paths.length === 1) sizes.set(l.paths[0]!, l.narSize);
  return (p) => sizes.get(p) ?? 0;
}

/** The first few items of a long list ("; and 96 more"); the full list is in the outcome's `images`. */
function listSome(items: string[], count = 5): string {
  return items.slice(0, count).join('; ') + (items.length > count ? `; and ${items.length - count} more` : '');
}

function bytesAndCount(bytes: number): string {
  return `${formatBytes(bytes)} (${formatCount(bytes)} bytes)`;
}

/** Compares this tree's plan with the base and applies the thresholds. */
export function buildCheck(input: CheckInput): CheckData {
  const { graph, plan, base, thresholds } = input;
  const graphSize = (p: string): number => (graph.graph.hasNode(p) ? graph.graph.getNodeAttribute(p, 'narSize') : 0);
  const baseSize = sizeLookup([base.plan]);
  const sizeOf = (p: string): number => graphSize(p) || baseSize(p);
  const diff = diffLayers(plan, base.plan);
  const sum = (ls: PlanLayer[]): number => ls.reduce((s, l) => s + l.narSize, 0);
  const pushBytes = sum(diff.added);

  const baseImages = new Map(base.plan.images.map((i) => [i.name, i]));
  const headImages = new Map(plan.images.map((i) => [i.name, i]));
  const lockImages = new Map((input.lock.committed?.images ?? []).map((i) => [i.name, i]));
  const graphImages = new Map(graph.images.map((i) => [i.ref, i]));
  const refs = [...new Set([...graphImages.keys(), ...baseImages.keys()])].sort();
  const images: CheckImage[] = refs.map((ref) => {
    const g = graphImages.get(ref);
    const h = headImages.get(ref);
    const b = baseImages.get(ref);
    const headBytes = g ? g.closureBytes : null;
    const baseBytes = b ? imageBytes(base.plan, ref) : null;
    const growthBytes = headBytes !== null && baseBytes !== null ? headBytes - baseBytes : null;
    const same = h && b && h.layers.length === b.layers.length && h.layers.every((id, k) => id === b.layers[k]);
    return {
      ref,
      status: !g ? 'removed' : !b ? 'added' : same ? 'unchanged' : 'changed',
      pullBytes: g ? imagePullBytes(plan, base.plan, ref) : 0,
      layers: {
        base: b ? b.layers.length : null,
        head: g ? (h?.layers.length ?? 0) : null,
        lock: lockImages.get(ref)?.layers.length ?? null,
        storeBudget: g ? g.storeBudget : null,
      },
      closure: {
        baseBytes,
        headBytes,
        growthBytes,
        growthRatio: growthBytes !== null && baseBytes ? growthBytes / baseBytes : null,
      },
    };
  });

  const headRatio = ratio(registryBytes(input.autoLayer), registryBytes(plan)) ?? 1;
  const baseRatio = base.autoLayer ? ratio(registryBytes(base.autoLayer), registryBytes(base.plan)) : null;

  const lock = lockStatus(input);
  const checks: CheckOutcome[] = [
    lockCheck(lock, thresholds),
    pushCheck(pushBytes, thresholds),
    growthCheck(images, thresholds),
    savingsCheck(headRatio, thresholds),
    budgetCheck(images, thresholds),
  ].map((c) => (c.status === 'fail' ? { ...c, code: c.name === 'lock-drift' ? 'E_LOCK_DRIFT' : 'E_CHECK_FAILED' } : c));
  return {
    schemaVersion: 1,
    workspace: input.workspace,
    base: base.info,
    passed: checks.every((c) => c.status !== 'fail'),
    checks,
    layers: {
      added: diff.added.map((l) => layerChange(l, sizeOf)),
      removed: diff.removed.map((l) => layerChange(l, sizeOf)),
      unchanged: diff.unchanged.length,
      addedBytes: pushBytes,
      removedBytes: sum(diff.removed),
      unchangedBytes: sum(diff.unchanged),
    },
    pushBytes,
    images,
    savings: { vsAutoLayer: { base: baseRatio, head: headRatio, change: baseRatio === null ? null : headRatio - baseRatio } },
    lock,
  };
}

/** How a lock written with another budget is told (and recognised for its hint). */
const BUDGET_DIFFERENCE = 'it was planned with maxLayers';

function lockStatus(input: CheckInput): LockStatus {
  const { lock, plan, thresholds } = input;
  const same = { file: lock.file, imagesChanged: [], layersOnlyInLock: 0, layersOnlyInPlan: 0, differences: [] };
  if (thresholds.lockCheck === false) return { ...same, status: 'skipped' };
  // A base with a lock and a tree without one: builds would no longer be pinned.
  if (!lock.committed) return { ...same, status: input.base.info.lockFile !== null ? 'deleted' : 'missing' };
  if (lock.equal) return { ...same, status: 'ok' };
  const locked = lock.committed;
  const lockLayers = layersById(locked);
  const planLayers = layersById(plan);
  const lockIds = new Set(lockLayers.keys());
  const planIds = new Set(planLayers.keys());
  // What differs besides the layout (which images use which layers).
  const differences: string[] = [];
  if (locked.maxLayers !== plan.maxLayers) {
    differences.push(`${BUDGET_DIFFERENCE} ${locked.maxLayers}, this tree's config and manifests give ${plan.maxLayers}`);
  }
  if (locked.storeDir !== plan.storeDir) differences.push(`it is for the store ${locked.storeDir}, this tree's is ${plan.storeDir}`);
  let edited = 0;
  for (const [id, layer] of lockLayers) {
    const now = planLayers.get(id);
    if (now && (now.narSize !== layer.narSize || now.paths.join('\n') !== layer.paths.join('\n'))) edited++;
  }
  if (edited > 0) differences.push(`${plural(edited, 'layer')} recorded with other paths or sizes than the same id has in the plan`);
  const lockImages = new Map(locked.images.map((i) => [i.name, i.layers.join(',')]));
  const planImages = new Map(plan.images.map((i) => [i.name, i.layers.join(',')]));
  const imagesChanged = [...new Set([...lockImages.keys(), ...planImages.keys()])].filter((ref) => lockImages.get(ref) !== planImages.get(ref)).sort();
  return {
    file: lock.file,
    status: 'drift',
    imagesChanged,
    layersOnlyInLock: [...lockIds].filter((id) => !planIds.has(id)).length,
    layersOnlyInPlan: [...planIds].filter((id) => !lockIds.has(id)).length,
    differences,
  };
}

function lockCheck(lock: LockStatus, thresholds: Thresholds): CheckOutcome {
  const base = { name: 'lock-drift' as const, limit: thresholds.lockCheck !== false, actual: null };
  switch (lock.status) {
    case 'skipped':
      return { ...base, status: 'skip', message: 'lock drift: not checked (--no-lock-check)', limit: false };
    case 'missing':
      return { ...base, status: 'pass', message: `lock drift: no ${lock.file} committed; planner build plans afresh`, hint: `run planner plan and commit ${lock.file} to pin the layers` };
    case 'deleted':
      return {
        ...base,
        status: 'fail',
        message: `lock drift: this change deletes ${lock.file}, which the base has: builds would plan afresh and push layers again`,
        hint: `to re-plan from scratch, run planner plan --no-lock and commit the ${lock.file} it writes`,
      };
    case 'ok':
      return { ...base, status: 'pass', message: `lock drift: ${lock.file} matches the plan` };
    case 'drift': {
      const shown = lock.imagesChanged.slice(0, 5).join(', ') + (lock.imagesChanged.length > 5 ? `, ... (${lock.imagesChanged.length} in all)` : '');
      const layout = lock.imagesChanged.length > 0 || lock.layersOnlyInLock > 0 || lock.layersOnlyInPlan > 0;
      const parts = [
        ...(layout || lock.differences.length === 0
          ? [
              `${plural(lock.imagesChanged.length, 'image')} laid out differently${shown ? ` (${shown})` : ''}, ${plural(lock.layersOnlyInLock, 'layer')} only in the lock, ${formatCount(lock.layersOnlyInPlan)} only in the plan`,
            ]
          : []),
        ...lock.differences,
      ];
      const budget = lock.differences.some((d) => d.startsWith(BUDGET_DIFFERENCE));
      return {
        ...base,
        status: 'fail',
        actual: lock.imagesChanged.length,
        images: lock.imagesChanged,
        message: `lock drift: ${lock.file} differs from what planner plan writes: ${parts.join('; ')}`,
        hint: budget
          ? `planner check plans with the budgets of planner.config.json and the manifests (planner plan --max-layers is a one-off): set maxLayers there, or run planner plan without --max-layers; then commit ${lock.file}`
          : `run planner plan, then commit ${lock.file}`,
      };
    }
  }
}

function pushCheck(pushBytes: number, thresholds: Thresholds): CheckOutcome {
  const limit = thresholds.maxPushBytes;
  if (limit === undefined) {
    return { name: 'max-push-bytes', status: 'skip', limit: null, actual: pushBytes, message: `push: ${bytesAndCount(pushBytes)}; no limit set (check.maxPushBytes)` };
  }
  const ok = pushBytes <= limit;
  return {
    name: 'max-push-bytes',
    status: ok ? 'pass' : 'fail',
    limit,
    actual: pushBytes,
    message: `push: this change uploads ${bytesAndCount(pushBytes)}, ${ok ? 'within' : 'over'} the limit of ${bytesAndCount(limit)}`,
    ...(ok ? {} : { hint: 'split the change, or raise check.maxPushBytes in planner.config.json (or --max-push-bytes)' }),
  };
}

function growthLimit(limit: number | string, baseBytes: number): number {
  return typeof limit === 'number' ? limit : (baseBytes * Number(limit.slice(0, -1))) / 100;
}

function growthCheck(images: CheckImage[], thresholds: Thresholds): CheckOutcome {
  const limit = thresholds.maxClosureGrowth;
  const grown = images.filter((i) => i.closure.growthBytes !== null);
  const largest = grown.reduce<CheckImage | undefined>((m, i) => (m === undefined || i.closure.growthBytes! > m.closure.growthBytes! ? i : m), undefined);
  const describe = (i: CheckImage): string =>
    `${i.ref} ${formatBytes(i.closure.baseBytes!)} -> ${formatBytes(i.closure.headBytes!)} (${i.closure.growthBytes! >= 0 ? '+' : '-'}${bytesAndCount(Math.abs(i.closure.growthBytes!))}, ${i.closure.growthRatio === null ? 'new' : formatSignedPercent(i.closure.growthRatio)})`;
  if (limit === undefined) {
    return {
      name: 'max-closure-growth',
      status: 'skip',
      limit: null,
      actual: largest?.closure.growthBytes ?? 0,
      message: `closure growth: ${largest && largest.closure.growthBytes! > 0 ? `largest ${describe(largest)}` : 'no closure grew'}; no limit set (check.maxClosureGrowth)`,
    };
  }
  const failing = grown.filter((i) => i.closure.growthBytes! > growthLimit(limit, i.closure.baseBytes!));
  const limitText = typeof limit === 'number' ? bytesAndCount(limit) : limit;
  if (failing.length === 0) {
    return {
      name: 'max-closure-growth',
      status: 'pass',
      limit,
      actual: largest?.closure.growthBytes ?? 0,
      message: `closure growth: every image within ${limitText}${largest && largest.closure.growthBytes! > 0 ? `; largest ${describe(largest)}` : ''}`,
    };
  }
  const worst = failing.reduce((m, i) => (i.closure.growthBytes! > m.closure.growthBytes! ? i : m));
  return {
    name: 'max-closure-growth',
    status: 'fail',
    limit,
    actual: worst.closure.growthBytes,
    images: failing.map((i) => i.ref),
    message: `closure growth: ${plural(failing.length, 'image')} grew by more than ${limitText}: ${listSome(failing.map(describe))}`,
    hint: 'run planner explain <store-path> to see why a path is in an image, or raise check.maxClosureGrowth (or --max-closure-growth)',
  };
}

function savingsCheck(headRatio: number, thresholds: Thresholds): CheckOutcome {
  const limit = thresholds.minSavingsVsAutoLayer;
  const what = `registry storage ${formatLess(headRatio, 'per-image auto-layer (buildLayeredImage)')}`;
  if (limit === undefined) return { name: 'min-savings-vs-auto-layer', status: 'skip', limit: null, actual: headRatio, message: `savings: ${what}; no minimum set (check.minSavingsVsAutoLayer)` };
  const ok = headRatio >= limit;
  return {
    name: 'min-savings-vs-auto-layer',
    status: ok ? 'pass' : 'fail',
    limit,
    actual: headRatio,
    message: `savings: ${what}, ${ok ? 'at least' : 'below'} the minimum ${formatRatio(limit)}`,
    ...(ok ? {} : { hint: 'raise maxLayers so more layers can be shared, or lower check.minSavingsVsAutoLayer (or --min-savings-vs-auto-layer)' }),
  };
}

function budgetCheck(images: CheckImage[], thresholds: Thresholds): CheckOutcome {
  const enabled = thresholds.failOnBudgetExceeded !== false;
  const over = images.filter((i) => {
    if (i.layers.storeBudget === null) return false;
    const used = Math.max(i.layers.head ?? 0, i.layers.lock ?? 0);
    return used > i.layers.storeBudget;
  });
  const describe = (i: CheckImage): string => {
    const lockOver = (i.layers.lock ?? 0) > (i.layers.head ?? 0);
    return `${i.ref} has ${Math.max(i.layers.head ?? 0, i.layers.lock ?? 0)} store layers${lockOver ? ' in the lock' : ''}, budget ${i.layers.storeBudget}`;
  };
  if (over.length === 0) {
    return { name: 'budget', status: enabled ? 'pass' : 'skip', limit: enabled, actual: 0, message: `budget: every image within its layer budget${enabled ? '' : ' (not enforced)'}` };
  }
  return {
    name: 'budget',
    status: enabled ? 'fail' : 'skip',
    limit: enabled,
    actual: over.length,
    images: over.map((i) => i.ref),
    message: `budget: ${plural(over.length, 'image')} over ${over.length === 1 ? 'its' : 'their'} layer budget: ${listSome(over.map(describe))}`,
    ...(enabled ? { hint: 'run planner plan to re-plan within maxLayers and commit the lock, or raise maxLayers' } : {}),
  };
}
