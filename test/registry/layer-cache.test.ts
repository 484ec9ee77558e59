/**
 * The registry as the layer cache of sharded builds, through the library the build command
 * calls: one runner publishes layer records; another learns the layers' digests and diffIDs
 * from them without the layer bytes, and pushes an image whose layout lacks those blobs by
 * mounting them from the cache repository.
 */
import { cpSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blobPath, cacheLocation, loadCredentialSources, openLayerCache, pushImages, readLayout, resolveTargets, SessionPool } from '@planner/registry';
import { tempDir } from '../helpers/cli.js';
import { monorepoImages, writeLayout, type WrittenLayout } from './helpers/layout.js';
import { startRegistry, type TestRegistry } from './helpers/registry.js';
import { remoteDigest } from './helpers/verify.js';

let work: string;
let layout: WrittenLayout;
let registry: TestRegistry;

beforeAll(async () => {
  work = tempDir('planner-cache-');
  layout = writeLayout(path.join(work, 'oci'), monorepoImages({ images: 2, baseSize: 800_000, appSize: 100_000 }));
  registry = await startRegistry(path.join(work, 'registry'));
});

afterAll(async () => {
  await registry.stop();
});

describe('layer cache in the registry', () => {
  it('lets a runner push an image whose layers another runner built', async () => {
    const credentials = await loadCredentialSources({ env: {} });
    const location = cacheLocation(`${registry.host}/team`);
    expect(location).toEqual({ registry: registry.host, repository: 'team/planner-cache', plainHttp: false });
    const full = await readLayout(layout.dir);
    const image = full.images.find((i) => i.ref === 'svc1:v1')!;
    const config = JSON.parse(readFileSync(blobPath(layout.dir, image.manifest.blobs[0]!.digest), 'utf8')) as { rootfs: { diff_ids: string[] } };
    const layers = image.manifest.blobs.slice(1);
    const key = (i: number) => `layer${i}-v1`;

    // Runner A builds the layers and publishes them (twice: idempotent).
    const a = await openLayerCache(new SessionPool({ credentials }), location);
    for (const [i, layer] of layers.entries()) {
      const first = await a.publish({ key: key(i), layer, diffID: config.rootfs.diff_ids[i]! }, blobPath(layout.dir, layer.digest));
      expect(first).toMatchObject({ blob: 'uploaded', record: 'published' });
      expect(await a.publish({ key: key(i), layer, diffID: config.rootfs.diff_ids[i]! }, blobPath(layout.dir, layer.digest))).toMatchObject({ blob: 'present', record: 'present' });
    }

    // Runner B has only manifests and configs: it learns digests and diffIDs from the records.
    const partial = path.join(work, 'partial');
    cpSync(layout.dir, partial, { recursive: true });
    for (const layer of layers) rmSync(blobPath(partial, layer.digest));
    const pool = new SessionPool({ credentials });
    const b = await openLayerCache(pool, location);
    const keys = layers.map((_, i) => key(i));
    const known = await b.lookup([...keys, 'never-built']);
    expect([...known.keys()].sort()).toEqual(keys);
    layers.forEach((layer, i) => expect(known.get(key(i))).toEqual({ key: key(i), layer: { mediaType: layer.mediaType, digest: layer.digest, size: layer.size }, diffID: config.rootfs.diff_ids[i] }));
    const waited = await b.wait(['never-built'], 300);
    expect(waited.size).toBe(0);

    const partialLayout = await readLayout(partial);
    const targets = resolveTargets([{ ref: 'svc1:v1', name: 'svc1', tag: 'v1' }], { cliRegistry: `${registry.host}/team` });
    const result = await pushImages({
      layout: partialLayout,
      targets,
      credentials,
      sessions: pool,
      mountSources: b.mountSources(known.values()),
      mayUpload: (digest) => !layers.some((l) => l.digest === digest),
    });
    expect(result.totals).toMatchObject({ blobsMounted: layers.length, blobsUploaded: 1, bytesUploaded: image.manifest.blobs[0]!.size });
    expect(await remoteDigest(`${registry.host}/team/svc1:v1`)).toBe(image.manifest.digest);
  });
});
