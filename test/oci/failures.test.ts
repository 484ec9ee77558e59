/**
 * What goes wrong while building, with the real thing wherever it can be had: a store path
 * that is not there, files that cannot be read (a FIFO planted in a store path; a mode-000
 * file read by an unprivileged user), a full disk (a small tmpfs), and kill -9 at chosen
 * states of a build followed by a rerun that must finish and give the same images.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync, chownSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildImages, compressorInfo, storeLayerKey, type ImageBuildSpec } from '@planner/oci';
import { readLayout } from '@planner/registry';
import type { Plan } from '@planner/layering';
import { json, planner, plannerBin, repoRoot, tempDir } from '../helpers/cli.js';
import { buildAttrs, writeFixtureLib } from '../helpers/nix.js';
import { buildFixtures, layer, sh, type Fixtures } from './fixtures.js';
import { writeWorkspace } from './workspace.js';

let f: Fixtures;
let victims: { fifo: string; locked: string; bulk: string[] };
const salt = `${process.pid}-${Date.now()}`;

beforeAll(() => {
  f = buildFixtures(tempDir('planner-oci-fixtures-'));
  const dir = tempDir('planner-oci-victims-');
  writeFixtureLib(dir);
  writeFileSync(
    path.join(dir, 'victims.nix'),
    `let lib = import ./lib.nix; in {
  fifo = lib.run "oci-victim-fifo" "mkdir -p $out/sub; echo ${salt} > $out/sub/a; echo b > $out/sub/b" [];
  locked = lib.run "oci-victim-locked" "mkdir -p $out; echo ${salt} > $out/secret" [];
  bulk1 = lib.run "oci-bulk-1" "mkdir -p $out; for i in 1 2 3 4; do head -c 1000000 /dev/urandom | base64 > $out/f$i; done" [];
  bulk2 = lib.run "oci-bulk-2" "mkdir -p $out; for i in 1 2 3 4; do head -c 1000000 /dev/urandom | base64 > $out/f$i; done; echo 2 > $out/two" [];
  bulk3 = lib.run "oci-bulk-3" "mkdir -p $out; for i in 1 2 3 4; do head -c 1000000 /dev/urandom | base64 > $out/f$i; done; echo 3 > $out/three" [];
}
`,
  );
  const [fifo, locked, b1, b2, b3] = buildAttrs(path.join(dir, 'victims.nix'), ['fifo', 'locked', 'bulk1', 'bulk2', 'bulk3']);
  // Tamper with the salted victims only: a FIFO cannot be archived, a 000 file cannot be read.
  execFileSync('mkfifo', [path.join(fifo!, 'sub', 'a-fifo')]);
  chmodSync(path.join(locked!, 'secret'), 0o000);
  victims = { fifo: fifo!, locked: locked!, bulk: [b1!, b2!, b3!] };
});

afterAll(() => {
  for (const p of [victims?.fifo, victims?.locked]) {
    if (p) spawnSync('nix-store', ['--delete', p], { stdio: 'ignore' });
  }
});

function onePathPlan(paths: string[], ref = 'victim:1'): { plan: Plan; images: ImageBuildSpec[] } {
  const l = layer(paths, [ref]);
  return {
    plan: { maxLayers: 5, storeDir: '/nix/store', layers: [l], images: [{ name: ref, layers: [l.id] }] },
    images: [{ ref, contents: paths }],
  };
}

/** Every cache record points at a complete blob whose bytes hash to the recorded digest. */
function checkCache(cacheDir: string): number {
  const records = path.join(cacheDir, 'v1/layers');
  if (!existsSync(records)) return 0;
  let n = 0;
  for (const name of readdirSync(records)) {
    if (name.startsWith('.tmp-')) continue;
    const r = JSON.parse(readFileSync(path.join(records, name), 'utf8'));
    const bytes = readFileSync(path.join(cacheDir, 'v1/blobs/sha256', r.digest.slice(7)));
    expect(bytes.length).toBe(r.size);
    expect(`sha256:${createHash('sha256').update(bytes).digest('hex')}`).toBe(r.digest);
    n++;
  }
  return n;
}

