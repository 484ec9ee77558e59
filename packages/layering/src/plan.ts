import { noStoreLayer, type SharedGraph } from '@planner/graph';
import { bits, RowPool } from './bitset.js';
import { groupByParts, groupPaths } from './groups.js';
import { layerId } from './layer-id.js';
import { compareOrderKeys, pathHeights, type OrderKey } from './order.js';
import { pack } from './pack.js';
import { choosePivots, type Pivots } from './pivots.js';
import { splitLargePaths } from './stability.js';
import type { Plan, PlanImage, PlanLayer } from './types.js';

export interface PlanOptions {
  /** Overrides every image's maxLayers (store budget = maxLayers - 1 - base image layers). */
  maxLayers?: number;
  /** The previous plan (planner.lock.json): its layers are kept where that costs little. */
  previous?: Plan;
  /**
   * How much more registry storage than a fresh plan keeping the previous plan's layers
   * may cost. Beyond it, the kept layers whose paths are stored again elsewhere are given
   * up (most bytes first) until the plan fits, else the plan is fresh. Default 0.02 (2%).
   */
  tolerance?: number;
  /**
   * What a byte pushed again when a widely used library is bumped weighs against a byte
   * stored, per library: the planner picks up to 16 such libraries (pivots.ts) and
   * minimises stored bytes + churnWeight × the bytes each one's bump would push. 0 plans
   * for storage alone. Default 0.02 (docs/design.md, "Measured": the knee of the trade-off).
   */
  churnWeight?: number;
}

/** See PlanOptions.churnWeight. */
export const DEFAULT_CHURN_WEIGHT = 0.02;
/** How many pivots (widely used libraries) the churn term models. */
const PIVOT_COUNT = 16;

/** The pivots and the weight of each, when churn is weighed at all. */
interface Churn {
  pivots: Pivots;
  weights: number[];
}

function churnModel(graph: SharedGraph, roots: Uint32Array, heights: Uint32Array, weight: number): Churn | undefined {
  if (!(weight > 0) || graph.paths.length === 0) return undefined;
  const pivots = choosePivots(graph, roots, groupPaths(graph.imageSets, graph.words, graph.narSize, roots), { count: PIVOT_COUNT, heights });
  if (pivots.ids.length === 0) return undefined;
  return { pivots, weights: pivots.ids.map(() => weight) };
}

export interface PlanStats {
  /**
   * `fresh`: planned from scratch (no previous plan); `lock`: the previous plan's layers
   * were kept where still valid (but `droppedLayers`); `lock-rejected`: keeping them cost
   * more than `tolerance` over a fresh plan even after dropping some, so the plan is fresh;
   * `lock-other-store`: the previous plan is for another store directory (nothing to keep).
   */
  mode: 'fresh' | 'lock' | 'lock-rejected' | 'lock-other-store';
  /** Layers of the result that the previous plan had too (same id). */
  reusedLayers: number;
  /** Layers of the result that the previous plan did not have, and their bytes. */
  newLayers: number;
  newLayerBytes: number;
  registryBytes: number;
  /** Registry bytes of a fresh plan of the same graph (equal to registryBytes when fresh). */
  freshRegistryBytes: number;
  /** Registry bytes of the plan that keeps the previous plan's layers, when one was given. */
  lockRegistryBytes: number | null;
  /** Still-valid previous layers given up because keeping them cost more than `tolerance`. */
  droppedLayers: number;
}

export interface PlanResult {
  plan: Plan;
  stats: PlanStats;
}

/** The plan: every image's closure split into layers, within budget, sharing all it can. */
export function plan(graph: SharedGraph, options: PlanOptions = {}): Plan {
  return planWithStats(graph, options).plan;
}

