/**
 * @planner/registry: pushes OCI image layouts to registries over the OCI distribution API
 * (Node's fetch), shares blobs across images and shards, and reports what it sent.
 */
export { blobExists, mountBlob, uploadBlob, pushScope, type UploadOptions, type UploadResult } from './blobs.js';
export { parseChallenges, type Challenge } from './challenge.js';
export { authFilePaths, ENV_PASSWORD, ENV_USER, findCredentials, loadCredentialSources, normaliseAuthKey, parseCredsFlag, type AuthFile, type CredentialSources } from './credentials.js';
export { blobPath, hasBlob, manifestBlobs, readLayout, REF_NAME } from './layout.js';
export { getManifest, manifestDigest, MANIFEST_MEDIA_TYPES, putManifest } from './manifests.js';
export { openLayerCache, type LayerCache } from './layer-cache.js';
export { DEFAULT_CHUNK_SIZE, DEFAULT_CONCURRENCY, inContext, pushImages, SessionPool, type ConnectOptions, type PushOptions } from './push.js';
export {
  ANNOTATION_DIFF_ID,
  ANNOTATION_KEY,
  CACHE_REPOSITORY_NAME,
  EMPTY_CONFIG,
  parseRecordManifest,
  publishLayerRecord,
  readLayerRecord,
  RECORD_ARTIFACT_TYPE,
  recordManifest,
  recordMismatch,
  recordTag,
  waitForLayerRecords,
  type LayerRecord,
  type PublishResult,
  type WaitOptions,
} from './records.js';
export { apiHost, isLoopbackHost, parseRegistry, resolveTargets, type RegistryLocation, type TargetOptions, type TargetRequest } from './reference.js';
export { backoffDelay, classifyNetworkError, DEFAULT_RETRY_POLICY, isRetryableStatus, parseRetryAfter, type RetryPolicy } from './retry.js';
export { RegistrySession, TransientFailure, type RequestOptions, type SessionOptions } from './session.js';
export { parseShard, shardOf, type ShardBy, type ShardSpec } from './shard.js';
export { cacheLocation, digestKey, pushShard, type CacheLocation, type ShardPushOptions, type ShardPushResult } from './shard-push.js';
export type * from './types.js';
