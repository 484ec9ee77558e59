/** An OCI content descriptor, as in the image-spec. */
export interface Descriptor {
  mediaType: string;
  /** `sha256:<64 hex>`. */
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

/**
 * A manifest read from a layout: its exact bytes (pushed byte for byte so the digest the
 * registry computes equals ours) and the blobs it references. An image index lists its
 * child manifests, which are pushed by digest before the index.
 */
export interface LayoutManifest {
  digest: string;
  mediaType: string;
  size: number;
  bytes: Buffer;
  /** Config and layers (image manifest), in manifest order; empty for an index. */
  blobs: Descriptor[];
  /** Child manifests of an image index, in index order. */
  children: LayoutManifest[];
}

/** One image of the layout: an `index.json` entry annotated with its ref name. */
export interface LayoutImage {
  /** `name:tag`. A bare ref name (as umoci writes: `latest`) is read as `<ref>:latest`. */
  ref: string;
  name: string;
  tag: string;
  manifest: LayoutManifest;
}

export interface Layout {
  dir: string;
  /** Sorted by ref. */
  images: LayoutImage[];
}

/** Where one image goes: `<registry>/<repository>:<tag>`. */
export interface ImageTarget {
  /** The layout ref, `name:tag`. */
  ref: string;
  /** Registry host as written by the user, with port: `ghcr.io`, `127.0.0.1:5000`. */
  registry: string;
  /** Repository path inside the registry: `acme/quotes`. */
  repository: string;
  tag: string;
  /** `<registry>/<repository>:<tag>`. */
  reference: string;
  /** The registry was written `http://...`: plain HTTP asked for (still needs --insecure or loopback). */
  plainHttp: boolean;
  /** Where the target came from, for messages: `--registry`, `planner.config.json registry`, a manifest path. */
  origin: string;
}

/** Username and password (or token) for one registry; `source` names where they came from, never their value. */
export interface Credentials {
  username: string;
  password: string;
  /** `--creds`, `$PLANNER_REGISTRY_USER`, or the auth file path. */
  source: string;
}

/** What happened to one blob in one repository. */
export type BlobAction = 'uploaded' | 'mounted' | 'skipped';

/** Progress events for the CLI's renderer; the library never prints. */
export type PushEvent =
  | { type: 'registry'; registry: string; url: string; auth: 'anonymous' | 'basic' | 'bearer' }
  | { type: 'plan'; registry: string; images: number; blobs: number; bytes: number; present: number; presentBytes: number }
  | { type: 'blob-start'; registry: string; repository: string; digest: string; size: number; action: 'upload' | 'mount' }
  | { type: 'blob-progress'; registry: string; repository: string; digest: string; size: number; sent: number }
  | { type: 'blob-done'; registry: string; repository: string; digest: string; size: number; action: BlobAction }
  | { type: 'retry'; registry: string; what: string; attempt: number; delayMs: number; reason: string }
  | { type: 'manifest'; target: string; digest: string; action: 'pushed' | 'unchanged' };

export interface ImagePushResult {
  /** Layout ref, `name:tag`. */
  image: string;
  /** `<registry>/<repository>:<tag>`. */
  target: string;
  registry: string;
  repository: string;
  tag: string;
  manifestDigest: string;
  /** `pushed`, or `unchanged` when the tag already pointed at this digest. */
  manifest: 'pushed' | 'unchanged';
  bytesUploaded: number;
  bytesSkipped: number;
  bytesMounted: number;
  blobsUploaded: number;
  blobsSkipped: number;
  blobsMounted: number;
}

export interface PushTotals {
  images: number;
  registries: number;
  bytesUploaded: number;
  bytesSkipped: number;
  bytesMounted: number;
  blobsUploaded: number;
  blobsSkipped: number;
  blobsMounted: number;
  /** Bytes sent again because a request failed part way and was retried. */
  bytesResent: number;
  retries: number;
}

export interface PushResult {
  /** Sorted by target. */
  images: ImagePushResult[];
  totals: PushTotals;
}