/** plan(), plus what the previous plan (if any) contributed. */
export function planWithStats(graph: SharedGraph, options: PlanOptions = {}): PlanResult {
  const budgets = storeBudgets(graph, options.maxLayers);
  const roots = rootSets(graph, budgets);
  const heights = pathHeights(graph);
  const maxLayers = planMaxLayers(graph, options.maxLayers);
  const churn = churnModel(graph, roots, heights, options.churnWeight ?? DEFAULT_CHURN_WEIGHT);
  const fresh = assemble(graph, freshDrafts(graph, budgets, roots, churn), { maxLayers, heights });
  const freshBytes = registryBytes(fresh);
  const previous = options.previous;
  const stats = (mode: PlanStats['mode'], result: Plan, lockBytes: number | null = null, dropped = 0): PlanResult => {
    return {
      plan: result,
      stats: {
        mode,
        ...layerChanges(result, previous),
        registryBytes: registryBytes(result),
        freshRegistryBytes: freshBytes,
        lockRegistryBytes: lockBytes,
        droppedLayers: dropped,
      },
    };
  };
  if (!previous) return stats('fresh', fresh);
  // A lock for another store has nothing to keep.
  if (previous.storeDir !== graph.storeDir) return stats('lock-other-store', fresh);
  const order = new Map(previous.layers.map((layer, index) => [layer.id, index]));
  const limit = freshBytes * (1 + (options.tolerance ?? 0.02));
  // Keep every still-valid layer; if that stores too much, give up the kept layers whose
  // paths the new layers store again (most bytes first, just enough to cover the excess)
  // and try again: storage wins gradually, changing as few images as it can.
  const given = new Set<string>();
  let keptBytes = 0;
  for (let round = 0; round < 8; round++) {
    const kept = assemble(graph, stableDrafts(graph, budgets, roots, previous, given, churn), { maxLayers, heights, previousOrder: order });
    keptBytes = registryBytes(kept);
    if (keptBytes <= limit) return stats('lock', kept, keptBytes, given.size);
    const holder = new Map<string, string>();
    for (const layer of kept.layers) if (order.has(layer.id)) for (const path of layer.paths) holder.set(path, layer.id);
    const twice = new Map<string, number>();
    for (const layer of kept.layers) {
      if (order.has(layer.id)) continue;
      const sizes = layerPathSizes(graph, layer.paths);
      layer.paths.forEach((path, k) => {
        const id = holder.get(path);
        if (id !== undefined) twice.set(id, (twice.get(id) ?? 0) + sizes[k]!);
      });
    }
    const offenders = [...twice].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
    if (offenders.length === 0) break;
    let covered = 0;
    for (const [id, bytes] of offenders) {
      given.add(id);
      covered += bytes;
      if (covered >= keptBytes - limit) break;
    }
  }
  return stats('lock-rejected', fresh, keptBytes, given.size);
}

/**
 * What `next` adds to `previous` (none: everything is new): its layers the previous plan
 * has too (same id), and those it does not, with their bytes: what an update pushes.
 */
export function layerChanges(next: Plan, previous: Plan | undefined): Pick<PlanStats, 'reusedLayers' | 'newLayers' | 'newLayerBytes'> {
  const known = new Set(previous?.layers.map((layer) => layer.id) ?? []);
  let newLayers = 0;
  let newLayerBytes = 0;
  for (const layer of next.layers) {
    if (known.has(layer.id)) continue;
    newLayers++;
    newLayerBytes += layer.narSize;
  }
  return { reusedLayers: next.layers.length - newLayers, newLayers, newLayerBytes };
}

function layerPathSizes(graph: SharedGraph, paths: readonly string[]): number[] {
  return paths.map((path) => graph.narSize[binarySearch(graph.paths, path)]!);
}

function binarySearch(sorted: readonly string[], value: string): number {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const x = sorted[mid]!;
    if (x === value) return mid;
    if (x < value) lo = mid + 1;
    else hi = mid - 1;
  }
  throw new Error(`${value} is not in the graph`);
}

/** Sum of the unique layers' bytes: what a registry stores for the plan's store layers. */
export function registryBytes(plan: Plan): number {
  let total = 0;
  for (const layer of plan.layers) total += layer.narSize;
  return total;
}

/**
 * Layers left for store paths in each image: maxLayers - 1 (customisation layer) - base
 * image layers, with `maxLayers` overriding every image's own when given.
 */
