/**
 * Sharded pushes: three `planner push --shard i/3` processes in parallel against one
 * registry produce the same manifests as one unsharded run, upload every layer exactly once
 * between them (owners push layers to <prefix>/planner-cache with a record, the others mount),
 * and store each blob once. A shard whose peers never show up takes their layers over.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cacheLocation, digestKey, EMPTY_CONFIG, loadCredentialSources, openLayerCache, recordManifest, SessionPool } from '@planner/registry';
import { json, planner, plannerAsync, tempDir } from '../helpers/cli.js';
import { buildFixtures, type Fixtures } from '../oci/fixtures.js';
import { monorepoImages, writeLayout, type WrittenLayout } from './helpers/layout.js';
import { startRegistry, type TestRegistry } from './helpers/registry.js';
import { copyBack, remoteDigest } from './helpers/verify.js';

const MiB = 1024 * 1024;
let work: string;
let layout: WrittenLayout;
const registries: TestRegistry[] = [];

beforeAll(() => {
  work = tempDir('planner-shard-');
  layout = writeLayout(path.join(work, 'oci'), monorepoImages({ images: 6, baseSize: 1.5 * MiB, appSize: 200_000, bigSize: 4 * MiB }));
});

afterAll(async () => {
  for (const r of registries) await r.stop();
});

/**
 * Four services over the builder's fixtures: store layers shared two ways, one customisation
 * layer per image, and one image on a base image (a docker-archive planner wrote earlier).
 */
function writeBuildWorkspace(dir: string, f: Fixtures, baseArchive: string): string {
  const write = (name: string, value: unknown): void => {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), `${JSON.stringify(value, null, 2)}\n`);
  };
  write('planner.config.json', { maxLayers: 20 });
  write('services/app/image.json', { name: 'app', tag: '1.0', contents: [f.tools, f.cacert], config: { Cmd: ['/bin/hello'] } });
  write('services/server/image.json', { name: 'server', tag: '1.0', contents: [f.server, f.cacert], config: { Entrypoint: ['/bin/server'] } });
  write('services/tools/image.json', { name: 'tools', tag: '1.0', contents: [f.tools], config: { Cmd: ['/bin/hello'] } });
  write('services/child/image.json', { name: 'child', tag: '1.0', contents: [f.tools], fromImage: baseArchive, config: { Cmd: ['/bin/hello'] } });
  return dir;
}

function uniqueLayers(): Map<string, { digest: string; size: number }> {
  const layers = new Map<string, { digest: string; size: number }>();
  for (const image of layout.images) for (const l of image.layers) layers.set(l.digest, l);
  return layers;
}

