/**
 * @planner/oci: turns a layer plan into OCI images. Every distinct layer is built once
 * (deterministic tar, reproducible gzip), cached, and shared by every image of one OCI layout.
 */
export { buildImages } from './build.js';
export { countBaseImageLayers, readBaseImage, type BaseImage, type BaseLayer } from './base-image.js';
export { LayerCache, LAYER_FORMAT_VERSION, storeLayerKey } from './cache.js';
export { BLOCK_SIZE, compressorInfo, type CompressorInfo } from './compress.js';
export { mergeContainerConfig, type HistoryEntry, type OciImageConfig } from './config.js';
export { customisationEntries } from './customisation.js';
export { dockerArchiveName } from './docker-archive.js';
export { storeLayerEntries, type TarEntry } from './entries.js';
export { blobPath, MEDIA_TYPES, readIndex, REF_NAME, sha256, type OciIndex, type OciManifest } from './layout.js';
export { LAYER_MTIME } from './tar.js';
export type {
  BuildOptions,
  BuildProgress,
  BuildSummary,
  BuiltImage,
  BuiltLayer,
  Compression,
  Descriptor,
  ExchangeSummary,
  ImageBuildSpec,
  ImageConfigInput,
  LayerExchange,
  LayerJob,
  LayerKind,
  LayerRecord,
  RemoteLayer,
} from './types.js';
