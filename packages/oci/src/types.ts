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
  /**
   * Refs to build; all images of the plan when omitted. With `exchange`, exactly these
   * images (an empty list builds none) and the layout then holds only them.
   */
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
  /**
   * Share the layer work with other runners (a sharded build): every layer of every image of
   * the plan is listed to `exchange.assign`, this run builds only its share (plus what the
   * selected images need and nobody delivered), and the selected images may use layers known
   * only from the exchange's records, whose blobs are then not in the layout.
   */
  exchange?: LayerExchange | undefined;
}

/** One distinct layer of a build, as a sharded build splits the work. */
export interface LayerJob {
  /**
   * The layer's cache key (`storeLayerKey`, `customisationLayerKey`, base: by diffID): the
   * same on every machine running the same planner version, and different whenever the
   * bytes would be. 64 hex digits.
   */
  key: string;
  kind: LayerKind;
  /** Plan layer id, image ref (customisation) or base image layer, for messages. */
  id: string;
  /** What building it costs, in bytes (narSize of a store layer; 0 when unknown). */
  weight: number;
  /** Refs of the images that use it, sorted. */
  images: string[];
}

/** A layer known from elsewhere (another runner's record): enough for a manifest, no blob here. */
export interface RemoteLayer {
  diffID: string;
  digest: string;
  size: number;
  mediaType: string;
}

/**
 * Where the runners of a sharded build meet (the CLI backs it with layer records in the
 * registry). The builder calls, in this order: `assign` once; `lookup` for every layer it
 * builds or needs; `publish` for each layer it builds (or has in its cache) that `lookup` did
 * not find; `wait` for the layers its images need that other runners own; then builds what
 * `wait` did not return and publishes it too.
 */
export interface LayerExchange {
  /** Keys of the layers this runner builds; the others are its peers'. */
  assign: (layers: readonly LayerJob[]) => ReadonlySet<string>;
  /** Images whose layers must all have local blobs (written elsewhere than the exchange reaches). */
  needsBlobs?: ReadonlySet<string> | undefined;
  lookup: (keys: readonly string[]) => Promise<ReadonlyMap<string, RemoteLayer>>;
  /** Starts publishing a layer this run holds; the build awaits every publish before it writes the layout. */
  publish: (layer: LayerJob, record: LayerRecord, blobFile: string) => Promise<void>;
  /** The peers' records for `keys`, waiting for them up to the exchange's deadline; absent keys are built here. */
  wait: (keys: readonly string[]) => Promise<ReadonlyMap<string, RemoteLayer>>;
  /** The error for a layer whose record disagrees with the bytes this runner has: layers are not reproducible. */
  mismatch: (layer: LayerJob, local: LayerRecord, remote: RemoteLayer) => Error;
}

export type BuildProgress =
  /**
   * The store layers this run handles: `cached` from the layer cache; in sharded builds also
   * `remote` (known from other runners' records) and `awaited` (to come from other runners).
   */
  | { type: 'start'; layers: number; cached: number; bytesToBuild: number; remote?: number; awaited?: number }
  | { type: 'layer-start'; id: string; kind: LayerKind; narSize: number }
  | { type: 'layer-bytes'; id: string; bytesIn: number; bytesOut: number }
  | { type: 'layer-done'; id: string; kind: LayerKind; cached: boolean; record: LayerRecord }
  /** Sharded builds: waiting for `layers` layers other runners build. */
  | { type: 'wait'; layers: number }
  /** Sharded builds: `layers` layers did not arrive in time and are built here. */
  | { type: 'take-over'; layers: number }
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

export interface BuiltLayer extends Omit<LayerRecord, 'tarSize'> {
  kind: LayerKind;
  /** Plan layer id for store layers. */
  planLayer?: string;
  /** Not built by this run: from the layer cache, or (`remote`) from another runner. */
  cached: boolean;
  /** Known only from another runner's record (sharded builds): its blob is not in the layout. */
  remote?: true;
  /** Uncompressed tar size; absent for `remote` layers. */
  tarSize?: number;
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
    /** Layers this run built (in a sharded build also layers only other runners' images use). */
    built: number;
    /** Layers of the images taken from the layer cache. */
    reused: number;
    /** Layers of the images known only from other runners' records (sharded builds; no blob in the layout). */
    remote: number;
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
  /** With `exchange`: how the layer work was shared. */
  exchange?: ExchangeSummary;
}

export interface ExchangeSummary {
  /** Layers assigned to this runner. */
  owned: number;
  /** Keys of the layers this run built, sorted (owned ones, then any taken over). */
  built: string[];
  /** Layers this run published (built here, or found in its cache) because the exchange lacked them. */
  published: number;
  /** Layers of other runners this run waited for and got. */
  waited: number;
  /** Layers of other runners that did not arrive in time and were built here. */
  tookOver: number;
}
