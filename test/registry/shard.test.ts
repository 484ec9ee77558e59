/**
 * Sharded pushes: three `planner push --shard i/3` processes in parallel against one
 * registry produce the same manifests as one unsharded run, upload every layer exactly once
 * between them (owners push layers to <prefix>/planner-cache with a record, the others mount),
 * and store each blob once. A shard whose peers never show up takes their layers over.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digestKey, recordManifest, EMPTY_CONFIG } from '@planner/registry';
import { json, plannerAsync, tempDir } from '../helpers/cli.js';
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
