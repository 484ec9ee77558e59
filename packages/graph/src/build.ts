import { DirectedGraph } from 'graphology';
import { choicesHint, PlannerError } from '@planner/errors';
import type { Closure, PathInfo } from '@planner/closure';
import type { GraphImage, ImageSpec, PathNodeAttributes, SharedGraph } from './types.js';

export interface BuildGraphOptions {
  storeDir?: string;
}

function byteOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Builds the repo-wide shared graph from each image's closure. Ids are positions in the
 * byte-sorted path list, images are sorted by ref: the result does not depend on input order.
 */
export function buildSharedGraph(closures: ReadonlyMap<string, Closure>, images: readonly ImageSpec[], options: BuildGraphOptions = {}): SharedGraph {
  const storeDir = options.storeDir ?? '/nix/store';
  const specs = [...images].sort((a, b) => byteOrder(a.ref, b.ref));
  const all = new Map<string, PathInfo>();
  const firstSeenIn = new Map<string, string>();
  for (const spec of specs) {
    const closure = closures.get(spec.ref);
    if (!closure) throw new Error(`no closure for image ${spec.ref}`);
    for (const info of closure.values()) {
      const seen = all.get(info.path);
      if (seen === undefined) {
        all.set(info.path, info);
        firstSeenIn.set(info.path, spec.ref);
      } else if (seen !== info && (seen.narSize !== info.narSize || seen.narHash !== info.narHash)) {
        throw new PlannerError(
          'E_SIZE_CONFLICT',
          `${info.path} has ${seen.narSize !== info.narSize ? `narSize ${seen.narSize} in ${firstSeenIn.get(info.path)} but ${info.narSize}` : `narHash ${seen.narHash} in ${firstSeenIn.get(info.path)} but ${info.narHash}`} in ${spec.ref}`,
          {
            hint: 'two closure files disagree about one store object; re-export them from the same store',
            details: { path: info.path, images: [firstSeenIn.get(info.path), spec.ref] },
          },
        );
      }
    }
    for (const root of spec.roots) {
      if (!closure.has(root)) throw new Error(`root ${root} of ${spec.ref} is not in its closure`);
    }
  }
  const paths = [...all.keys()].sort(byteOrder);
  const idOf = new Map<string, number>();
  paths.forEach((p, i) => idOf.set(p, i));
  const n = paths.length;
  const narSize = new Float64Array(n);
  const narHash: string[] = new Array<string>(n);
  const references: Uint32Array[] = new Array<Uint32Array>(n);
  for (let id = 0; id < n; id++) {
    const info = all.get(paths[id]!)!;
    narSize[id] = info.narSize;
    narHash[id] = info.narHash;
    const refs = new Uint32Array(info.references.length);
    let k = 0;
    for (const ref of info.references) {
      const rid = idOf.get(ref);
      if (rid === undefined) throw new Error(`${info.path} refers to ${ref}, missing from every closure`);
      if (rid !== id) refs[k++] = rid;
    }
    references[id] = refs.subarray(0, k).sort();
  }
  const words = Math.max(1, Math.ceil(specs.length / 32));
  const imageSets = new Uint32Array(n * words);
  const popularity = new Uint32Array(n);
  const graphImages: GraphImage[] = specs.map((spec, index) => {
    const closure = closures.get(spec.ref)!;
    const ids = new Uint32Array(closure.size);
    let k = 0;
    let bytes = 0;
    for (const path of closure.keys()) {
      const id = idOf.get(path)!;
      ids[k++] = id;
      bytes += narSize[id]!;
      imageSets[id * words + (index >>> 5)]! |= 1 << (index & 31);
      popularity[id]!++;
    }
    ids.sort();
    const storeBudget = spec.maxLayers - 1 - spec.baseLayers;
    return {
      index,
      ref: spec.ref,
      name: spec.name,
      tag: spec.tag,
      roots: Uint32Array.from([...new Set(spec.roots)].map((r) => idOf.get(r)!)).sort(),
      closure: ids,
      closureBytes: bytes,
      maxLayers: spec.maxLayers,
      baseLayers: spec.baseLayers,
      storeBudget,
    };
  });
  for (const image of graphImages) if (image.storeBudget < 1) throw noStoreLayer(image.ref, image.maxLayers, image.baseLayers);
  const shared: SharedGraph = {
    storeDir,
    paths,
    narSize,
    narHash,
    references,
    images: graphImages,
    words,
    imageSets,
    popularity,
    graph: undefined as unknown as DirectedGraph<PathNodeAttributes>,
  };
  shared.graph = toGraphology(shared);
  return shared;
}