describe('bad input leaves no output', () => {
  it('reports a missing store path before writing anything', async () => {
    const root = tempDir('planner-oci-missing-');
    const missing = '/nix/store/00000000000000000000000000000000-not-there';
    const { plan, images } = onePathPlan([f.cacert, missing]);
    await expect(buildImages({ plan, images, out: path.join(root, 'oci'), cacheDir: path.join(root, 'cache') })).rejects.toMatchObject({
      code: 'E_STORE_PATH_MISSING',
      message: expect.stringContaining(missing),
    });
    expect(readdirSync(root)).toEqual([]);
  });

  it('reports a file that is not a regular file, directory or symlink (a FIFO) as E_READ', async () => {
    const root = tempDir('planner-oci-fifo-');
    const { plan, images } = onePathPlan([victims.fifo]);
    await expect(buildImages({ plan, images, out: path.join(root, 'oci'), cacheDir: path.join(root, 'cache') })).rejects.toMatchObject({
      code: 'E_READ',
      message: expect.stringContaining(path.join(victims.fifo, 'sub', 'a-fifo')),
    });
    expect(existsSync(path.join(root, 'oci'))).toBe(false);
    // Layers finished meanwhile (the customisation layer) may be cached, and are complete;
    // the failed store layer has no record.
    checkCache(path.join(root, 'cache'));
    const key = storeLayerKey(plan.layers[0]!.paths, compressorInfo('gzip').id);
    expect(existsSync(path.join(root, 'cache/v1/layers', `${key}.json`))).toBe(false);
    expect(readdirSync(path.join(root, 'cache/v1/tmp'))).toEqual([]);
  });

  it('reports a file the user cannot read (EACCES, as uid 65534) as E_READ', () => {
    const root = tempDir('planner-oci-eacces-');
    chownSync(root, 65534, 65534);
    const { plan, images } = onePathPlan([victims.locked]);
    const spec = path.join(root, 'spec.json');
    writeFileSync(spec, JSON.stringify({ plan, images, out: path.join(root, 'oci'), cacheDir: path.join(root, 'cache') }));
    const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '--import', 'tsx', path.join(repoRoot, 'test/oci/run-build.ts'), spec], {
      cwd: repoRoot,
      encoding: 'utf8',
      env: { ...process.env, HOME: root, TSX_TSCONFIG_PATH: path.join(repoRoot, 'tsconfig.json') },
    });
    const result = JSON.parse(r.stdout || `{"stderr": ${JSON.stringify(r.stderr)}}`);
    expect(result.error, r.stderr).toMatchObject({ code: 'E_READ', message: expect.stringContaining(path.join(victims.locked, 'secret')) });
    expect(result.error.message).toMatch(/permission denied/i);
    expect(existsSync(path.join(root, 'oci'))).toBe(false);
  });
});

describe('a full disk', () => {
  // Mounting a small tmpfs needs root (CI runs as root); elsewhere the test is reported skipped.
  it.skipIf(process.getuid?.() !== 0)('fails with E_NO_SPACE and leaves no partial blob, record or index', async () => {
    const mnt = tempDir('planner-oci-tmpfs-');
    const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mnt], { encoding: 'utf8' });
    expect(mount.status, mount.stderr).toBe(0);
    try {
      const l1 = layer([f.cacert], ['full:1']);
      const l2 = layer([f.server], ['full:1']);
      const plan: Plan = { maxLayers: 5, storeDir: '/nix/store', layers: [l1, l2], images: [{ name: 'full:1', layers: [l1.id, l2.id] }] };
      const images: ImageBuildSpec[] = [{ ref: 'full:1', contents: [f.server] }];
      await expect(buildImages({ plan, images, out: path.join(mnt, 'oci'), cacheDir: path.join(mnt, 'cache') })).rejects.toMatchObject({
        code: 'E_NO_SPACE',
      });
      expect(existsSync(path.join(mnt, 'oci/index.json'))).toBe(false);
      const leftovers = sh('find', [mnt, '-name', '.tmp-*']).trim();
      expect(leftovers).toBe('');
      checkCache(path.join(mnt, 'cache'));
    } finally {
      spawnSync('umount', [mnt]);
    }
  });
});

