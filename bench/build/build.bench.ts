/**
 * planner build benchmarks, as ratios against baselines measured in the same run on the same
 * machine (no absolute timing is asserted anywhere):
 *
 *  1. cold build throughput vs the faster of `tar --sort=name | gzip -6` and `tar | pigz`
 *     over the same store paths (target >= 0.9x);
 *  2. bytes compressed for N images sharing layers vs per-image builds compressing every
 *     image's closure (target: the plan's distinct layers, each compressed once, 1.00x);
 *  3. rebuild with nothing changed vs the cold build, whole CLI, best of the same rounds (target <= 5%);
 *  4. one service changed: only its new layers are built.
 *
 * Run: npx tsx bench/build/build.bench.ts [--json] [--keep]
 * Store paths are real: Nix copies parts of the Go 1.19 toolchain (text and binaries).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const bin = path.join(root, 'apps/planner/dist/planner.js');
const NIX = ['--extra-experimental-features', 'nix-command flakes'];
const asJson = process.argv.includes('--json');
const log = (line: string): void => {
  if (!asJson) process.stderr.write(`${line}\n`);
};

const STORE = `
let run = name: script: derivation {
  inherit name; system = builtins.currentSystem; builder = "/bin/sh";
  args = [ "-c" script ]; PATH = "/usr/bin:/bin";
}; in {
  srccmd = run "bench-go-src-cmd" "mkdir -p $out && cp -r /usr/share/go-1.19/src/cmd $out/";
  srcrest = run "bench-go-src-rest" "mkdir -p $out && cd /usr/share/go-1.19/src && for d in *; do [ $d = cmd ] || cp -r $d $out/; done";
  tool = run "bench-go-tool" "mkdir -p $out && cp -r /usr/lib/go-1.19/pkg/tool $out/";
  tests = run "bench-go-tests" "mkdir -p $out && cp -r /usr/share/go-1.19/test /usr/share/go-1.19/api /usr/share/go-1.19/misc $out/";
  bin = run "bench-go-bin" "mkdir -p $out && cp -r /usr/lib/go-1.19/bin $out/";
  changed = run "bench-changed-service" "mkdir -p $out/bin && head -c 3000000 /usr/lib/go-1.19/bin/go > $out/bin/svc && echo v2 > $out/version";
}
`;

function nix(args: string[], cwd: string): string {
  return execFileSync('nix', [...NIX, ...args], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 26 });
}

function ms(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e6;
}

function timed(cmd: string, args: string[], options: { cwd?: string } = {}): { ms: number; stdout: string } {
  const start = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 28, ...options, env: { ...process.env, NO_COLOR: '1' } });
  const elapsed = ms(start);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return { ms: elapsed, stdout: r.stdout };
}

function planner(args: string[], cwd: string): { ms: number; data: any } {
  const r = timed(process.execPath, [bin, ...args, '--json'], { cwd });
  return { ms: r.ms, data: JSON.parse(r.stdout) };
}

const work = mkdtempSync(path.join(os.tmpdir(), 'planner-bench-build-'));
try {
  spawnSync(process.execPath, [path.join(root, 'scripts/build.mjs'), '--quiet'], { stdio: 'inherit' });
  writeFileSync(path.join(work, 'store.nix'), STORE);
  nix(['build', '--no-link', '-f', 'store.nix', 'srccmd', 'srcrest', 'tool', 'tests', 'bin', 'changed'], work);
  const outPath = (attr: string): string => JSON.parse(nix(['eval', '--json', '-f', 'store.nix', `${attr}.outPath`], work)) as string;
  const p = Object.fromEntries(['srccmd', 'srcrest', 'tool', 'tests', 'bin', 'changed'].map((a) => [a, outPath(a)])) as Record<string, string>;
  const services: Record<string, string[]> = {
    alpha: [p.srccmd!, p.srcrest!, p.bin!],
    beta: [p.srcrest!, p.tool!, p.bin!],
    gamma: [p.tests!, p.bin!, p.tool!],
    delta: [p.srccmd!, p.tests!],
  };
  const ws = path.join(work, 'ws');
  const writeServices = (s: Record<string, string[]>): void => {
    for (const [name, contents] of Object.entries(s)) {
      mkdirSync(path.join(ws, 'services', name), { recursive: true });
      writeFileSync(path.join(ws, 'services', name, 'image.json'), JSON.stringify({ name, tag: '1', contents }));
    }
  };
  mkdirSync(ws, { recursive: true });
  writeFileSync(path.join(ws, 'planner.config.json'), JSON.stringify({ maxLayers: 10 }));
  writeServices(services);
  const unique = [p.srccmd!, p.srcrest!, p.tool!, p.tests!, p.bin!].sort();
  const rel = unique.map((x) => x.slice(1));
  // Warm the page cache for everyone alike.
  timed('tar', ['-cf', '/dev/null', '-C', '/', ...rel]);

  log(`store paths: ${unique.length}, ${Object.keys(services).length} images, ${os.availableParallelism()} cores`);
  const tarBytes = Number(timed('bash', ['-c', `tar --sort=name -cf - -C / ${rel.join(' ')} | wc -c`]).stdout.trim());
  // Other work on the machine makes single timings noisy: alternate the three contenders
  // for a few rounds and keep each one's best time.
  const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
  const best = { gzip: Infinity, pigz: Infinity, cli: Infinity, build: Infinity };
  let gzipBytes = 0;
  let cold: { ms: number; data: any } | undefined;
  for (let round = 0; round < rounds; round++) {
    const g = timed('bash', ['-c', `tar --sort=name -cf - -C / ${rel.join(' ')} | gzip -6 | wc -c`]);
    gzipBytes = Number(g.stdout.trim());
    best.gzip = Math.min(best.gzip, g.ms);
    best.pigz = Math.min(best.pigz, timed('bash', ['-c', `tar --sort=name -cf - -C / ${rel.join(' ')} | pigz -6 > /dev/null`]).ms);
    rmSync(path.join(ws, '.planner'), { recursive: true, force: true });
    const c = planner(['build', '--all'], ws);
    best.cli = Math.min(best.cli, c.ms);
    best.build = Math.min(best.build, c.data.durationMs as number);
    cold = c;
    log(
      `round ${round + 1}: gzip ${(tarBytes / 1e3 / g.ms).toFixed(1)} MB/s, planner build ${(c.data.layers.bytesIn / 1e3 / c.data.durationMs).toFixed(1)} MB/s (load ${os.loadavg()[0]!.toFixed(2)})`,
    );
  }
  const gzip = { ms: best.gzip };
  const pigz = { ms: best.pigz };
  log(
    `baseline tar|gzip -6: ${(tarBytes / 1e6 / (gzip.ms / 1000)).toFixed(1)} MB/s; tar|pigz: ${(tarBytes / 1e6 / (pigz.ms / 1000)).toFixed(1)} MB/s (${(tarBytes / 1e6).toFixed(0)} MB of tar, best of ${rounds})`,
  );
  const coldBuildMs = best.build;
  const ourBytes = cold!.data.layers.bytesIn as number;
  const baselineMs = Math.min(gzip.ms, pigz.ms);
  const baselineRate = tarBytes / baselineMs;
  const throughputCli = ourBytes / best.cli / baselineRate;
  const throughputBuild = ourBytes / coldBuildMs / baselineRate;
  log(`cold build: ${(ourBytes / 1e6 / (best.cli / 1000)).toFixed(1)} MB/s whole CLI, ${(ourBytes / 1e6 / (coldBuildMs / 1000)).toFixed(1)} MB/s build phase (best of ${rounds})`);
  cold = { ms: best.cli, data: cold!.data };

  const perImageTar = cold.data.images.reduce((s: number, i: any) => s + i.layers.filter((l: any) => l.kind === 'store').reduce((t: number, l: any) => t + l.tarSize, 0), 0);
  const uniqueTar = new Map<string, number>();
  for (const i of cold.data.images) for (const l of i.layers) if (l.kind === 'store') uniqueTar.set(l.digest, l.tarSize);
  const uniqueTarBytes = [...uniqueTar.values()].reduce((s, n) => s + n, 0);
  const storeBuilt = ourBytes - cold.data.images.reduce((s: number, i: any) => s + i.layers.filter((l: any) => l.kind === 'customisation').reduce((t: number, l: any) => t + l.tarSize, 0), 0);

  // The no-op rebuild gets the same treatment as the cold build: best of the same rounds.
  let again = planner(['build', '--all'], ws);
  for (let round = 1; round < rounds; round++) {
    const next = planner(['build', '--all'], ws);
    if (next.ms < again.ms) again = next;
  }
  const rebuildBuild = (again.data.durationMs as number) / coldBuildMs;
  const rebuildCli = again.ms / cold.ms;

  // One service changes: delta gets a new package. The lock (`planner plan`) keeps the other
  // layers as they were, as in a real repository.
  timed(process.execPath, [bin, 'plan'], { cwd: ws });
  writeServices({ delta: [p.srccmd!, p.tests!, p.changed!] });
  const before = new Set<string>(cold.data.images.flatMap((i: any) => i.layers.map((l: any) => l.digest)));
  const changed = planner(['build', '--all'], ws);
  const builtStore = changed.data.images.flatMap((i: any) => i.layers.filter((l: any) => l.kind === 'store' && !l.cached));
  const builtBy = new Set<string>(changed.data.images.filter((i: any) => i.layers.some((l: any) => l.kind === 'store' && !l.cached)).map((i: any) => i.ref));
  const newLayers = new Set<string>(changed.data.images.flatMap((i: any) => i.layers.filter((l: any) => l.kind === 'store' && !before.has(l.digest)).map((l: any) => l.digest)));

  const result = {
    machine: { cores: os.availableParallelism(), node: process.version },
    data: { storePaths: unique.length, images: Object.keys(services).length, tarBytes },
    throughput: {
      baseline: gzip.ms <= pigz.ms ? 'tar|gzip -6' : 'tar|pigz -6',
      gzipMBps: +(tarBytes / 1e3 / gzip.ms).toFixed(1),
      pigzMBps: +(tarBytes / 1e3 / pigz.ms).toFixed(1),
      plannerBuildPhaseMBps: +(ourBytes / 1e3 / coldBuildMs).toFixed(1),
      plannerWholeCliMBps: +(ourBytes / 1e3 / cold.ms).toFixed(1),
      ratioBuildPhase: +throughputBuild.toFixed(2),
      ratioWholeCli: +throughputCli.toFixed(2),
      target: '>= 0.90',
    },
    bytesCompressed: {
      storeLayerTarBytes: storeBuilt,
      uniqueLayerTarBytes: uniqueTarBytes,
      ratioVsUnique: +(storeBuilt / uniqueTarBytes).toFixed(2),
      compressedBytes: [...new Map<string, number>(cold.data.images.flatMap((i: any) => i.layers.filter((l: any) => l.kind === 'store').map((l: any) => [l.digest, l.size]))).values()].reduce(
        (s, n) => s + n,
        0,
      ),
      gzip6Bytes: gzipBytes,
      perImageBuildsTarBytes: perImageTar,
      perImageVsShared: +(perImageTar / storeBuilt).toFixed(2),
      target: '1.00x of unique layer bytes',
    },
    rebuild: {
      coldBuildMs,
      rebuildBuildMs: again.data.durationMs,
      ratioBuildPhase: +rebuildBuild.toFixed(3),
      coldCliMs: Math.round(cold.ms),
      rebuildCliMs: Math.round(again.ms),
      ratioWholeCli: +rebuildCli.toFixed(3),
      layersBuilt: again.data.layers.built,
      target: '<= 0.05',
    },
    oneServiceChanged: {
      storeLayersBuilt: builtStore.length,
      newStoreLayersInPlan: newLayers.size,
      imagesThatBuilt: [...builtBy],
      onlyNewLayersBuilt: builtStore.every((l: any) => newLayers.has(l.digest)) && builtStore.length === newLayers.size,
    },
  };
  if (asJson) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  else {
    const t = result.throughput;
    const b = result.bytesCompressed;
    const r = result.rebuild;
    const c = result.oneServiceChanged;
    const verdict = (ok: boolean): string => (ok ? 'ok' : 'MISSED');
    log('');
    log(`1. cold build throughput vs ${t.baseline} (${Math.max(t.gzipMBps, t.pigzMBps)} MB/s):`);
    log(
      `   build phase ${t.ratioBuildPhase.toFixed(2)}x (${t.plannerBuildPhaseMBps} MB/s), whole CLI incl. node + nix path-info ${t.ratioWholeCli.toFixed(2)}x  [target >= 0.90: ${verdict(t.ratioBuildPhase >= 0.9)}]`,
    );
    log(
      `2. bytes compressed: ${(b.storeLayerTarBytes / 1e6).toFixed(1)} MB = ${b.ratioVsUnique.toFixed(2)}x the plan's distinct layers (each compressed once); per-image builds would compress ${(b.perImageBuildsTarBytes / 1e6).toFixed(1)} MB (${b.perImageVsShared.toFixed(2)}x more)  [${verdict(b.ratioVsUnique === 1)}]`,
    );
    log(
      `   compressed size: ${(b.compressedBytes / 1e6).toFixed(1)} MB vs ${(b.gzip6Bytes / 1e6).toFixed(1)} MB for one tar | gzip -6 (${((b.compressedBytes / b.gzip6Bytes - 1) * 100).toFixed(1)}% larger)`,
    );
    log(
      `3. rebuild, nothing changed: build phase ${(r.ratioBuildPhase * 100).toFixed(1)}% of cold (${r.rebuildBuildMs} vs ${r.coldBuildMs} ms), whole CLI ${(r.ratioWholeCli * 100).toFixed(1)}% (${r.rebuildCliMs} vs ${r.coldCliMs} ms), ${r.layersBuilt} layers built  [target <= 5% for the whole CLI, what a user waits for: ${verdict(r.ratioWholeCli <= 0.05)}]`,
    );
    log(
      `4. one service changed: ${c.storeLayersBuilt} store layers built, ${c.newStoreLayersInPlan} new in the plan, by ${c.imagesThatBuilt.join(', ') || 'none'}  [${verdict(c.onlyNewLayersBuilt)}]`,
    );
  }
} finally {
  if (!process.argv.includes('--keep')) rmSync(work, { recursive: true, force: true });
  else log(`kept ${work}`);
}