/** The same data as a graphology DirectedGraph keyed by store path. */
function toGraphology(shared: SharedGraph): DirectedGraph<PathNodeAttributes> {
  const graph = new DirectedGraph<PathNodeAttributes>({ multi: false, allowSelfLoops: false });
  const { paths, images, words, imageSets } = shared;
  for (let id = 0; id < paths.length; id++) {
    const refs: string[] = [];
    for (let w = 0; w < words; w++) {
      let bits = imageSets[id * words + w]!;
      while (bits !== 0) {
        const low = bits & -bits;
        refs.push(images[w * 32 + (31 - Math.clz32(low))]!.ref);
        bits ^= low;
      }
    }
    graph.addNode(paths[id]!, { narSize: shared.narSize[id]!, narHash: shared.narHash[id]!, images: refs });
  }
  for (let id = 0; id < paths.length; id++) {
    const from = paths[id]!;
    for (const ref of shared.references[id]!) graph.addDirectedEdge(from, paths[ref]!);
  }
  return graph;
}

/** True when image `index` contains path `id`. */
export function hasImage(graph: SharedGraph, id: number, index: number): boolean {
  return (graph.imageSets[id * graph.words + (index >>> 5)]! & (1 << (index & 31))) !== 0;
}

/** A stable key for the set of images containing path `id` (hex of its bitset row). */
export function imageSetKey(graph: SharedGraph, id: number): string {
  let key = '';
  for (let w = 0; w < graph.words; w++) key += graph.imageSets[id * graph.words + w]!.toString(16).padStart(8, '0');
  return key;
}

/** referrers[id] = ids of the paths that refer to `id` (the reverse of `references`), ascending. */
export function referrersOf(graph: SharedGraph): number[][] {
  const referrers: number[][] = Array.from({ length: graph.paths.length }, () => []);
  graph.references.forEach((refs, id) => {
    for (const ref of refs) referrers[ref]!.push(id);
  });
  return referrers;
}

/** Refs of the images containing path `id`, sorted. */
export function imagesOf(graph: SharedGraph, id: number): string[] {
  return graph.graph.getNodeAttribute(graph.paths[id]!, 'images');
}

/** E_BUDGET: `maxLayers` leaves an image no layer for store paths (one is its customisation layer). */
export function noStoreLayer(ref: string, maxLayers: number, baseLayers: number): PlannerError {
  return new PlannerError('E_BUDGET', `${ref}: maxLayers ${maxLayers} leaves no layer for store paths (1 customisation layer${baseLayers ? ` + ${baseLayers} base image layers` : ''})`, {
    hint: `use maxLayers of at least ${baseLayers + 2} for ${ref}`,
    details: { image: ref, maxLayers, baseLayers },
  });
}

/**
 * The image a user named, by `name:tag` or by name alone; undefined when none has it.
 * A name several images share is E_UNKNOWN_IMAGE, listing their refs.
 */
export function findImage<T extends { ref: string; name: string }>(images: readonly T[], query: string): T | undefined {
  const exact = images.find((i) => i.ref === query);
  if (exact) return exact;
  const named = images.filter((i) => i.name === query);
  if (named.length > 1) {
    throw new PlannerError('E_UNKNOWN_IMAGE', `${query} names several images: ${named.map((i) => i.ref).join(', ')}`, {
      hint: 'name one of them by name:tag',
      details: { images: named.map((i) => i.ref) },
    });
  }
  return named[0];
}

/** E_UNKNOWN_IMAGE for a name no image has, suggesting the closest name (or name:tag when one was typed). */
export function unknownImage(query: string, images: readonly { ref: string; name: string }[]): PlannerError {
  const choices = query.includes(':') ? images.map((i) => i.ref) : [...new Set(images.map((i) => i.name))];
  return new PlannerError('E_UNKNOWN_IMAGE', `no image ${query} in the workspace`, { hint: choicesHint(query, choices, 'planner ls lists them') });
}
