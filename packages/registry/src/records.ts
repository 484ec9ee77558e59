import { createHash } from 'node:crypto';
import { PlannerError } from '@planner/errors';
import { blobExists, pushScope, uploadBlob } from './blobs.js';
import { getManifest, manifestDigest, putManifest } from './manifests.js';
import { sleep } from './retry.js';
import type { RegistrySession } from './session.js';
import type { Descriptor } from './types.js';

/**
 * Layer records: the registry as the shared cache of sharded builds. The runner that builds
 * a layer pushes its blob into the cache repository and tags a small OCI manifest there,
 * `layer-<key>`, whose one layer is that blob, annotated with its diffID. Any runner learns
 * a layer's digest, size and diffID from the record without building it, and mounts the
 * blob from the cache repository into its image repositories.
 */
export const RECORD_ARTIFACT_TYPE = 'application/vnd.planner.layer-record.v1';
export const ANNOTATION_KEY = 'dev.planner.layer.key';
export const ANNOTATION_DIFF_ID = 'dev.planner.layer.diff-id';
/** Default repository name, under the registry's prefix: `ghcr.io/acme/planner-cache`. */
export const CACHE_REPOSITORY_NAME = 'planner-cache';

const EMPTY_BYTES = Buffer.from('{}');
export const EMPTY_CONFIG: Descriptor = {
  mediaType: 'application/vnd.oci.empty.v1+json',
  digest: `sha256:${createHash('sha256').update(EMPTY_BYTES).digest('hex')}`,
  size: 2,
};

export interface LayerRecord {
  /** The builder's key for the layer (layer id plus whatever changes its bytes); tag-safe. */
  key: string;
  /** The compressed layer blob as images reference it. */
  layer: Descriptor;
  /** sha256 of the uncompressed tar, for the image config's rootfs.diff_ids; may be unknown. */
  diffID?: string;
}

const KEY = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,121}$/;

export function recordTag(key: string): string {
  if (!KEY.test(key)) throw new Error(`layer record key "${key}" is not tag-safe (letters, digits, _ . -, at most 122)`);
  return `layer-${key}`;
}

