import { blobPath } from './layout.js';
import pLimit from 'p-limit';
import { allOrFirstError } from './pool.js';
import { DEFAULT_CHUNK_SIZE, DEFAULT_CONCURRENCY, inContext, pushImages, SessionPool, type PushOptions } from './push.js';
import { CACHE_REPOSITORY_NAME, publishLayerRecord, waitForLayerRecords } from './records.js';
import { parseRegistry } from './reference.js';
import { shardOf, type ShardSpec } from './shard.js';
import type { Descriptor, ImageTarget, PushResult } from './types.js';

/** Where shards meet: a repository on one registry holding layer blobs and their records. */
export interface CacheLocation {
  registry: string;
  repository: string;
  plainHttp: boolean;
}

/** The cache repository for a registry setting: `ghcr.io/acme` -> `ghcr.io`, `acme/planner-cache`. */
export function cacheLocation(registry: string): CacheLocation {
  const location = parseRegistry(registry, 'registry');
  return { registry: location.host, repository: location.prefix ? `${location.prefix}/${CACHE_REPOSITORY_NAME}` : CACHE_REPOSITORY_NAME, plainHttp: location.plainHttp };
}

/** Record key for a layer known only by its blob (a layout pushed without its plan). */
export function digestKey(digest: string): string {
  return digest.replace(':', '-');
}

export interface ShardPushOptions extends PushOptions {
  /** Every image of the run, as on every runner; this shard pushes its share. */
  targets: readonly ImageTarget[];
  shard: ShardSpec;
  cache: CacheLocation;
  /** How long to wait for layers owned by other shards before uploading them here. */
  waitMs?: number;
  pollMs?: number;
}

export interface ShardPushResult extends PushResult {
  shard: ShardSpec;
  layers: {
    /** Layers this shard owns (pushes to the cache repository). */
    owned: number;
    ownedBytes: number;
    /** Owned layers this shard uploaded (the rest were there already). */
    uploaded: number;
    uploadedBytes: number;
    /** Layers owned elsewhere that did not appear in time and were uploaded here. */
    tookOver: number;
  };
  /** Refs of the images this shard pushed. */
  imagesPushed: string[];
}

/**
 * `planner push --shard i/n` on a layout every runner holds. Phase 1: this shard's layers
 * (by bytes, shardOf over the unique layers of every image bound for the cache registry)
 * go into the cache repository, each with its record. Phase 2: this shard's images; their
 * other layers are mounted from the cache repository once their owners' records appear.
 */
export async function pushShard(options: ShardPushOptions): Promise<ShardPushResult> {
  const { shard, cache } = options;
  const pool = options.sessions ?? new SessionPool(options);
  const byRef = new Map(options.layout.images.map((image) => [image.ref, image]));
  const layerMap = new Map<string, Descriptor>();
  for (const target of options.targets) {
    if (target.registry !== cache.registry) continue;
    const image = byRef.get(target.ref);
    if (!image) continue;
    const walk = (m: typeof image.manifest): void => {
      m.children.forEach(walk);
      for (const layer of m.blobs.slice(1)) layerMap.set(layer.digest, layer);
    };
    walk(image.manifest);
  }
  const layers = [...layerMap.values()];
  const owned = shardOf(layers, shard.index, shard.count, { key: (l) => l.digest, weight: (l) => l.size });
  const ownedSet = new Set(owned.map((l) => l.digest));

  const session = await pool.get(cache.registry, cache.repository, cache.plainHttp);
  const emit = options.onEvent ?? (() => {});
  const limit = pLimit(options.concurrency ?? DEFAULT_CONCURRENCY);
  let uploaded = 0;
  let uploadedBytes = 0;
  await allOrFirstError(
    owned.map((layer) =>
      limit(async () => {
        emit({ type: 'blob-start', registry: cache.registry, repository: cache.repository, digest: layer.digest, size: layer.size, action: 'upload' });
        const r = await publishLayerRecord(session, {
          repository: cache.repository,
          record: { key: digestKey(layer.digest), layer },
          path: blobPath(options.layout.dir, layer.digest),
          chunkSize: options.chunkSize ?? DEFAULT_CHUNK_SIZE,
          onProgress: (sent) => emit({ type: 'blob-progress', registry: cache.registry, repository: cache.repository, digest: layer.digest, size: layer.size, sent }),
        });
        if (r.blob === 'uploaded') {
          uploaded++;
          uploadedBytes += layer.size;
        }
        emit({ type: 'blob-done', registry: cache.registry, repository: cache.repository, digest: layer.digest, size: layer.size, action: r.blob === 'uploaded' ? 'uploaded' : 'skipped' });
      }).catch((error: unknown) => {
        throw inContext(error, { target: `${cache.registry}/${cache.repository}`, blob: layer.digest });
      }),
    ),
  );

  const mine = shardOf(options.targets, shard.index, shard.count, {
    key: (t) => t.reference,
    weight: (t) => byRef.get(t.ref)?.manifest.blobs.reduce((s, b) => s + b.size, 0) ?? 0,
  });
  const foreign = new Set<string>();
  for (const target of mine) {
    if (target.registry !== cache.registry) continue;
    for (const blob of byRef.get(target.ref)?.manifest.blobs.slice(1) ?? []) if (!ownedSet.has(blob.digest)) foreign.add(blob.digest);
  }
  const records = await waitForLayerRecords(session, cache.repository, [...foreign].map(digestKey), {
    timeoutMs: options.waitMs ?? 30 * 60_000,
    ...(options.pollMs !== undefined ? { pollMs: options.pollMs } : {}),
  });
  const sources = new Map<string, string>();
  for (const digest of layerMap.keys()) {
    if (ownedSet.has(digest) || records.get(digestKey(digest))?.layer.digest === digest) sources.set(digest, cache.repository);
  }
  const tookOver = [...foreign].filter((d) => !sources.has(d));
  const result = await pushImages({
    ...options,
    targets: mine,
    sessions: pool,
    mountSources: new Map([[cache.registry, sources]]),
    // Layers owned elsewhere are mounted; uploading them here only if their owner never delivered.
    mayUpload: (digest, registry) => registry !== cache.registry || !layerMap.has(digest) || ownedSet.has(digest) || !sources.has(digest),
  });
  result.totals.bytesUploaded += uploadedBytes;
  result.totals.blobsUploaded += uploaded;
  return {
    ...result,
    shard,
    layers: { owned: owned.length, ownedBytes: owned.reduce((s, l) => s + l.size, 0), uploaded, uploadedBytes, tookOver: tookOver.length },
    imagesPushed: mine.map((t) => t.ref),
  };
}
