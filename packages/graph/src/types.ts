import type { DirectedGraph } from 'graphology';

/** An image as the planner sees it: its roots and its layer budget. */
export interface ImageSpec {
  /** `name:tag`, unique in the workspace. */
  ref: string;
  name: string;
  tag: string;
  /** Root store paths (the image's `contents`, realised). */
  roots: readonly string[];
  /** The manifest's (or workspace's) maxLayers: total layers the image may have. */
  maxLayers: number;
  /** Layers taken by the base image (`fromImage`), 0 when none. */
  baseLayers: number;
}

/** One image inside the shared graph; path ids index into `SharedGraph.paths`. */
export interface GraphImage {
  /** Position in `SharedGraph.images` (images are sorted by ref). */
  index: number;
  ref: string;
  name: string;
  tag: string;
  roots: Uint32Array;
  /** Sorted path ids of the image's closure. */
  closure: Uint32Array;
  closureBytes: number;
  maxLayers: number;
  baseLayers: number;
  /** Layers left for store paths: maxLayers - 1 (customisation layer) - baseLayers. */
  storeBudget: number;
}

/**
 * The whole repo's dependency graph in a compact, interned form: path ids are indexes
 * into `paths` (sorted byte-wise, so ids are deterministic whatever the input order).
 * `graph` is the same data as a graphology DirectedGraph (node key = store path,
 * attributes narSize/narHash/images), for algorithms and for users of graphology.
 */
export interface SharedGraph {
  storeDir: string;
  paths: readonly string[];
  narSize: Float64Array;
  narHash: readonly string[];
  /** references[id] = sorted ids of the paths `id` refers to (no self edges). */
  references: readonly Uint32Array[];
  images: readonly GraphImage[];
  /** Words per path row in `imageSets`: ceil(images.length / 32). */
  words: number;
  /** Bitset of images containing each path: row `id` is imageSets[id*words .. +words). */
  imageSets: Uint32Array;
  /** How many images contain each path. */
  popularity: Uint32Array;
  graph: DirectedGraph<PathNodeAttributes>;
}

export interface PathNodeAttributes {
  narSize: number;
  narHash: string;
  /** Refs (`name:tag`) of the images whose closure contains this path, sorted. */
  images: string[];
}
