/**
 * Loading benchmark (issue: foundation). Generates a 1,000-service, 50,000-path workspace of
 * closure files and compares planner's whole load (config, discovery, schema validation,
 * closure parsing and checks, shared graph with bitsets and the graphology graph) with a
 * plain JSON.parse of the same files, measured in the same run. Target: at most 3x.
 *
 *   npx tsx bench/loading/load.ts [--images 1000] [--paths 50000] [--runs 5]
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadClosures } from '@planner/closure';
import { buildSharedGraph, graphFigures } from '@planner/graph';
import { loadWorkspace } from '@planner/workspace';
import { generateWorkspace, toPathInfoArray } from '../lib/generate.js';

const { values } = parseArgs({
  options: {
    images: { type: 'string', default: '1000' },
    paths: { type: 'string', default: '50000' },
    runs: { type: 'string', default: '5' },
  },
});
const images = Number(values.images);
const paths = Number(values.paths);
const runs = Number(values.runs);

const dir = path.join(tmpdir(), `planner-bench-load-${images}-${paths}`);
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
const ws = generateWorkspace({ images, paths, seed: 7 });
writeFileSync(path.join(dir, 'planner.config.json'), JSON.stringify({ services: ['services/*/image.json'] }));
let bytes = 0;
for (const image of ws.images) {
  const sdir = path.join(dir, 'services', image.name);
  mkdirSync(sdir, { recursive: true });
  writeFileSync(path.join(sdir, 'image.json'), JSON.stringify({ name: image.name, tag: image.tag, contents: image.roots, closure: 'closure.json' }));
  const text = JSON.stringify(toPathInfoArray(ws.closures.get(image.ref)!));
  bytes += text.length;
  writeFileSync(path.join(sdir, 'closure.json'), text);
}
const files = ws.images.map((i) => path.join(dir, 'services', i.name, 'closure.json'));

async function baseline(): Promise<number> {
  const t = performance.now();
  const parsed = await Promise.all(files.map(async (f) => JSON.parse(await readFile(f, 'utf8')) as unknown[]));
  if (parsed.length !== files.length) throw new Error('unreachable');
  return performance.now() - t;
}

let figures: ReturnType<typeof graphFigures>['totals'] | undefined;
async function ours(): Promise<number> {
  const t = performance.now();
  const workspace = await loadWorkspace({ cwd: dir });
  const loaded = await loadClosures(
    workspace.services.map((s) => ({ ref: s.ref, file: s.manifestPath, dir: s.dir, contents: s.manifest.contents, closureFile: s.closureFile! })),
    { storeDir: workspace.config.storeDir, cwd: dir },
  );
  const graph = buildSharedGraph(
    new Map(loaded.map((c) => [c.ref, c.closure])),
    workspace.services.map((s, i) => ({ ref: s.ref, name: s.name, tag: s.tag, roots: loaded[i]!.roots, maxLayers: s.maxLayers, baseLayers: 0 })),
    { storeDir: workspace.config.storeDir },
  );
  const elapsed = performance.now() - t;
  figures = graphFigures(graph).totals;
  return elapsed;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const a: number[] = [];
const b: number[] = [];
await baseline();
await ours(); // warm-up
for (let i = 0; i < runs; i++) {
  a.push(await baseline());
  b.push(await ours());
}
const ratio = median(b) / median(a);
console.log(`workspace: ${images} images, ${figures!.uniquePaths} unique paths, ${figures!.closurePaths} closure entries, ${(bytes / 2 ** 20).toFixed(0)} MiB of closure JSON`);
console.log(`JSON.parse of the same files   median ${median(a).toFixed(0)} ms`);
console.log(`planner load (validated graph) median ${median(b).toFixed(0)} ms`);
console.log(`ratio: ${ratio.toFixed(2)}x plain JSON.parse (target <= 3x) ${ratio <= 3 ? 'OK' : 'OVER TARGET'}`);
console.log(`peak RSS ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB`);
rmSync(dir, { recursive: true, force: true });
