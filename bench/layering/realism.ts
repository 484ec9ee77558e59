/**
 * How realistic are the generated workspaces? Prints, for debian-120 (a real package graph)
 * and each generated workspace, the structure that decides how hard layer planning is:
 * closure sizes, the number of distinct image sets per image (what has to fit the layer
 * budget), the share of unique bytes private to one image, how often a byte is shared, and
 * what nixpkgs' per-image layering stores at maxLayers 100 (the brief quotes 1.6x to 3x
 * the unique bytes on a real 200-service graph; the issue quotes 1.41x to 1.92x on
 * debian-120). The `monorepo` profile was calibrated on these figures alone, never on
 * planner's results.
 *
 *   npx tsx bench/layering/realism.ts [--workspace debian-120,monorepo-120,monorepo-1000,stress-120,stress-1000] [--seed 1]
 */
import { parseArgs } from 'node:util';
import { buildSharedGraph } from '@planner/graph';
import { baselinePlan, registryBytes } from '@planner/layering';
import { benchWorkspace } from '../lib/workspaces.js';

const { values } = parseArgs({
  options: {
    workspace: { type: 'string', default: 'debian-120,monorepo-120,monorepo-1000,stress-120,stress-1000' },
    seed: { type: 'string', default: '1' },
  },
});

const quantiles = (values: number[]): string => {
  const s = [...values].sort((a, b) => a - b);
  const at = (p: number): number => s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
  return `${at(0.5)} / ${at(0.9)} / ${s.at(-1)}`;
};

const header = ['workspace', 'images', 'paths', 'closure p50/p90/max', 'image sets p50/p90/max', 'private', 'shared by', 'auto-layer', 'popularity'];
const widths = [14, 7, 7, 20, 24, 8, 10, 11, 11];
const row = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' ');
console.log(row(header));
for (const name of values.workspace.split(',')) {
  const ws = await benchWorkspace(name, Number(values.seed));
  const graph = buildSharedGraph(ws.closures, ws.images);
  const { words } = graph;
  const sets = graph.images.map(() => new Set<string>());
  let unique = 0;
  let summed = 0;
  let privateBytes = 0;
  for (let id = 0; id < graph.paths.length; id++) {
    const row = graph.imageSets.subarray(id * words, id * words + words);
    const key = row.join(',');
    let users = 0;
    for (let w = 0; w < words; w++) {
      for (let bitsLeft = row[w]!; bitsLeft !== 0; bitsLeft &= bitsLeft - 1) {
        sets[w * 32 + 31 - Math.clz32(bitsLeft & -bitsLeft)]!.add(key);
        users++;
      }
    }
    const size = graph.narSize[id]!;
    unique += size;
    summed += users * size;
    if (users === 1) privateBytes += size;
  }
  const perImage = (kind: 'auto-layer' | 'popularity'): string => `${(registryBytes(baselinePlan(graph, kind, { maxLayers: 100 })) / unique).toFixed(2)}x`;
  console.log(
    row([
      name,
      String(graph.images.length),
      String(graph.paths.length),
      quantiles(graph.images.map((i) => i.closure.length)),
      quantiles(sets.map((s) => s.size)),
      `${((100 * privateBytes) / unique).toFixed(0)}%`,
      `${(summed / unique).toFixed(1)}`,
      perImage('auto-layer'),
      perImage('popularity'),
    ]),
  );
}
console.log('\nimage sets: distinct sets of images among the paths of one closure (one layer each stores every byte once).');
console.log('private: unique bytes in one image only. shared by: images holding the average byte.');
console.log('auto-layer, popularity: registry bytes / unique bytes of nixpkgs per-image layering at maxLayers 100.');