export function storeBudgets(graph: SharedGraph, maxLayers?: number): Int32Array {
  const budgets = new Int32Array(graph.images.length);
  for (const image of graph.images) {
    const max = maxLayers ?? image.maxLayers;
    const budget = maxLayers === undefined ? image.storeBudget : max - 1 - image.baseLayers;
    if (!Number.isInteger(max) || budget < 1) throw noStoreLayer(image.ref, max, image.baseLayers);
    budgets[image.index] = budget;
  }
  return budgets;
}

/** The plan's maxLayers: the override, else the largest image's (100 with no images). */
export function planMaxLayers(graph: SharedGraph, maxLayers?: number): number {
  if (maxLayers !== undefined) return maxLayers;
  let max = 0;
  for (const image of graph.images) max = Math.max(max, image.maxLayers);
  return max > 0 ? max : 100;
}

/** Paths that are some image's root (a service's own package): they change most often. */
export function volatilePaths(graph: SharedGraph): Uint8Array {
  const volatile = new Uint8Array(graph.paths.length);
  for (const image of graph.images) for (const root of image.roots) volatile[root] = 1;
  return volatile;
}

/**
 * Rows like graph.imageSets: the images whose root each path is, i.e. whose own package the
 * planner keeps in layers of its own. Not for images given `budgets` of 2 store layers or
 * fewer: their roots would take one of two slots and leave the whole rest of the closure
 * one layer that no other image can share (more than per-image nixpkgs layering stores);
 * there the roots are packed like any path.
 */
export function rootSets(graph: SharedGraph, budgets?: ArrayLike<number>): Uint32Array {
  const { words } = graph;
  const rows = new Uint32Array(graph.paths.length * words);
  for (const image of graph.images) {
    if (budgets !== undefined && budgets[image.index]! < MIN_BUDGET_FOR_OWN_LAYERS) continue;
    for (const root of image.roots) rows[root * words + (image.index >>> 5)]! |= 1 << (image.index & 31);
  }
  return rows;
}

/** The smallest store budget at which an image's own package gets layers of its own. */
export const MIN_BUDGET_FOR_OWN_LAYERS = 3;

/** A layer before it gets its id: path ids (ascending) and the images using it. */
export interface Draft {
  paths: number[];
  users: Uint32Array;
}

function singleBit(words: number, index: number): Uint32Array {
  const row = new Uint32Array(words);
  row[index >>> 5] = 1 << (index & 31);
  return row;
}

/** Packs the paths of `membership` (rows of images needing each path) within `budgets`. */
function packMembership(graph: SharedGraph, membership: Uint32Array, budgets: ArrayLike<number>, roots: Uint32Array, churn?: Churn): Draft[] {
  const pivots = churn?.pivots;
  // The fresh plan packs exactly the rows the pivots' parts were made from.
  const { items, paths } =
    pivots && membership === graph.imageSets ? groupByParts(membership, graph.words, graph.narSize, roots, pivots) : groupPaths(membership, graph.words, graph.narSize, roots, pivots);
  const drafts = pack({ words: graph.words, budgets, items, ...(churn ? { weights: churn.weights } : {}) }).map((layer) => {
    const ids: number[] = [];
    for (const item of layer.items) for (const id of paths[item]!) ids.push(id);
    return { paths: ids.sort((a, b) => a - b), users: layer.users };
  });
  return splitLargePaths(graph, drafts, Int32Array.from(budgets));
}

function freshDrafts(graph: SharedGraph, budgets: Int32Array, roots: Uint32Array, churn?: Churn): Draft[] {
  const { words } = graph;
  let membership = graph.imageSets;
  const drafts: Draft[] = [];
  // An image allowed a single store layer gets its whole closure in it, roots included.
  const single = new Uint32Array(words);
  for (const image of graph.images) {
    if (budgets[image.index] !== 1) continue;
    single[image.index >>> 5]! |= 1 << (image.index & 31);
    drafts.push({ paths: [...image.closure], users: singleBit(words, image.index) });
  }
  if (drafts.length > 0) {
    membership = graph.imageSets.slice();
    for (let id = 0; id < graph.paths.length; id++) {
      for (let w = 0; w < words; w++) membership[id * words + w]! &= ~single[w]!;
    }
  }
  drafts.push(...packMembership(graph, membership, budgets, roots, churn));
  return drafts;
}

