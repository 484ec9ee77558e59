/**
 * Push benchmark (issue: push to registries). Builds an OCI layout of images that share
 * layers the way monorepo services do (a base, two runtimes, one big shared layer, an app
 * layer each), then pushes all of it to a fresh Debian docker-registry on 127.0.0.1 two
 * ways, in the same run:
 *
 *   planner   `planner push` (the built CLI) of every image at once;
 *   baseline  `skopeo copy oci:L:<ref> docker://R/<name>:<tag>` for each image in turn.
 *
 * Bytes: a counting proxy in front of the registry adds up the request bodies each way
 * sends (a separate pass, so it does not slow the timed runs), reported against the unique
 * blob bytes (target: planner 1.00x: every blob and every manifest sent exactly once). Wall time: median of --runs timed runs each way,
 * alternating which goes first, each on a fresh registry (target: planner <= 1.0x skopeo).
 *
 *   node scripts/build.mjs && npx tsx bench/push/push.ts [--images 8] [--base-mib 24] [--big-mib 48] [--app-mib 2] [--runs 3]
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { monorepoImages, writeLayout } from '../../test/registry/helpers/layout.js';
import { startProxy } from '../../test/registry/helpers/proxy.js';
import { startRegistry, type TestRegistry } from '../../test/registry/helpers/registry.js';

const run = promisify(execFile);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const plannerBin = path.join(root, 'apps/planner/dist/planner.js');

const { values } = parseArgs({
  options: {
    images: { type: 'string', default: '8' },
    'base-mib': { type: 'string', default: '24' },
    'big-mib': { type: 'string', default: '48' },
    'app-mib': { type: 'string', default: '2' },
    runs: { type: 'string', default: '3' },
  },
});
const MiB = 1024 * 1024;
const runs = Number(values.runs);
const work = mkdtempSync(path.join(tmpdir(), 'planner-bench-push-'));
const fmt = (bytes: number): string => `${(bytes / MiB).toFixed(1)} MiB`;

const layout = writeLayout(
  path.join(work, 'oci'),
  monorepoImages({ images: Number(values.images), baseSize: Number(values['base-mib']) * MiB, appSize: Number(values['app-mib']) * MiB, bigSize: Number(values['big-mib']) * MiB }),
);
const unique = new Map<string, number>();
let perImage = 0;
for (const image of layout.images) {
  for (const b of [image.config, ...image.layers]) {
    unique.set(b.digest, b.size);
    perImage += b.size;
  }
}
const uniqueBytes = [...unique.values()].reduce((s, n) => s + n, 0);
// Each image's manifest is a request body too (PUT /manifests): sent once per image either way.
const manifestBytes = layout.images.reduce((sum, image) => sum + layout.blobs.get(image.manifestDigest)!, 0);
const uploadBytes = uniqueBytes + manifestBytes;
console.log(`${layout.images.length} images, ${unique.size} unique blobs: ${fmt(uniqueBytes)} unique, ${fmt(perImage)} summed over images`);

let registryCount = 0;
async function freshRegistry(): Promise<TestRegistry> {
  return startRegistry(path.join(work, `registry-${registryCount++}`));
}

async function planner(host: string): Promise<void> {
  await run(process.execPath, [plannerBin, 'push', '--out', layout.dir, '--registry', `${host}/bench`, '--json'], { maxBuffer: 64 << 20 });
}

async function skopeo(host: string): Promise<void> {
  for (const image of layout.images) {
    const [name, tag] = image.ref.split(':');
    await run('skopeo', ['copy', '--quiet', '--dest-tls-verify=false', `oci:${layout.dir}:${image.ref}`, `docker://${host}/bench/${name}:${tag}`]);
  }
}

const ways = { planner, skopeo } as const;
type Way = keyof typeof ways;

async function bytesOf(way: Way): Promise<number> {
  const registry = await freshRegistry();
  const proxy = await startProxy({ upstream: registry.host });
  try {
    await ways[way](proxy.host);
    return proxy.bodyBytes();
  } finally {
    await proxy.close();
    await registry.stop();
  }
}

async function timeOf(way: Way): Promise<number> {
  const registry = await freshRegistry();
  try {
    const t0 = performance.now();
    await ways[way](registry.host);
    return performance.now() - t0;
  } finally {
    await registry.stop();
  }
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

try {
  const plannerBytes = await bytesOf('planner');
  const skopeoBytes = await bytesOf('skopeo');
  console.log('\nbytes uploaded (request bodies reaching the registry)');
  console.log(`  unique blob bytes     ${fmt(uniqueBytes)}  (+ ${manifestBytes} B of manifests: ${uploadBytes} B to send at least)`);
  console.log(`  planner push          ${fmt(plannerBytes)}  ${(plannerBytes / uniqueBytes).toFixed(2)}x unique`);
  console.log(`  skopeo copy x${layout.images.length}        ${fmt(skopeoBytes)}  ${(skopeoBytes / uniqueBytes).toFixed(2)}x unique`);
  console.log(`  planner / skopeo      ${(plannerBytes / skopeoBytes).toFixed(2)}x`);
  console.log(`  planner sent ${plannerBytes - uploadBytes} B more than every blob and manifest once`);

  const times: Record<Way, number[]> = { planner: [], skopeo: [] };
  for (let i = 0; i < runs; i++) {
    const order: Way[] = i % 2 === 0 ? ['skopeo', 'planner'] : ['planner', 'skopeo'];
    for (const way of order) times[way].push(await timeOf(way));
  }
  const p = median(times.planner);
  const s = median(times.skopeo);
  console.log(`\nwall time, median of ${runs} runs each on a fresh registry`);
  console.log(`  planner push          ${(p / 1000).toFixed(2)} s  (${times.planner.map((t) => (t / 1000).toFixed(2)).join(', ')})`);
  console.log(`  skopeo copy x${layout.images.length}        ${(s / 1000).toFixed(2)} s  (${times.skopeo.map((t) => (t / 1000).toFixed(2)).join(', ')})`);
  console.log(`  planner / skopeo      ${(p / s).toFixed(2)}x  (target <= 1.00x)`);
  console.log(`\nbytes ${(plannerBytes / uniqueBytes).toFixed(2)}x unique (target 1.00x); time ${(p / s).toFixed(2)}x skopeo (target <= 1.00x)`);
  if (plannerBytes !== uploadBytes || p > s) process.exitCode = 1;
} finally {
  rmSync(work, { recursive: true, force: true });
}
