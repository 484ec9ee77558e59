import { imageSetKey } from './build.js';
import type { SharedGraph } from './types.js';

export interface ImageFigures {
  ref: string;
  roots: string[];
  paths: number;
  bytes: number;
  /** Bytes of paths that at least one other image also contains. */
  sharedBytes: number;
  /** Bytes of paths only this image contains. */
  privateBytes: number;
  maxLayers: number;
}

export interface GraphFigures {
  images: ImageFigures[];
  totals: {
    images: number;
    /** Sum over images of closure bytes: what per-image storage without any sharing costs. */
    closureBytes: number;
    closurePaths: number;
    uniquePaths: number;
    /** Every store path once: the lower bound on registry storage. */
    uniqueBytes: number;
    /** Number of distinct sets of images that contain some path. */
    imageSets: number;
  };
}

export function graphFigures(graph: SharedGraph): GraphFigures {
  const images = graph.images.map((image) => {
    let shared = 0;
    for (const id of image.closure) if (graph.popularity[id]! > 1) shared += graph.narSize[id]!;
    return {
      ref: image.ref,
      roots: [...image.roots].map((id) => graph.paths[id]!),
      paths: image.closure.length,
      bytes: image.closureBytes,
      sharedBytes: shared,
      privateBytes: image.closureBytes - shared,
      maxLayers: image.maxLayers,
    };
  });
  let uniqueBytes = 0;
  const sets = new Set<string>();
  for (let id = 0; id < graph.paths.length; id++) {
    uniqueBytes += graph.narSize[id]!;
    sets.add(imageSetKey(graph, id));
  }
  return {
    images,
    totals: {
      images: images.length,
      closureBytes: images.reduce((s, i) => s + i.bytes, 0),
      closurePaths: images.reduce((s, i) => s + i.paths, 0),
      uniquePaths: graph.paths.length,
      uniqueBytes,
      imageSets: sets.size,
    },
  };
}