/**
 * Keeps the previous plan's layers that are still valid: an image keeps each of its
 * previous layers whose paths are all still in its closure; a new image reuses any
 * previous layers inside its closure (largest first). What no kept layer covers is packed
 * afresh with the layers left in each budget.
 */
function stableDrafts(graph: SharedGraph, budgets: Int32Array, roots: Uint32Array, previous: Plan, given: ReadonlySet<string>, churn?: Churn): Draft[] {
  const { words } = graph;
  const idOf = new Map<string, number>();
  graph.paths.forEach((path, id) => idOf.set(path, id));
  // Previous layers that still exist path for path.
  const valid: { index: number; paths: number[]; narSize: number }[] = [];
  const validById = new Map<string, number>();
  const layersOfPath = new Map<number, number[]>();
  for (const [index, layer] of previous.layers.entries()) {
    const ids: number[] = [];
    for (const path of layer.paths) {
      const id = idOf.get(path);
      if (id === undefined) break;
      ids.push(id);
    }
    if (ids.length !== layer.paths.length || ids.length === 0 || validById.has(layer.id) || given.has(layer.id)) continue;
    ids.sort((a, b) => a - b);
    const v = valid.length;
    valid.push({ index, paths: ids, narSize: layer.narSize });
    validById.set(layer.id, v);
    for (const id of ids) {
      const list = layersOfPath.get(id);
      if (list) list.push(v);
      else layersOfPath.set(id, [v]);
    }
  }
  const previousImages = new Map(previous.images.map((image) => [image.name, image]));
  const keptUsers = valid.map(() => new Uint32Array(words));
  const residual = new Uint32Array(graph.paths.length * words);
  const residualBudgets = new Int32Array(graph.images.length);
  const drafts: Draft[] = [];
  const covered = new Uint8Array(graph.paths.length);
  const inClosure = new Uint8Array(graph.paths.length);
  for (const image of graph.images) {
    const budget = budgets[image.index]!;
    const bit = 1 << (image.index & 31);
    const word = image.index >>> 5;
    for (const id of image.closure) inClosure[id] = 1;
    // Inside the closure, and all of it the image's roots or none (roots stay apart).
    const inside = (v: number): boolean => {
      let own = 0;
      for (const id of valid[v]!.paths) {
        if (inClosure[id] !== 1) return false;
        if ((roots[id * words + word]! & bit) !== 0) own++;
      }
      return own === 0 || own === valid[v]!.paths.length || budget === 1;
    };
    // An image keeps its own previous layers that are still inside its closure (broken
    // ones are given up whole: re-homing their surviving paths in other images' layers
    // was tried and costs budget slots the residual then lacks). A new image borrows any
    // previous layers inside its closure, largest first.
    const candidates: number[] = [];
    const before = previousImages.get(image.ref);
    if (before) {
      for (const id of before.layers) {
        const v = validById.get(id);
        if (v !== undefined && inside(v)) candidates.push(v);
      }
    } else {
      const hits = new Map<number, number>();
      for (const id of image.closure) for (const v of layersOfPath.get(id) ?? []) hits.set(v, (hits.get(v) ?? 0) + 1);
      const found = [...hits].filter(([v, n]) => n === valid[v]!.paths.length).map(([v]) => v);
      found.sort((x, y) => valid[y]!.narSize - valid[x]!.narSize || valid[x]!.index - valid[y]!.index);
      candidates.push(...found);
    }
    let kept: number[] = [];
    for (const v of candidates) {
      if (valid[v]!.paths.some((id) => covered[id] === 1)) continue;
      kept.push(v);
      for (const id of valid[v]!.paths) covered[id] = 1;
    }
    // Room for what is left: one layer per kind (its roots, the rest) at least.
    const kinds = (): number => {
      let own = 0;
      let dep = 0;
      for (const id of image.closure) {
        if (covered[id] === 1) continue;
        if ((roots[id * words + word]! & bit) !== 0) own = 1;
        else dep = 1;
      }
      return own + dep;
    };
    if (budget === 1) {
      if (!(kept.length === 1 && valid[kept[0]!]!.paths.length === image.closure.length)) {
        for (const v of kept) for (const id of valid[v]!.paths) covered[id] = 0;
        kept = [];
      }
    } else {
      let need = kinds();
      while (kept.length > 0 && budget - kept.length < need) {
        // Give back the smallest kept layer.
        let drop = 0;
        for (let k = 1; k < kept.length; k++) {
          const a = valid[kept[k]!]!;
          const b = valid[kept[drop]!]!;
          if (a.narSize < b.narSize || (a.narSize === b.narSize && a.index > b.index)) drop = k;
        }
        for (const id of valid[kept[drop]!]!.paths) covered[id] = 0;
        kept.splice(drop, 1);
        need = kinds();
      }
    }
    for (const v of kept) keptUsers[v]![word]! |= bit;
    const left = budget - kept.length;
    if (budget === 1 && kept.length === 0) {
      drafts.push({ paths: [...image.closure], users: singleBit(words, image.index) });
    } else {
      residualBudgets[image.index] = left;
      for (const id of image.closure) if (covered[id] === 0) residual[id * words + word]! |= bit;
    }
    for (const id of image.closure) {
      inClosure[id] = 0;
      covered[id] = 0;
    }
  }
  for (const [v, users] of keptUsers.entries()) {
    if (users.some((x) => x !== 0)) drafts.push({ paths: valid[v]!.paths, users });
  }
  drafts.push(...packMembership(graph, residual, residualBudgets, roots, churn));
  return drafts;
}

