/**
 * Churn benchmark (issue: joint layer planning). Applies updates to a workspace and
 * re-plans with the previous plan as the lock, measuring what an update pushes against
 * what actually changed. Prints ratios, not times.
 *
 *   npx tsx bench/layering/churn.ts [--workspace debian-120,monorepo-120,stress-120] [--max-layers 100,40] [--seed 1]
 *                                   [--churn-weight 0.02] [--others 6]
 *
 * Scenarios and targets:
 *  (a) one service's own package rebuilt: new layer bytes <= 1.05x the changed paths' bytes;
 *  (b) a new service added: no existing image's layer list changes;
 *  (c) a widely used library bumped (it and every path depending on it get new hashes):
 *      new layer bytes <= 1.10x the changed paths' bytes, storage within 2% of a fresh plan
 *      (the second part holds by construction: the planner gives up kept layers beyond its 2%
 *      tolerance, PlanOptions.tolerance; it is printed and checked as a guard, not a finding).
 * "fresh push" is what planning without the lock would push, for comparison. (c') bumps, one
 * at a time, `--others` more widely used libraries (every 7th non-root path by popularity,
 * short of all images) and prints pushed / changed for each and their mean: no target, it
 * shows whether (c) holds for libraries other than the one the target names.
 * `--churn-weight` is planner's (PlanOptions.churnWeight); 0 plans for storage alone.
 */
import { parseArgs } from 'node:util';
import { buildSharedGraph, type SharedGraph } from '@planner/graph';
import { plan, planWithStats, type Plan } from '@planner/layering';
import { addService, dependentsOf, rebuild, rebuildService, storeOf, widelyUsedLibrary, type Update } from '../lib/churn.js';
import { benchWorkspace, type BenchWorkspace } from '../lib/workspaces.js';

const { values } = parseArgs({
  options: {
    workspace: { type: 'string', default: 'debian-120,monorepo-120,stress-120' },
    'max-layers': { type: 'string', default: '100,40' },
    seed: { type: 'string', default: '1' },
    'churn-weight': { type: 'string' },
    others: { type: 'string', default: '6' },
  },
});
const seed = Number(values.seed);
const weight = values['churn-weight'] === undefined ? {} : { churnWeight: Number(values['churn-weight']) };

const load = (name: string): Promise<BenchWorkspace> => benchWorkspace(name, seed);

function newBytes(next: Plan, previous: Plan): number {
  const known = new Set(previous.layers.map((l) => l.id));
  let bytes = 0;
  for (const layer of next.layers) if (!known.has(layer.id)) bytes += layer.narSize;
  return bytes;
}

function changedBytes(graph: SharedGraph, added: Set<string>): number {
  let bytes = 0;
  graph.paths.forEach((p, id) => {
    if (added.has(p)) bytes += graph.narSize[id]!;
  });
  return bytes;
}

/** The first image (by ref) whose roots are its own: nobody else contains or needs them. */
function serviceWithOwnPackage(ws: BenchWorkspace): string {
  const store = storeOf(ws);
  for (const image of ws.images) {
    if (dependentsOf(store, image.roots).size !== image.roots.length) continue;
    if (ws.images.some((other) => other !== image && image.roots.some((r) => ws.closures.get(other.ref)!.has(r)))) continue;
    return image.ref;
  }
  throw new Error('no service owns its roots');
}

const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
let misses = 0;
for (const name of values.workspace.split(',')) {
  const ws = await load(name);
  const graph0 = buildSharedGraph(ws.closures, ws.images);
  for (const maxLayers of values['max-layers'].split(',').map(Number)) {
    const previous = plan(graph0, { maxLayers, ...weight });
    console.log(`\n${name}, maxLayers ${maxLayers}: ${previous.layers.length} layers`);
    const scenario = (label: string, update: Update, check: (r: { ratio: number; storage: number; changedImages: number }) => string[]): void => {
      const graph = buildSharedGraph(update.ws.closures, update.ws.images);
      const result = planWithStats(graph, { maxLayers, previous, ...weight });
      const fresh = plan(graph, { maxLayers, ...weight });
      const changed = changedBytes(graph, update.added);
      const pushed = newBytes(result.plan, previous);
      const before = new Map(previous.images.map((i) => [i.name, i.layers.join(',')]));
      const changedImages = result.plan.images.filter((i) => before.has(i.name) && before.get(i.name) !== i.layers.join(',')).length;
      const r = { ratio: pushed / changed, storage: result.stats.registryBytes / result.stats.freshRegistryBytes, changedImages };
      const failed = check(r);
      if (failed.length > 0) misses++;
      console.log(
        `  ${label.padEnd(38)} changed ${mib(changed).padStart(11)}  pushed ${mib(pushed).padStart(11)} (${r.ratio.toFixed(3)}x)  ` +
          `fresh push ${(newBytes(fresh, previous) / changed).toFixed(2)}x  storage ${r.storage.toFixed(4)}x fresh  ` +
          `${changedImages} existing image(s) changed  [${result.stats.mode}] ${failed.length ? `MISSED: ${failed.join('; ')}` : 'ok'}`,
      );
    };
    const own = serviceWithOwnPackage(ws);
    scenario(`(a) rebuild ${own.split(':')[0]}`, rebuildService(ws, own, seed), (r) => [...(r.ratio <= 1.05 ? [] : ['pushed > 1.05x changed'])]);
    scenario('(b) add a service', addService(ws, 'newsvc', seed), (r) => (r.changedImages === 0 ? [] : ['existing layer lists changed']));
    const library = widelyUsedLibrary(ws);
    const short = library.slice(library.indexOf('-') + 1);
    scenario(`(c) bump ${short.length > 28 ? `${short.slice(0, 27)}…` : short}`, rebuild(ws, [library], seed), (r) => [
      ...(r.ratio <= 1.1 ? [] : ['pushed > 1.10x changed']),
      ...(r.storage <= 1.02 ? [] : ['storage > 1.02x fresh']),
    ]);
    const ratios = otherLibraries(graph0, library, Number(values.others)).map((other) => {
      const update = rebuild(ws, [other], seed);
      const graph = buildSharedGraph(update.ws.closures, update.ws.images);
      return newBytes(planWithStats(graph, { maxLayers, previous, ...weight }).plan, previous) / changedBytes(graph, update.added);
    });
    if (ratios.length > 0) {
      const mean = ratios.reduce((a, b) => a + b, 0) / ratios.length;
      console.log(`  ${"(c') bump other widely used libraries".padEnd(38)} pushed / changed ${ratios.map((x) => x.toFixed(2)).join(' ')}  mean ${mean.toFixed(3)}x`);
    }
  }
}

/** Every 7th non-root path by popularity (short of all images), skipping `library`. */
function otherLibraries(graph: SharedGraph, library: string, count: number): string[] {
  const roots = new Set<number>();
  for (const image of graph.images) for (const r of image.roots) roots.add(r);
  const ids: number[] = [];
  graph.paths.forEach((path, id) => {
    if (!roots.has(id) && graph.popularity[id]! < graph.images.length && path !== library) ids.push(id);
  });
  ids.sort((a, b) => graph.popularity[b]! - graph.popularity[a]! || a - b);
  return ids
    .filter((_, k) => k % 7 === 0)
    .slice(0, count)
    .map((id) => graph.paths[id]!);
}
console.log(misses === 0 ? '\nall churn targets met' : `\n${misses} scenario(s) missed a target`);
