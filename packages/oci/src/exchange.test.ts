/**
 * The builder's side of sharded builds, with an in-memory LayerExchange (the CLI's is the
 * registry, tested end to end in test/registry/shard.test.ts): runners that split the layers
 * give the same manifests as one build, build disjoint shares, take over what a silent peer
 * never delivers, and refuse a record that disagrees with their own bytes.
 */
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Plan } from '@planner/layering';
import { buildImages, type BuildSummary, type ImageBuildSpec, type LayerExchange, type LayerJob, type RemoteLayer } from './index.js';

function fixture(): { plan: Plan; images: ImageBuildSpec[]; root: string } {
  const root = mkdtempSync(path.join(tmpdir(), 'oci-exchange-'));
  const store = path.join(root, 'store');
  const make = (name: string, bytes: number): string => {
    const p = path.join(store, `${name.padEnd(32, 'x')}-${name}`);
    mkdirSync(path.join(p, 'bin'), { recursive: true });
    writeFileSync(path.join(p, 'bin', name), `#!/bin/sh\n${name.repeat(bytes / name.length)}\n`, { mode: 0o555 });
    return p;
  };
  const [libc, ssl, api, web, worker] = ['libc', 'ssl', 'api', 'web', 'worker'].map((n, i) => make(n, [40_000, 20_000, 5_000, 3_000, 1_000][i]!)) as [string, string, string, string, string];
  const layer = (id: string, p: string, narSize: number, users: string[]) => ({ id, paths: [p], narSize, images: users });
  const plan: Plan = {
    maxLayers: 10,
    storeDir: store,
    layers: [
      layer('l-libc', libc, 40_000, ['api:1', 'web:1', 'worker:1']),
      layer('l-ssl', ssl, 20_000, ['api:1', 'web:1']),
      layer('l-api', api, 5_000, ['api:1']),
      layer('l-web', web, 3_000, ['web:1']),
      layer('l-worker', worker, 1_000, ['worker:1']),
    ],
    images: [
      { name: 'api:1', layers: ['l-libc', 'l-ssl', 'l-api'] },
      { name: 'web:1', layers: ['l-libc', 'l-ssl', 'l-web'] },
      { name: 'worker:1', layers: ['l-libc', 'l-worker'] },
    ],
  };
  const images = [
    { ref: 'api:1', contents: [api] },
    { ref: 'web:1', contents: [web] },
    { ref: 'worker:1', contents: [worker] },
  ];
  return { plan, images, root };
}

/** Records shared by the runners of one test: what a registry's planner-cache holds. */
function memoryExchange(records: Map<string, RemoteLayer>, shard: number, count: number): LayerExchange & { assigned: LayerJob[] } {
  const assigned: LayerJob[] = [];
  return {
    assigned,
    assign: (layers) => {
      // Round robin over the layers by plan id (cache keys hold this run's temp paths, so
      // their order, and a split by it, would change from run to run): runner 1 then owns
      // api:1's customisation layer and l-libc, runner 2 l-api and l-ssl, which api:1 needs.
      [...layers]
        .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
        .forEach((l, i) => {
          if (i % count === shard - 1) assigned.push(l);
        });
      return new Set(assigned.map((l) => l.key));
    },
    lookup: async (keys) => new Map(keys.filter((k) => records.has(k)).map((k) => [k, records.get(k)!])),
    publish: async (layer, record) => {
      records.set(layer.key, { diffID: record.diffID, digest: record.digest, size: record.size, mediaType: record.mediaType });
    },
    wait: async (keys) => new Map(keys.filter((k) => records.has(k)).map((k) => [k, records.get(k)!])),
    mismatch: (layer) => new Error(`mismatch ${layer.key}`),
  };
}

const digests = (s: BuildSummary): Record<string, string> => Object.fromEntries(s.images.map((i) => [i.ref, i.manifestDigest]));

describe('buildImages with a layer exchange', () => {
  it('splits the layers between runners and gives the same manifests as one build', async () => {
    const { plan, images, root } = fixture();
    const single = await buildImages({ plan, images, out: path.join(root, 'single/oci'), cacheDir: path.join(root, 'single/cache'), jobs: 1 });
    expect(single.layers.built).toBe(8);

    const records = new Map<string, RemoteLayer>();
    // Runner 1 first (it owns api:1), then runner 2 (web:1, worker:1), each with its own cache.
    const one = memoryExchange(records, 1, 2);
    const a = await buildImages({ plan, images, select: ['api:1'], out: path.join(root, 'a/oci'), cacheDir: path.join(root, 'a/cache'), jobs: 1, exchange: one });
    const two = memoryExchange(records, 2, 2);
    const b = await buildImages({ plan, images, select: ['web:1', 'worker:1'], out: path.join(root, 'b/oci'), cacheDir: path.join(root, 'b/cache'), jobs: 1, exchange: two });

    expect(one.assigned.map((l) => l.id)).toEqual(['api:1', 'l-libc', 'l-web', 'web:1']);
    expect({ ...digests(a), ...digests(b) }).toEqual(digests(single));
    const builtA = a.exchange!.built;
    const builtB = b.exchange!.built;
    expect(builtA.filter((k) => builtB.includes(k))).toEqual([]);
    expect(builtB.length + a.exchange!.tookOver).toBe(two.assigned.length);
    expect(builtA.length + builtB.length).toBe(single.layers.built);
    // Runner 1 took over what runner 2 owns and its image needs (runner 2 had not run yet);
    // runner 2 found those records and did not build them again.
    expect(a.exchange!.tookOver).toBeGreaterThan(0);
    expect(builtA.length).toBe(one.assigned.length + a.exchange!.tookOver);
    expect(b.exchange!.tookOver).toBe(0);
    expect(b.layers.remote).toBeGreaterThan(0);
    // Runner 2's layout: only its images, no blob for layers it knows from records.
    for (const l of b.images.flatMap((i) => i.layers)) {
      expect(existsSync(path.join(root, 'b/oci/blobs/sha256', l.digest.slice(7)))).toBe(l.remote !== true);
      if (l.remote) expect(l.tarSize).toBeUndefined();
    }
  });

  it('builds nothing when every record is there, and refuses a record that disagrees with its cache', async () => {
    const { plan, images, root } = fixture();
    const records = new Map<string, RemoteLayer>();
    const all = memoryExchange(records, 1, 1);
    const first = await buildImages({ plan, images, select: ['api:1', 'web:1', 'worker:1'], out: path.join(root, 'x/oci'), cacheDir: path.join(root, 'x/cache'), exchange: all });
    expect(first.exchange!.published).toBe(first.exchange!.built.length);

    const again = await buildImages({ plan, images, select: ['web:1'], out: path.join(root, 'y/oci'), cacheDir: path.join(root, 'y/cache'), exchange: memoryExchange(records, 1, 3) });
    expect(again.layers.built).toBe(0);
    expect(again.exchange).toMatchObject({ built: [], published: 0, tookOver: 0 });
    expect(digests(again)['web:1']).toBe(digests(first)['web:1']);

    const [key, record] = [...records][0]!;
    records.set(key, { ...record, digest: `sha256:${'0'.repeat(64)}` });
    await expect(buildImages({ plan, images, select: ['api:1'], out: path.join(root, 'x/oci'), cacheDir: path.join(root, 'x/cache'), exchange: memoryExchange(records, 1, 1) })).rejects.toThrow(
      `mismatch ${key}`,
    );
  });
});
