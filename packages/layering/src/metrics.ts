import type { SharedGraph } from '@planner/graph';
import { BASELINES, baselinePlan, type BaselineKind } from './baselines/index.js';
import { storeBudgets } from './plan.js';
import type { Plan } from './types.js';

export interface ImageMetrics {
  name: string;
  /** Store layers (the customisation layer not counted). */
  layers: number;
  /** The image's store-layer budget in the graph (maxLayers - 1 - base layers). */
  budget: number;
  /** Sum of its layers' bytes (= its closure's bytes for a sound plan). */
  bytes: number;
  /** Bytes of its layers that no other image uses. */
  privateBytes: number;
}

export interface PlanMetrics {
  /** What a registry stores: every distinct layer once (sum of narSize). */
  registryBytes: number;
  /** Distinct layers. */
  layers: number;
  /** Every unique store path once: the lower bound on registryBytes. */
  uniqueBytes: number;
  /** registryBytes / uniqueBytes (1 = nothing stored twice). */
  overhead: number;
  /** Sum over images of their layers' bytes (what per-image storage without sharing costs). */
  imageBytes: number;
  maxImageLayers: number;
  meanImageLayers: number;
  /** Images with more store layers than their budget. */
  overBudget: string[];
  images: ImageMetrics[];
}

/** Storage and layer-count figures of a plan (ours or a baseline) against its graph. */
export function planMetrics(plan: Plan, graph: SharedGraph, options: { maxLayers?: number } = {}): PlanMetrics {
  const byId = new Map(plan.layers.map((layer) => [layer.id, layer]));
  let registryBytes = 0;
  for (const layer of plan.layers) registryBytes += layer.narSize;
  let uniqueBytes = 0;
  for (let id = 0; id < graph.paths.length; id++) uniqueBytes += graph.narSize[id]!;
  const budgets = storeBudgets(graph, options.maxLayers);
  const budgetOf = new Map(graph.images.map((image) => [image.ref, budgets[image.index]!]));
  const images: ImageMetrics[] = plan.images.map((image) => {
    let bytes = 0;
    let privateBytes = 0;
    for (const id of image.layers) {
      const layer = byId.get(id);
      if (!layer) continue;
      bytes += layer.narSize;
      if (layer.images.length === 1) privateBytes += layer.narSize;
    }
    return { name: image.name, layers: image.layers.length, budget: budgetOf.get(image.name) ?? 0, bytes, privateBytes };
  });
  const counts = images.map((i) => i.layers);
  return {
    registryBytes,
    layers: plan.layers.length,
    uniqueBytes,
    overhead: uniqueBytes === 0 ? 1 : registryBytes / uniqueBytes,
    imageBytes: images.reduce((sum, i) => sum + i.bytes, 0),
    maxImageLayers: counts.length === 0 ? 0 : Math.max(...counts),
    meanImageLayers: counts.length === 0 ? 0 : counts.reduce((a, b) => a + b, 0) / counts.length,
    overBudget: images.filter((i) => i.layers > i.budget).map((i) => i.name),
    images,
  };
}

export interface BaselineComparison {
  kind: BaselineKind;
  /** How to name it in a sentence: "1.41x less than per-image auto-layer". */
  label: string;
  describe: string;
  registryBytes: number;
  layers: number;
  /** Baseline bytes / plan bytes: how many times more the baseline stores (> 1 = we store less). */
  ratio: number;
  /** Plan bytes saved against this baseline (negative when the baseline stores less). */
  savedBytes: number;
}

export interface Comparison {
  plan: PlanMetrics;
  /** One entry per baseline, in BASELINES order. */
  baselines: BaselineComparison[];
}

/** Registry bytes of the plan next to every baseline computed from the same graph and budget. */
export function compareToBaselines(graph: SharedGraph, plan: Plan, maxLayers?: number): Comparison {
  const options = maxLayers === undefined ? {} : { maxLayers };
  const ours = planMetrics(plan, graph, options);
  const baselines = BASELINES.map(({ kind, label, describe }) => {
    const baseline = baselinePlan(graph, kind, options);
    let bytes = 0;
    for (const layer of baseline.layers) bytes += layer.narSize;
    return {
      kind,
      label,
      describe,
      registryBytes: bytes,
      layers: baseline.layers.length,
      ratio: ours.registryBytes === 0 ? 1 : bytes / ours.registryBytes,
      savedBytes: bytes - ours.registryBytes,
    };
  });
  return { plan: ours, baselines };
}
