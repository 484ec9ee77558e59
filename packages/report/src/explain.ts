import { closestMatch, PlannerError } from '@planner/errors';
import { findImage, referrersOf, unknownImage, type SharedGraph } from '@planner/graph';
import type { Plan } from '@planner/layering';
import { storeName } from './format.js';
import { usedLayerIds } from './measures.js';
import { layerReports } from './report.js';
import type { ExplainImageData, ExplainPathData } from './types.js';

export type ExplainTarget = { kind: 'image'; ref: string } | { kind: 'path'; path: string };

/**
 * Resolves what the user typed: an image ref or name, a store path (or a file inside one),
 * a store path's base name, or an unambiguous part of a store path's name.
 */
export function resolveTarget(graph: SharedGraph, query: string): ExplainTarget {
  const image = findImage(graph.images, query);
  if (image) return { kind: 'image', ref: image.ref };
  // name:tag (no store path has a colon in its name): an image the workspace does not have.
  if (query.includes(':') && !query.startsWith('/')) throw unknownImage(query, graph.images);
  const storeDir = graph.storeDir;
  if (query.startsWith(`${storeDir}/`)) {
    const base = query.slice(storeDir.length + 1).split('/')[0]!;
    const path = `${storeDir}/${base}`;
    if (graph.graph.hasNode(path)) return { kind: 'path', path };
    throw new PlannerError('E_USAGE', `${path} is in no image's closure`, {
      hint: 'planner ls lists the images; planner explain <image> lists its layers',
      details: { path },
    });
  }
  if (graph.graph.hasNode(`${storeDir}/${query}`)) return { kind: 'path', path: `${storeDir}/${query}` };
  const matches = graph.paths.filter((p) => storeName(p) === query);
  const candidates = matches.length > 0 ? matches : graph.paths.filter((p) => storeName(p).includes(query));
  if (candidates.length === 1) return { kind: 'path', path: candidates[0]! };
  if (candidates.length === 0) {
    const image = closestMatch(
      query,
      graph.images.map((i) => i.name),
    );
    throw new PlannerError('E_USAGE', `"${query}" is neither an image nor a store path of any image's closure`, {
      hint: image ? `did you mean the image ${image}?` : 'pass an image (name:tag), a store path, or part of a store path name; planner ls lists the images',
    });
  }
  const shown = candidates.slice(0, 10).join('\n  ');
  throw new PlannerError('E_USAGE', `"${query}" matches ${candidates.length} store paths:\n  ${shown}${candidates.length > 10 ? '\n  ...' : ''}`, {
    hint: 'pass the full store path',
    details: { candidates },
  });
}

/** Shortest chain of references from one of each image's roots to `path` (root first). */
function chains(graph: SharedGraph, target: number): Map<number, number[]> {
  // Breadth-first over reversed edges from the target: next[id] is the step towards it.
  const n = graph.paths.length;
  const referrers = referrersOf(graph);
  const dist = new Int32Array(n).fill(-1);
  const next = new Int32Array(n).fill(-1);
  dist[target] = 0;
  const queue = [target];
  for (let q = 0; q < queue.length; q++) {
    const id = queue[q]!;
    for (const from of referrers[id]!) {
      if (dist[from] !== -1) continue;
      dist[from] = dist[id]! + 1;
      next[from] = id;
      queue.push(from);
    }
  }
  const result = new Map<number, number[]>();
  for (const image of graph.images) {
    let best = -1;
    for (const root of image.roots) if (dist[root] !== -1 && (best === -1 || dist[root]! < dist[best]!)) best = root;
    if (best === -1) continue;
    const chain = [best];
    for (let id = best; id !== target;) chain.push((id = next[id]!));
    result.set(image.index, chain);
  }
  return result;
}

export function explainPath(graph: SharedGraph, plan: Plan, path: string): ExplainPathData {
  const id = graph.paths.indexOf(path);
  if (id < 0) throw new PlannerError('E_USAGE', `${path} is in no image's closure`, { hint: 'planner ls lists the images' });
  const used = usedLayerIds(plan);
  const planLayer = plan.layers.find((l) => used.has(l.id) && l.paths.includes(path));
  const layer = planLayer ? layerReports(plan, graph).find((l) => l.id === planLayer.id) : undefined;
  const sizeOf = (p: string): number => graph.graph.getNodeAttribute(p, 'narSize');
  const byChain = chains(graph, id);
  return {
    kind: 'path',
    path,
    narSize: graph.narSize[id]!,
    layer:
      layer && planLayer
        ? {
            id: layer.id,
            position: layer.position,
            narSize: layer.narSize,
            otherPaths: planLayer.paths
              .filter((p) => p !== path)
              .map((p) => ({ path: p, narSize: sizeOf(p) }))
              .sort((a, b) => b.narSize - a.narSize || (a.path < b.path ? -1 : 1)),
            images: layer.images,
          }
        : null,
    images: graph.images.filter((image) => byChain.has(image.index)).map((image) => ({ ref: image.ref, chain: byChain.get(image.index)!.map((k) => graph.paths[k]!) })),
  };
}

export function explainImage(graph: SharedGraph, plan: Plan, ref: string): ExplainImageData {
  const image = graph.images.find((i) => i.ref === ref);
  if (!image) throw new PlannerError('E_UNKNOWN_IMAGE', `no image ${ref} in the workspace`, { hint: 'planner ls lists the images' });
  const layers = new Map(layerReports(plan, graph).map((l) => [l.id, l]));
  const planImage = plan.images.find((i) => i.name === ref);
  return {
    kind: 'image',
    ref,
    closureBytes: image.closureBytes,
    paths: image.closure.length,
    storeBudget: image.storeBudget,
    maxLayers: image.maxLayers,
    baseLayers: image.baseLayers,
    layers: (planImage?.layers ?? []).map((id) => {
      const l = layers.get(id)!;
      return { id, position: l.position, narSize: l.narSize, paths: l.paths, shared: l.images.length > 1, images: l.images.length, largestPaths: l.largestPaths };
    }),
  };
}