interface AssembleOptions {
  maxLayers: number;
  heights: Uint32Array;
  /** Previous plan's layer positions: kept layers keep their relative order. */
  previousOrder?: ReadonlyMap<string, number>;
}

/** Names, deduplicates and orders draft layers and lists each image's layers bottom-first. */
export function assemble(graph: SharedGraph, drafts: readonly Draft[], options: AssembleOptions): Plan {
  const { words } = graph;
  const byId = new Map<string, { paths: number[]; users: Uint32Array; key: OrderKey; narSize: number }>();
  const volatile = volatilePaths(graph);
  const rows = new RowPool(words);
  for (const draft of drafts) {
    const paths = draft.paths.map((id) => graph.paths[id]!);
    const id = layerId(paths);
    const seen = byId.get(id);
    if (seen) {
      for (let w = 0; w < words; w++) seen.users[w]! |= draft.users[w]!;
      continue;
    }
    let height = 0;
    let narSize = 0;
    let vol = true;
    for (const p of draft.paths) {
      height = Math.max(height, options.heights[p]!);
      narSize += graph.narSize[p]!;
      if (volatile[p] === 0) vol = false;
    }
    byId.set(id, { paths: draft.paths, users: rows.copy(draft.users), narSize, key: { volatile: vol, users: 0, height, id } });
  }
  const entries = [...byId.values()];
  for (const entry of entries) entry.key.users = bits(entry.users).length;
  let ordered: typeof entries;
  const previousOrder = options.previousOrder;
  if (previousOrder) {
    const kept = entries.filter((e) => previousOrder.has(e.key.id)).sort((a, b) => previousOrder.get(a.key.id)! - previousOrder.get(b.key.id)!);
    const fresh = entries.filter((e) => !previousOrder.has(e.key.id)).sort((a, b) => compareOrderKeys(a.key, b.key));
    ordered = [];
    let i = 0;
    let j = 0;
    while (i < kept.length || j < fresh.length) {
      if (j >= fresh.length || (i < kept.length && compareOrderKeys(kept[i]!.key, fresh[j]!.key) <= 0)) ordered.push(kept[i++]!);
      else ordered.push(fresh[j++]!);
    }
  } else {
    ordered = entries.sort((a, b) => compareOrderKeys(a.key, b.key));
  }
  const images: PlanImage[] = graph.images.map((image) => ({ name: image.ref, layers: [] }));
  const layers: PlanLayer[] = ordered.map((entry) => {
    const users = bits(entry.users);
    for (const u of users) images[u]!.layers.push(entry.key.id);
    return {
      id: entry.key.id,
      paths: entry.paths.map((id) => graph.paths[id]!),
      narSize: entry.narSize,
      images: users.map((u) => graph.images[u]!.ref),
    };
  });
  return { maxLayers: options.maxLayers, storeDir: graph.storeDir, layers, images };
}
