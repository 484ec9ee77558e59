import type { SharedGraph } from '@planner/graph';
import { groupPaths } from '../groups.js';
import { layerId } from '../layer-id.js';
import { planMaxLayers, storeBudgets } from '../plan.js';
import type { Plan, PlanLayer } from '../types.js';
import { autoLayers } from './auto-layer.js';
import { popularityLayers } from './popularity.js';

export type BaselineKind = 'single' | 'popularity' | 'auto-layer' | 'lower-bound';

/** Every baseline, in the order reports list them, with how to name it to people. */
export const BASELINES: readonly { kind: BaselineKind; label: string; describe: string }[] = [
  { kind: 'single', label: 'per-image buildImage', describe: 'one layer per image (dockerTools.buildImage)' },
  { kind: 'popularity', label: 'per-image popularity layering', describe: 'referencesByPopularity, one path per layer, the rest squashed (old buildLayeredImage)' },
  { kind: 'auto-layer', label: 'per-image auto-layer', describe: "nixpkgs' current default (auto-layer.py), each image on its own" },
  { kind: 'lower-bound', label: 'the lower bound', describe: 'every unique store path stored once (no layer budget)' },
];

export interface BaselineOptions {
  /** Overrides every image's maxLayers, as for plan(). */
  maxLayers?: number;
}

/**
 * What registry storage would look like without joint planning: each image layered on its
 * own by a nixpkgs strategy, identical layers (same paths, same id) stored once, as a
 * registry dedupes them. `lower-bound` is every path once: its images ignore budgets.
 * Baseline plans list layers by id; only plan() promises a global bottom-to-top order.
 */
export function baselinePlan(graph: SharedGraph, kind: BaselineKind, options: BaselineOptions = {}): Plan {
  const maxLayers = planMaxLayers(graph, options.maxLayers);
  if (kind === 'lower-bound') {
    const { paths } = groupPaths(graph.imageSets, graph.words, graph.narSize);
    const perImage: number[][][] = graph.images.map(() => []);
    for (const ids of paths) for (const image of graph.images) if (hasImage(graph, ids[0]!, image.index)) perImage[image.index]!.push(ids);
    return planFromImageLayers(graph, perImage, maxLayers);
  }
  const budgets = storeBudgets(graph, options.maxLayers);
  const perImage = graph.images.map((image) => {
    const budget = budgets[image.index]!;
    switch (kind) {
      case 'single':
        return [[...image.closure]];
      case 'popularity':
        return popularityLayers(graph, image, budget);
      case 'auto-layer':
        return autoLayers(graph, image, budget);
    }
  });
  return planFromImageLayers(graph, perImage, maxLayers);
}

function hasImage(graph: SharedGraph, id: number, index: number): boolean {
  return (graph.imageSets[id * graph.words + (index >>> 5)]! & (1 << (index & 31))) !== 0;
}

/** A Plan from each image's layers (path ids, bottom first); equal layers become one. */
export function planFromImageLayers(graph: SharedGraph, perImage: readonly (readonly (readonly number[])[])[], maxLayers: number): Plan {
  const layers = new Map<string, PlanLayer>();
  const images = graph.images.map((image) => {
    const ids: string[] = [];
    for (const layer of perImage[image.index]!) {
      if (layer.length === 0) continue;
      const sorted = [...layer].sort((a, b) => a - b);
      const paths = sorted.map((id) => graph.paths[id]!);
      const id = layerId(paths);
      let entry = layers.get(id);
      if (!entry) {
        let narSize = 0;
        for (const p of sorted) narSize += graph.narSize[p]!;
        entry = { id, paths, narSize, images: [] };
        layers.set(id, entry);
      }
      entry.images.push(image.ref);
      ids.push(id);
    }
    return { name: image.ref, layers: ids };
  });
  const sorted = [...layers.values()].sort((a, b) => (a.id < b.id ? -1 : 1));
  return { maxLayers, storeDir: graph.storeDir, layers: sorted, images };
}
