import type { SessionPool } from './push.js';
import { publishLayerRecord, readLayerRecord, waitForLayerRecords, type LayerRecord, type PublishResult } from './records.js';
import { DEFAULT_CHUNK_SIZE } from './push.js';
import type { CacheLocation } from './shard-push.js';

/**
 * The registry as the layer cache of `planner build --all --push --shard i/n`: what the
 * build command calls, around its own layer builds.
 *
 *   lookup(keys)        before building: layers some runner (this run or an earlier one) already pushed
 *   publish(record, p)  after building an owned layer: blob into the cache repository, then its record
 *   wait(keys, ms)      before assembling an image: the records of layers other shards own
 *   mountSources(recs)  for pushImages: mount those layers from the cache repository instead of uploading
 */
export interface LayerCache {
  location: CacheLocation;
  lookup: (keys: readonly string[]) => Promise<Map<string, LayerRecord>>;
  publish: (record: LayerRecord, blobFile: string, onProgress?: (sent: number) => void) => Promise<PublishResult>;
  wait: (keys: readonly string[], timeoutMs: number, onWait?: (missing: readonly string[]) => void) => Promise<Map<string, LayerRecord>>;
  mountSources: (records: Iterable<LayerRecord>) => Map<string, Map<string, string>>;
}

export async function openLayerCache(pool: SessionPool, location: CacheLocation, options: { chunkSize?: number } = {}): Promise<LayerCache> {
  const session = await pool.get(location.registry, location.repository, location.plainHttp);
  return {
    location,
    lookup: async (keys) => {
      const found = new Map<string, LayerRecord>();
      const unique = [...new Set(keys)];
      for (let i = 0; i < unique.length; i += 8) {
        const batch = unique.slice(i, i + 8);
        const records = await Promise.all(batch.map((k) => readLayerRecord(session, location.repository, k)));
        records.forEach((r, j) => {
          if (r) found.set(batch[j]!, r);
        });
      }
      return found;
    },
    publish: (record, blobFile, onProgress) =>
      publishLayerRecord(session, {
        repository: location.repository,
        record,
        path: blobFile,
        chunkSize: options.chunkSize ?? DEFAULT_CHUNK_SIZE,
        ...(onProgress ? { onProgress } : {}),
      }),
    wait: (keys, timeoutMs, onWait) => waitForLayerRecords(session, location.repository, keys, { timeoutMs, ...(onWait ? { onWait } : {}) }),
    mountSources: (records) => {
      const byDigest = new Map<string, string>();
      for (const r of records) byDigest.set(r.layer.digest, location.repository);
      return new Map([[location.registry, byDigest]]);
    },
  };
}
