/**
 * Speed benchmark (issue: joint layer planning). Plans a generated workspace of 1,000
 * images over ~50,000 unique paths (closures up to 2,000 paths, power-law popularity) and
 * reports the time and memory of planner's joint plan next to our reimplementation of
 * nixpkgs' auto-layer run on every image, measured in the same run (a ratio, so a slower
 * or busier machine moves both). Targets: planning under 2 s and 1 GiB on 2 cores. Also
 * times the plan for storage alone (churnWeight 0, no pivots), to show what weighing
 * update churn costs.
 *
 *   npx tsx bench/layering/speed.ts [--images 1000] [--paths 50000] [--max-layers 100] [--runs 3] [--seed 1]
 */
import { parseArgs } from 'node:util';
import { buildSharedGraph } from '@planner/graph';
import { autoLayers, plan, storeBudgets } from '@planner/layering';
import { generateWorkspace } from '../lib/generate.js';

const { values } = parseArgs({
  options: {
    images: { type: 'string', default: '1000' },
    paths: { type: 'string', default: '50000' },
    'max-layers': { type: 'string', default: '100' },
    runs: { type: 'string', default: '3' },
    seed: { type: 'string', default: '1' },
  },
});
const images = Number(values.images);
const maxLayers = Number(values['max-layers']);
const runs = Number(values.runs);

const ws = generateWorkspace({ images, paths: Number(values.paths), seed: Number(values.seed) });
const graph = buildSharedGraph(ws.closures, ws.images);
const closures = graph.images.map((i) => i.closure.length).sort((a, b) => a - b);
console.log(`${graph.images.length} images, ${graph.paths.length} unique paths, closures ${closures[0]}..${closures.at(-1)} paths (median ${closures[closures.length >> 1]}), maxLayers ${maxLayers}`);

interface Sample {
  wall: number;
  cpu: number;
}
function measure(fn: () => void): Sample {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  fn();
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { wall, cpu: (cpu.user + cpu.system) / 1000 };
}
const best = (samples: Sample[]): Sample => samples.reduce((a, b) => (b.wall < a.wall ? b : a));

// Peak RSS of the whole process: the generated workspace, the graph (with its graphology
// copy) and planning. Planning alone is the growth of the peak once the graph is built.
const peakBefore = process.resourceUsage().maxRSS * 1024;
const ours: Sample[] = [];
let layers = 0;
for (let r = 0; r < runs; r++) ours.push(measure(() => (layers = plan(graph, { maxLayers }).layers.length)));
const maxRss = process.resourceUsage().maxRSS * 1024;
const storageOnly: Sample[] = [];
for (let r = 0; r < runs; r++) storageOnly.push(measure(() => plan(graph, { maxLayers, churnWeight: 0 })));

const budgets = storeBudgets(graph, maxLayers);
const auto: Sample[] = [];
for (let r = 0; r < runs; r++) auto.push(measure(() => graph.images.forEach((image) => autoLayers(graph, image, budgets[image.index]!))));

const a = best(ours);
const b = best(auto);
const gib = (bytes: number): string => `${(bytes / 2 ** 30).toFixed(2)} GiB`;
console.log(`planner (joint plan, ${layers} layers): ${(a.wall / 1000).toFixed(2)} s wall, ${(a.cpu / 1000).toFixed(2)} s cpu (best of ${runs})`);
const s = best(storageOnly);
console.log(`planner for storage alone (churnWeight 0): ${(s.wall / 1000).toFixed(2)} s wall, ${(s.cpu / 1000).toFixed(2)} s cpu (best of ${runs})`);
console.log(`auto-layer per image (${graph.images.length} runs): ${(b.wall / 1000).toFixed(2)} s wall, ${(b.cpu / 1000).toFixed(2)} s cpu (best of ${runs})`);
console.log(`ratio planner / auto-layer: ${(a.wall / b.wall).toFixed(2)}x wall`);
console.log(
  `memory: process peak RSS ${gib(maxRss)} with the workspace and graph loaded (${gib(peakBefore)} before planning; planning raised the peak by ${gib(maxRss - peakBefore)}, 0 when it stayed below what loading reached)`,
);
const ok = a.wall < 2000 && maxRss < 2 ** 30;
console.log(ok ? 'target met: under 2 s and 1 GiB' : `target MISSED: ${a.wall >= 2000 ? 'over 2 s' : ''} ${maxRss >= 2 ** 30 ? 'over 1 GiB' : ''}`);
