import type { Plan } from '@planner/layering';

/** Layer compression. `zstd` is refused with E_COMPRESSION (no reproducible zstd on Node 20). */
export type Compression = 'none' | 'gzip' | 'zstd';

/** OCI image config in dockerTools' spelling (the manifest's `config`). */
export interface ImageConfigInput {
  Cmd?: string[];
  Entrypoint?: string[];
  Env?: string[];
  ExposedPorts?: Record<string, object>;
  WorkingDir?: string;
  User?: string;
  Labels?: Record<string, string>;
  Volumes?: Record<string, object>;
  StopSignal?: string;
}

/** What the builder needs to know about one image besides the plan. */
export interface ImageBuildSpec {
  /** `name:tag`, as in `Plan.images[].name`. */
  ref: string;
  /** Root store paths linked into `/` by the customisation layer (symlinkJoin). */
  contents: readonly string[];
  config?: ImageConfigInput | undefined;
  /** Absolute path of a docker-archive or OCI-layout tarball whose layers go first. */
  fromImage?: string | undefined;
}

export interface BuildOptions {
  plan: Plan;
  images: readonly ImageBuildSpec[];
  /** Refs to build; all images of the plan when omitted. */
  select?: readonly string[] | undefined;
  /** OCI image layout directory. */
  out: string;
  /** Layer cache directory. */
  cacheDir: string;
  compression?: Compression | undefined;
  /** Also write one docker-archive tar per image into this directory. */
  dockerArchiveDir?: string | undefined;
  /** Parallel layer builds and compression workers; default: available cores. */
  jobs?: number | undefined;
  /** Seconds since the epoch for the config's `created`; default SOURCE_DATE_EPOCH or 0. */
  sourceDateEpoch?: number | undefined;
  onProgress?: ((event: BuildProgress) => void) | undefined;
}

export type BuildProgress =
  | { type: 'start'; layers: number; cached: number; bytesToBuild: number }
  | { type: 'layer-start'; id: string; kind: LayerKind; narSize: number }
  | { type: 'layer-bytes'; id: string; bytesIn: number; bytesOut: number }
  | { type: 'layer-done'; id: string; kind: LayerKind; cached: boolean; record: LayerRecord }
  | { type: 'image-done'; ref: string; manifestDigest: string }
  | { type: 'archive-done'; ref: string; file: string };

export type LayerKind = 'store' | 'base' | 'customisation';

/** What the cache keeps about one built layer; the blob lives under the cache's blobs/. */
export interface LayerRecord {
  /** sha256 of the uncompressed tar (`rootfs.diff_ids`). */
  diffID: string;
  /** sha256 of the blob as stored (compressed or not). */
  digest: string;
  /** Blob size in bytes. */
  size: number;
  /** Uncompressed tar size in bytes. */
  tarSize: number;
  mediaType: string;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

export interface BuiltLayer extends LayerRecord {
  kind: LayerKind;
  /** Plan layer id for store layers. */
  planLayer?: string;
  cached: boolean;
}

export interface BuiltImage {
  ref: string;
  manifestDigest: string;
  manifestSize: number;
  configDigest: string;
  layers: BuiltLayer[];
  /** Sum of the image's blob sizes (what a registry with no shared layers would store). */
  size: number;
  dockerArchive?: string;
}

export interface BuildSummary {
  out: string;
  cacheDir: string;
  compression: Compression;
  /** Compressor identity: the same id gives the same bytes on every machine. */
  compressor: string;
  images: BuiltImage[];
  layers: {
    /** Distinct layers the selected images use (store + base + customisation). */
    distinct: number;
    built: number;
    reused: number;
    /** Uncompressed tar bytes produced by this run. */
    bytesIn: number;
    /** Blob bytes written by this run (cache and layout). */
    bytesWritten: number;
  };
  sharing: {
    storeLayers: number;
    /** Sum over images of their store layers' blob sizes. */
    perImageBytes: number;
    /** Blob bytes of the distinct store layers. */
    uniqueBytes: number;
    /** perImageBytes / uniqueBytes. */
    ratio: number;
  };
  durationMs: number;
}
