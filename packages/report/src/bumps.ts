import { referrersOf, type SharedGraph } from '@planner/graph';
import type { Plan } from '@planner/layering';
import { ratio, usedLayerIds } from './measures.js';
import type { StrategyPlans } from './report.js';
import { STRATEGIES } from './strategies.js';
import type { BumpReport } from './types.js';

/**
 * What bumping each of the `count` most widely used libraries would push again, per
 * strategy. A bump gives the library and every path depending on it new store paths (new
 * hashes, as Nix does); every layer holding one of them gets a new digest and is pushed
 * again whole, unchanged paths included. Measured on the plans as they are: the bytes of the
 * distinct layers holding a changed path, against the changed bytes themselves (what the
 * lower bound pushes: nothing can push less). It is the push of an update that keeps the
 * layers' grouping, which is what the lock does for the planner (re-planning may regroup
 * the changed paths: bench/layering/churn.ts measures that).
 *
 * The libraries: paths that are no image's root, in the most images short of all of them (a
 * path in every image, like libc, changes nearly everything whatever the layering), ties
 * broken by the most dependents, then by path. Counting dependents is a search per path of a
 * popularity level that is needed (each costs what it visits), so a workspace of two images,
 * where every path but the roots sits at one level, costs one search per path.
 */
export function libraryBumps(graph: SharedGraph, plans: StrategyPlans, count: number): BumpReport[] {
  if (count <= 0) return [];
  const n = graph.paths.length;
  const isRoot = new Uint8Array(n);
  for (const image of graph.images) for (const root of image.roots) isRoot[root] = 1;
  const users = referrersOf(graph);
  // One visited array for every search, told apart by a stamp: a search costs what it visits.
  const stamp = new Uint32Array(n);
  let round = 0;
  const dependents = (id: number, collect?: number[]): number => {
    round++;
    const stack = [id];
    stamp[id] = round;
    let found = 0;
    while (stack.length > 0) {
      const x = stack.pop()!;
      found++;
      collect?.push(x);
      for (const u of users[x]!) {
        if (stamp[u] !== round) {
          stamp[u] = round;
          stack.push(u);
        }
      }
    }
    return found;
  };
  // Candidates by popularity; dependents are counted only for the popularity levels needed.
  const candidates: number[] = [];
  for (let id = 0; id < n; id++) if (isRoot[id] === 0 && graph.popularity[id]! < graph.images.length) candidates.push(id);
  candidates.sort((a, b) => graph.popularity[b]! - graph.popularity[a]! || a - b);
  const chosen: number[] = [];
  for (let at = 0; at < candidates.length && chosen.length < count;) {
    const level = graph.popularity[candidates[at]!]!;
    const tied: { id: number; size: number }[] = [];
    while (at < candidates.length && graph.popularity[candidates[at]!] === level) {
      const id = candidates[at++]!;
      tied.push({ id, size: dependents(id) });
    }
    tied.sort((a, b) => b.size - a.size || a.id - b.id);
    for (const t of tied.slice(0, count - chosen.length)) chosen.push(t.id);
  }
  // Plans cover every path of every closure (verifyPlan), so every changed path is in some
  // layer of each strategy and no strategy pushes less than the changed bytes.
  const index = new Map<string, number>();
  graph.paths.forEach((p, id) => index.set(p, id));
  const layerSets = STRATEGIES.filter(({ id }) => id !== 'lower-bound').map(({ id }) => ({ id, layers: pathLayers(index, plans[id]) }));
  return chosen.map((id) => {
    const changed: number[] = [];
    dependents(id, changed);
    let changedBytes = 0;
    for (const p of changed) changedBytes += graph.narSize[p]!;
    const push = layerSets.map(({ id: strategy, layers }) => {
      const touched = new Set<number>();
      for (const p of changed) for (const layer of layers.of[p] ?? []) touched.add(layer);
      let bytes = 0;
      for (const layer of touched) bytes += layers.size[layer]!;
      return { id: strategy, bytes, ratioToChanged: ratio(bytes, changedBytes) };
    });
    // What any plan must push: the changed bytes themselves.
    push.push({ id: 'lower-bound', bytes: changedBytes, ratioToChanged: ratio(changedBytes, changedBytes) });
    return { path: graph.paths[id]!, images: graph.popularity[id]!, changedPaths: changed.length, changedBytes, push };
  });
}

/** For each path id, the (used, distinct) layers of the plan holding it, and each layer's bytes. */
function pathLayers(index: ReadonlyMap<string, number>, plan: Plan): { of: number[][]; size: number[] } {
  const used = usedLayerIds(plan);
  const of: number[][] = [];
  const size: number[] = [];
  const seen = new Set<string>();
  for (const layer of plan.layers) {
    if (!used.has(layer.id) || seen.has(layer.id)) continue;
    seen.add(layer.id);
    const k = size.length;
    size.push(layer.narSize);
    for (const p of layer.paths) {
      const id = index.get(p);
      if (id !== undefined) (of[id] ??= []).push(k);
    }
  }
  return { of, size };
}