describe('kill -9 at chosen points of a build', () => {
  /** What a running build has done so far, read from its cache and output directories. */
  function progress(ws: string): { records: number; writing: boolean; layout: boolean } {
    const list = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir) : []);
    return {
      records: list(path.join(ws, '.planner/cache/v1/layers')).filter((n) => !n.startsWith('.tmp-')).length,
      writing: list(path.join(ws, '.planner/cache/v1/tmp')).some((n) => n.startsWith('.tmp-')),
      layout: existsSync(path.join(ws, '.planner/oci')),
    };
  }

  it('never leaves a corrupt cache entry, and a rerun finishes with the same images (20 kills)', async () => {
    const ws = writeWorkspace(tempDir('planner-oci-kill-'), f);
    // A third service with ~16 MB of base64 noise, so kills land mid-layer.
    mkdirSync(path.join(ws, 'services/bulk'), { recursive: true });
    writeFileSync(path.join(ws, 'services/bulk/image.json'), JSON.stringify({ name: 'bulk', tag: '1', contents: victims.bulk }));
    const reference = json(planner(['build', '--all', '--json', '--out', path.join(ws, 'ref-oci'), '--cache-dir', path.join(ws, 'ref-cache')], { cwd: ws }));
    const digests = reference.images.map((i: any) => i.manifestDigest);
    const distinct: number = reference.layers.distinct;
    expect(distinct).toBeGreaterThan(4);
    // The kill points are states of the build, watched on disk (never a delay, so the test
    // does not depend on the machine's speed): right at the start; once k layers are cached;
    // while the layer after the k-th is being written (a temp blob exists); or once the OCI
    // layout is being written. A build may finish before its point comes (on a rerun, say).
    const points = Array.from({ length: 20 }, (_, round) => ({ kind: (['cached', 'writing', 'writing', 'layout'] as const)[round % 4]!, k: (round * 3) % distinct }));
    const kills = { early: 0, cached: 0, writing: 0, layout: 0 };
    const seen: string[] = [];
    for (const point of points) {
      rmSync(path.join(ws, '.planner'), { recursive: true, force: true });
      const child = spawn(process.execPath, [plannerBin, 'build', '--all', '--json'], { cwd: ws, stdio: 'ignore', env: { ...process.env, NO_COLOR: '1' } });
      const killedAt = await new Promise<string | null>((resolve) => {
        const watch = setInterval(() => {
          const now = progress(ws);
          const reached = point.kind === 'layout' ? now.layout : point.kind === 'writing' ? now.records >= point.k && now.writing && !now.layout : now.records >= point.k;
          if (!reached) return;
          clearInterval(watch);
          child.kill('SIGKILL');
          resolve(now.layout ? 'layout' : point.kind === 'writing' ? 'writing' : now.records > 0 ? 'cached' : 'early');
        }, 2);
        child.on('exit', (_code, signal) => {
          clearInterval(watch);
          if (signal !== 'SIGKILL') resolve(null);
        });
      });
      await new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.on('exit', () => resolve())));
      const records = checkCache(path.join(ws, '.planner/cache'));
      if (killedAt) kills[killedAt as keyof typeof kills]++;
      seen.push(`${point.kind}@${point.k}:${killedAt ? `killed (${killedAt}) with ${records} layers cached` : 'finished'}`);
      if (existsSync(path.join(ws, '.planner/oci/index.json'))) await readLayout(path.join(ws, '.planner/oci'));
      const rerun = json(planner(['build', '--all', '--json'], { cwd: ws }));
      expect(rerun.images.map((i: any) => i.manifestDigest)).toEqual(digests);
      expect(rerun.layers.reused).toBe(Math.min(records, rerun.layers.distinct));
      checkCache(path.join(ws, '.planner/cache'));
    }
    console.info(`kill -9 rounds: ${seen.join(', ')}`);
    // Every kind of point was hit: mid-layer (a temp blob on disk), between layers with some
    // cached, and while the layout was written.
    expect(kills.writing, seen.join(', ')).toBeGreaterThanOrEqual(5);
    expect(kills.cached, seen.join(', ')).toBeGreaterThanOrEqual(2);
    expect(kills.layout, seen.join(', ')).toBeGreaterThanOrEqual(3);
    const inspect = JSON.parse(sh('skopeo', ['inspect', `oci:${ws}/.planner/oci:bulk:1`]));
    expect(inspect.Digest).toBe(reference.images.find((i: any) => i.ref === 'bulk:1').manifestDigest);
    sh('umoci', ['unpack', '--image', `${ws}/.planner/oci:bulk:1`, path.join(ws, 'bundle')]);
  });
});