describe('planner push --shard', () => {
  it('three parallel shards give the same registry contents as one run, each layer sent once', async () => {
    const single = await startRegistry(path.join(work, 'single'));
    const sharded = await startRegistry(path.join(work, 'sharded'));
    registries.push(single, sharded);
    const one = await plannerAsync(['push', '--out', layout.dir, '--registry', `${single.host}/team`, '--json']);
    expect(one.code, one.stderr).toBe(0);
    const runs = await Promise.all([1, 2, 3].map((i) => plannerAsync(['push', '--out', layout.dir, '--registry', `${sharded.host}/team`, '--shard', `${i}/3`, '--shard-wait', '120', '--json'])));
    const data = runs.map((r) => {
      expect(r.code, r.stderr).toBe(0);
      return json(r);
    });
    // Images: a partition of all of them.
    const pushed = data.flatMap((d) => d.imagesPushed as string[]);
    expect(pushed.sort()).toEqual(layout.images.map((i) => i.ref).sort());
    // Layers: a partition too, nobody took over, and every byte went up exactly once overall.
    expect(data.reduce((s, d) => s + d.layers.owned, 0)).toBe(uniqueLayers().size);
    expect(data.every((d) => d.layers.tookOver === 0)).toBe(true);
    const shardedBytes = data.reduce((s, d) => s + d.totals.bytesUploaded, 0);
    expect(shardedBytes).toBe(json(one).totals.bytesUploaded);
    // Same manifests as the single run, and as the layout.
    for (const image of layout.images) {
      const a = await remoteDigest(`${single.host}/team/${image.ref}`);
      const b = await remoteDigest(`${sharded.host}/team/${image.ref}`);
      expect(b).toBe(a);
      expect(b).toBe(image.manifestDigest);
    }
    expect(await copyBack(`${sharded.host}/team/${layout.images[5]!.ref}`, path.join(work, 'back'))).toBe(layout.images[5]!.manifestDigest);
    // Storage: the layout's blobs once each, plus the layer records and their empty config.
    const records = [...uniqueLayers().values()].map((l) => recordManifest({ key: digestKey(l.digest), layer: { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...l } }).digest);
    expect(single.blobDigests()).toEqual([...layout.blobs.keys()].sort());
    expect(sharded.blobDigests()).toEqual([...layout.blobs.keys(), ...records, EMPTY_CONFIG.digest].sort());
  });

  it('a shard whose peers never run takes their layers over after --shard-wait', async () => {
    const alone = await startRegistry(path.join(work, 'alone'));
    registries.push(alone);
    const run = await plannerAsync(['push', '--out', layout.dir, '--registry', `${alone.host}/team`, '--shard', '1/2', '--shard-wait', '1', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const data = json(run);
    expect(data.layers.tookOver).toBeGreaterThan(0);
    for (const ref of data.imagesPushed as string[]) {
      expect(await remoteDigest(`${alone.host}/team/${ref}`)).toBe(layout.images.find((i) => i.ref === ref)!.manifestDigest);
    }
    // Rerunning the missing half now finds every layer it owns already pushed.
    const other = await plannerAsync(['push', '--out', layout.dir, '--registry', `${alone.host}/team`, '--shard', '2/2', '--shard-wait', '1', '--json']);
    expect(other.code, other.stderr).toBe(0);
    for (const image of layout.images) expect(await remoteDigest(`${alone.host}/team/${image.ref}`)).toBe(image.manifestDigest);
  });
});

/**
 * Sharded builds: `planner build --all --push --shard i/3` on three "runners" (processes with
 * their own layout and layer cache, one workspace of Nix-built fixtures) split the layers,
 * meet in the registry's planner-cache, and leave the same manifests as one unsharded run.
 */
describe('planner build --all --push --shard', () => {
  let ws: string;
  let single: TestRegistry;
  let one: any;

  /** One runner: its own layout and cache, as separate CI machines have. */
  const runner = (name: string, registry: TestRegistry, extra: string[]) =>
    plannerAsync(['build', '--all', '--push', '--registry', `${registry.host}/team`, '--out', path.join(work, name, 'oci'), '--cache-dir', path.join(work, name, 'cache'), '--json', ...extra], {
      cwd: ws,
    });

  beforeAll(async () => {
    const f = buildFixtures(path.join(work, 'fixtures'));
    const baseWs = path.join(work, 'base-ws');
    mkdirSync(path.join(baseWs, 'services/base'), { recursive: true });
    writeFileSync(path.join(baseWs, 'planner.config.json'), '{}');
    writeFileSync(path.join(baseWs, 'services/base/image.json'), JSON.stringify({ name: 'base', tag: '1', contents: [f.server] }));
    const base = planner(['build', '--all', '--json', '--format', 'docker-archive'], { cwd: baseWs });
    expect(base.code, base.stderr).toBe(0);
    ws = writeBuildWorkspace(path.join(work, 'ws'), f, json(base).images[0].dockerArchive);
    single = await startRegistry(path.join(work, 'build-single'));
    registries.push(single);
    const r = await runner('single', single, []);
    expect(r.code, r.stderr).toBe(0);
    one = json(r);
  }, 600_000);

  it('three parallel shards build each layer once and push the same manifests as one run', async () => {
    const sharded = await startRegistry(path.join(work, 'build-sharded'));
    registries.push(sharded);
    const refs = one.images.map((i: any) => i.ref).sort();
    expect(refs).toEqual(['app:1.0', 'child:1.0', 'server:1.0', 'tools:1.0']);
    expect(one.images.find((i: any) => i.ref === 'child:1.0').layers.filter((l: any) => l.kind === 'base').length).toBe(2);
    expect(one.layers.built).toBe(one.layers.distinct);

    const runs = await Promise.all([1, 2, 3].map((i) => runner(`shard${i}`, sharded, ['--shard', `${i}/3`, '--shard-wait', '120'])));
    const data = runs.map((r) => {
      expect(r.code, r.stderr).toBe(0);
      return json(r);
    });
    // Images: a partition; each shard assembled and pushed only its own.
    expect(data.flatMap((d) => d.shard.images).sort()).toEqual(refs);
    for (const d of data) {
      expect(d.images.map((i: any) => i.ref)).toEqual(d.shard.images);
      expect(d.push.images.map((i: any) => i.image)).toEqual(d.shard.images);
    }
    // Layers: every distinct layer built exactly once over all shards, nobody took over.
    const builtKeys = data.flatMap((d) => d.shard.builtKeys as string[]);
    expect(builtKeys.length).toBe(one.layers.distinct);
    expect(new Set(builtKeys).size).toBe(builtKeys.length);
    expect(data.reduce((s, d) => s + d.layers.built, 0)).toBe(one.layers.distinct);
    for (const d of data) {
      expect(d.shard.layers.tookOver).toBe(0);
      expect(d.shard.layers.built).toBe(d.shard.layers.owned);
      expect(d.shard.layers.published).toBe(d.shard.layers.owned);
    }
    // Same manifests in the registry as the single run (and as each shard's own layout).
    for (const image of one.images) {
      expect(await remoteDigest(`${single.host}/team/${image.ref}`)).toBe(image.manifestDigest);
      expect(await remoteDigest(`${sharded.host}/team/${image.ref}`)).toBe(image.manifestDigest);
    }
    for (const d of data) for (const image of d.images) expect(image.manifestDigest).toBe(one.images.find((i: any) => i.ref === image.ref).manifestDigest);
    // Complete in the registry: skopeo copies every image back, checking each blob.
    for (const ref of refs) expect(await copyBack(`${sharded.host}/team/${ref}`, path.join(work, 'build-back', ref.replace(':', '_')))).toBe(one.images.find((i: any) => i.ref === ref).manifestDigest);
    // The registry holds what the single run's does, plus one record per layer and the records' empty config.
    const extra = sharded.blobDigests().filter((b) => !single.blobDigests().includes(b));
    expect(single.blobDigests().every((b) => sharded.blobDigests().includes(b))).toBe(true);
    expect(extra.length).toBe(one.layers.distinct + 1);
    expect(extra).toContain(EMPTY_CONFIG.digest);
    // A shard's layout holds its own images; layers from other shards' records have no blob there.
    const withRemote = data.filter((d) => d.layers.remote > 0);
    expect(withRemote.length).toBeGreaterThan(0);
    for (const d of withRemote) {
      const index = JSON.parse(readFileSync(path.join(d.out, 'index.json'), 'utf8'));
      expect(index.manifests.map((m: any) => m.annotations['org.opencontainers.image.ref.name'])).toEqual(d.shard.images);
      for (const l of d.images.flatMap((i: any) => i.layers)) {
        expect(existsSync(path.join(d.out, 'blobs/sha256', l.digest.slice(7))), l.digest).toBe(l.remote !== true);
      }
    }

    // A rerun of one shard on a clean machine finds everything in the registry: builds nothing.
    const again = await runner('shard2-again', sharded, ['--shard', '2/3', '--shard-wait', '120']);
    expect(again.code, again.stderr).toBe(0);
    const a = json(again);
    expect(a.layers.built).toBe(0);
    expect(a.shard.layers).toMatchObject({ built: 0, published: 0, tookOver: 0 });
    expect(a.shard.images).toEqual(data[1].shard.images);
    for (const image of a.push.images) expect(image.manifest).toBe('unchanged');
  });

  it('a shard whose peers never run takes their layers over after --shard-wait', async () => {
    const alone = await startRegistry(path.join(work, 'build-alone'));
    registries.push(alone);
    const r = await runner('alone', alone, ['--shard', '1/3', '--shard-wait', '1']);
    expect(r.code, r.stderr).toBe(0);
    const d = json(r);
    expect(d.shard.images.length).toBeGreaterThan(0);
    expect(d.shard.layers.tookOver).toBeGreaterThan(0);
    expect(d.shard.layers.built).toBe(d.shard.layers.owned + d.shard.layers.tookOver);
    for (const ref of d.shard.images) {
      const digest = one.images.find((i: any) => i.ref === ref).manifestDigest;
      expect(await copyBack(`${alone.host}/team/${ref}`, path.join(work, 'alone-back', ref.replace(':', '_')))).toBe(digest);
    }
    // More shards than images: a shard with no image of its own still builds and publishes its layers.
    const idle = await runner('idle', alone, ['--shard', '6/6', '--shard-wait', '1']);
    expect(idle.code, idle.stderr).toBe(0);
    const i = json(idle);
    expect(i.shard.images).toEqual([]);
    expect(i.push.images).toEqual([]);
    expect(i.shard.layers.tookOver).toBe(0);
  });

  it('refuses --shard without --all and --push', () => {
    const r = planner(['build', '--all', '--shard', '1/2', '--json'], { cwd: ws });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--shard needs --all and --push');
  });
});

describe('layer records published by racing runners', () => {
  it('every publish succeeds while three runners upload the same blobs into a fresh cache repository', async () => {
    // Each runner uploads the records' empty config (and here the same layers) at the same
    // moment; the registry rewrites a blob's link while another request reads it.
    const registry = await startRegistry(path.join(work, 'race'));
    registries.push(registry);
    const credentials = await loadCredentialSources({ env: {} });
    const blobs = [1, 2, 3, 4].map((i) => {
      const bytes = Buffer.from(`layer ${i} `.repeat(2000));
      const file = path.join(work, `race-blob-${i}`);
      writeFileSync(file, bytes);
      return { file, layer: { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}`, size: bytes.length } };
    });
    for (let round = 0; round < 15; round++) {
      const location = cacheLocation(`${registry.host}/round${round}`);
      const runners = await Promise.all([1, 2, 3].map(() => openLayerCache(new SessionPool({ credentials }), location)));
      await Promise.all(runners.flatMap((cache, r) => blobs.map((b, i) => cache.publish({ key: `layer${i}-runner${r}`, layer: b.layer, diffID: b.layer.digest }, b.file))));
      const found = await runners[0]!.lookup(runners.flatMap((_, r) => blobs.map((_, i) => `layer${i}-runner${r}`)));
      expect(found.size).toBe(12);
    }
  });
});