/** The record manifest: deterministic bytes for the same record. */
export function recordManifest(record: LayerRecord): { bytes: Buffer; digest: string; mediaType: string } {
  const annotations: Record<string, string> = { [ANNOTATION_KEY]: record.key };
  if (record.diffID) annotations[ANNOTATION_DIFF_ID] = record.diffID;
  const layer: Descriptor = { mediaType: record.layer.mediaType, digest: record.layer.digest, size: record.layer.size, annotations };
  const manifest = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    artifactType: RECORD_ARTIFACT_TYPE,
    config: EMPTY_CONFIG,
    layers: [layer],
    annotations,
  };
  const bytes = Buffer.from(JSON.stringify(manifest));
  return { bytes, digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}`, mediaType: manifest.mediaType };
}

/** Reads a record back; undefined when the manifest is not a record for `key`. */
export function parseRecordManifest(bytes: Buffer, key: string): LayerRecord | undefined {
  let json: { artifactType?: unknown; layers?: unknown };
  try {
    json = JSON.parse(bytes.toString('utf8')) as typeof json;
  } catch {
    return undefined;
  }
  if (json.artifactType !== RECORD_ARTIFACT_TYPE || !Array.isArray(json.layers) || json.layers.length !== 1) return undefined;
  const layer = json.layers[0] as Partial<Descriptor>;
  if (typeof layer.digest !== 'string' || typeof layer.size !== 'number' || typeof layer.mediaType !== 'string') return undefined;
  if (layer.annotations?.[ANNOTATION_KEY] !== key) return undefined;
  const diffID = layer.annotations?.[ANNOTATION_DIFF_ID];
  return { key, layer: { mediaType: layer.mediaType, digest: layer.digest, size: layer.size }, ...(diffID ? { diffID } : {}) };
}

// One check (and upload) of the empty config per session and repository, not one per record.
const emptyConfigs = new WeakMap<RegistrySession, Map<string, Promise<void>>>();

function ensureEmptyConfigOnce(session: RegistrySession, repository: string): Promise<void> {
  let bySession = emptyConfigs.get(session);
  if (!bySession) emptyConfigs.set(session, (bySession = new Map()));
  let pending = bySession.get(repository);
  if (!pending) {
    pending = ensureEmptyConfig(session, repository);
    bySession.set(repository, pending);
    pending.catch(() => bySession.delete(repository));
  }
  return pending;
}

/**
 * A record PUT refused because a blob it references looked missing or unreadable. With
 * runners racing to upload the same blob (every shard uploads the empty config at first),
 * the registry may be rewriting the blob's link in that very moment (distribution's
 * filesystem driver rewrites it in place and reads it back as an invalid digest): check the
 * blobs again and retry.
 */
function racedBlob(error: unknown): boolean {
  if (!(error instanceof PlannerError) || error.details?.status !== 400) return false;
  return ['DIGEST_INVALID', 'MANIFEST_BLOB_UNKNOWN', 'BLOB_UNKNOWN'].includes(String(error.details.registryCode));
}

async function ensureEmptyConfig(session: RegistrySession, repository: string): Promise<void> {
  if (await blobExists(session, repository, EMPTY_CONFIG.digest)) return;
  const res = await session.request({
    method: 'POST',
    url: `/v2/${repository}/blobs/uploads/?digest=${EMPTY_CONFIG.digest}`,
    scopes: [pushScope(repository)],
    headers: { 'content-type': 'application/octet-stream', 'content-length': '2' },
    body: EMPTY_BYTES,
    retry: true,
    what: `upload of the empty config to ${repository}`,
  });
  if (res.status === 201) {
    await res.body?.cancel();
    return;
  }
  // Monolithic POST is optional in the spec: fall back to POST + PUT.
  const location = res.headers.get('location');
  await res.body?.cancel();
  if (res.status !== 202 || !location) throw await session.unexpected(res, `upload of the empty config to ${repository}`);
  const url = session.resolve(location);
  url.searchParams.set('digest', EMPTY_CONFIG.digest);
  const put = await session.request({
    method: 'PUT',
    url: url.href,
    scopes: [pushScope(repository)],
    headers: { 'content-type': 'application/octet-stream', 'content-length': '2' },
    body: EMPTY_BYTES,
    retry: true,
    what: `upload of the empty config to ${repository}`,
  });
  if (put.status !== 201) throw await session.unexpected(put, `upload of the empty config to ${repository}`);
  await put.body?.cancel();
}

export interface PublishResult {
  /** `uploaded` when this call sent the blob, `present` when the cache repository had it. */
  blob: 'uploaded' | 'present';
  record: 'published' | 'present';
  resent: number;
}

/**
 * Puts a layer into the cache repository and tags its record. Idempotent: a blob or record
 * already there is left alone, so runners racing on the same layer both succeed.
 */
export async function publishLayerRecord(
  session: RegistrySession,
  options: { repository: string; record: LayerRecord; path: string; chunkSize: number; onProgress?: (sent: number) => void },
): Promise<PublishResult> {
  const { repository, record } = options;
  let blob: PublishResult['blob'] = 'present';
  let resent = 0;
  if (!(await blobExists(session, repository, record.layer.digest))) {
    const r = await uploadBlob(session, {
      repository,
      digest: record.layer.digest,
      size: record.layer.size,
      path: options.path,
      chunkSize: options.chunkSize,
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
    resent = r.resent;
    blob = 'uploaded';
  }
  const manifest = recordManifest(record);
  const tag = recordTag(record.key);
  if ((await manifestDigest(session, repository, tag)) === manifest.digest) return { blob, record: 'present', resent };
  for (let attempt = 1; ; attempt++) {
    await ensureEmptyConfigOnce(session, repository);
    try {
      await putManifest(session, { repository, reference: tag, ...manifest });
      return { blob, record: 'published', resent };
    } catch (error) {
      if (attempt >= 5 || !racedBlob(error)) throw error;
      emptyConfigs.get(session)?.delete(repository);
      await sleep(100 * 2 ** attempt);
    }
  }
}

export async function readLayerRecord(session: RegistrySession, repository: string, key: string): Promise<LayerRecord | undefined> {
  const found = await getManifest(session, repository, recordTag(key));
  return found ? parseRecordManifest(found.bytes, key) : undefined;
}

export interface WaitOptions {
  /** Give up on records still missing after this long (the caller then builds or uploads them itself). */
  timeoutMs: number;
  pollMs?: number;
  concurrency?: number;
  /** Called before each wait with the keys still missing. */
  onWait?: (missing: readonly string[]) => void;
}

/**
 * Reads the records for `keys`, polling for those another runner has not published yet.
 * Returns what it found; keys missing at the deadline are simply absent from the map.
 */
export async function waitForLayerRecords(session: RegistrySession, repository: string, keys: readonly string[], options: WaitOptions): Promise<Map<string, LayerRecord>> {
  const found = new Map<string, LayerRecord>();
  const deadline = Date.now() + options.timeoutMs;
  let missing = [...new Set(keys)].sort();
  const width = Math.max(1, options.concurrency ?? 8);
  for (;;) {
    for (let i = 0; i < missing.length; i += width) {
      const batch = missing.slice(i, i + width);
      const records = await Promise.all(batch.map((k) => readLayerRecord(session, repository, k)));
      records.forEach((r, j) => {
        if (r) found.set(batch[j]!, r);
      });
    }
    missing = missing.filter((k) => !found.has(k));
    if (missing.length === 0 || Date.now() >= deadline) return found;
    options.onWait?.(missing);
    await sleep(Math.min(options.pollMs ?? 2000, Math.max(0, deadline - Date.now())));
  }
}

/** A record that does not match what this runner built: the layer is not reproducible. */
export function recordMismatch(record: LayerRecord, built: Descriptor, registry: string): PlannerError {
  return new PlannerError('E_REGISTRY', `layer ${record.key} in ${registry} has digest ${record.layer.digest} but this runner built ${built.digest}`, {
    exitCode: 1,
    hint: 'runners must build byte-identical layers: check that every runner uses the same planner version and lock file',
    details: { registry, key: record.key, recorded: record.layer.digest, built: built.digest },
  });
}
