import type { SharedGraph } from '@planner/graph';
import type { Plan, PlanLayer } from '@planner/layering';
import { libraryBumps } from './bumps.js';
import { coldPullBytes, imagePullBytes, layersById, pushBytes, ratio, registryBytes, usedLayerIds } from './measures.js';
import { STRATEGIES } from './strategies.js';
import type { BaseInfo, Comparison, ImageReport, LayerReport, ReportData, Savings, StrategyFigures } from './types.js';

/** The plans of one tree: the planner's and every baseline's, all over the same graph. */
export interface StrategyPlans {
  planner: Plan;
  single: Plan;
  popularity: Plan;
  'auto-layer': Plan;
  'lower-bound': Plan;
}

export interface ReportInput {
  workspace: string;
  graph: SharedGraph;
  plans: StrategyPlans;
  /** The base to measure pushes and pulls against. Strategies missing here get pushBytes null. */
  base?: { info: BaseInfo; plans: Partial<StrategyPlans> };
  /** How many shared layers to list (default 10). */
  top?: number;
  /** How many of the most widely used libraries to simulate a bump of (default 3; 0: none). */
  bumps?: number;
}

function largestPaths(layer: PlanLayer, graph: SharedGraph | undefined, sizes?: ReadonlyMap<string, number>, count = 3): string[] {
  const sizeOf = (p: string): number => sizes?.get(p) ?? (graph?.graph.hasNode(p) ? graph.graph.getNodeAttribute(p, 'narSize') : 0);
  return [...layer.paths]
    .map((p) => ({ p, s: sizeOf(p) }))
    .sort((a, b) => b.s - a.s || (a.p < b.p ? -1 : a.p > b.p ? 1 : 0))
    .slice(0, count)
    .map((x) => x.p);
}

/** Every used layer of a plan as LayerReport, bottom first. */
export function layerReports(plan: Plan, graph: SharedGraph | undefined): LayerReport[] {
  const used = usedLayerIds(plan);
  const users = new Map<string, Set<string>>();
  for (const image of plan.images) {
    for (const id of image.layers) {
      let set = users.get(id);
      if (!set) users.set(id, (set = new Set()));
      set.add(image.name);
    }
  }
  return [...layersById(plan).values()]
    .filter((l) => used.has(l.id))
    .map((layer, position) => {
      const images = [...users.get(layer.id)!].sort();
      return {
        id: layer.id,
        position,
        narSize: layer.narSize,
        paths: layer.paths.length,
        images,
        savedBytes: layer.narSize * (images.length - 1),
        largestPaths: largestPaths(layer, graph),
      };
    });
}

/**
 * The least any layering can push: the bytes of store paths that no layer of the base holds.
 * (The lower-bound plan groups paths by image set, which is a lower bound on storage but
 * not on pushes: a path whose set of images changed would move to another group.)
 */
function newPathBytes(graph: SharedGraph, base: Plan): number {
  const have = new Set<string>();
  for (const layer of base.layers) for (const p of layer.paths) have.add(p);
  let bytes = 0;
  for (let id = 0; id < graph.paths.length; id++) if (!have.has(graph.paths[id]!)) bytes += graph.narSize[id]!;
  return bytes;
}

function compare(baselineBytes: number, plannerBytes: number): Comparison {
  return { baselineBytes, plannerBytes, savedBytes: baselineBytes - plannerBytes, ratio: ratio(baselineBytes, plannerBytes) };
}

/** Savings of the planner against every baseline, per image figures, top shared layers. */
export function buildReport(input: ReportInput): ReportData {
  const { graph, plans, base } = input;
  const strategies: StrategyFigures[] = STRATEGIES.map(({ id, label, describe }) => {
    const plan = plans[id];
    const basePlan = base?.plans[id];
    let push: number | null = null;
    if (id === 'lower-bound' && base?.plans.planner) push = newPathBytes(graph, base.plans.planner);
    else if (basePlan) push = pushBytes(plan, basePlan);
    return {
      id,
      label,
      describe,
      layers: usedLayerIds(plan).size,
      registryBytes: registryBytes(plan),
      coldPullBytes: coldPullBytes(plan),
      pushBytes: push,
    };
  });
  const planner = strategies[0]!;
  const savings: Savings[] = strategies.slice(1).map((s) => ({
    baseline: s.id as Savings['baseline'],
    label: s.label,
    registry: compare(s.registryBytes, planner.registryBytes),
    coldPull: compare(s.coldPullBytes, planner.coldPullBytes),
    push: s.pushBytes !== null && planner.pushBytes !== null ? compare(s.pushBytes, planner.pushBytes) : null,
  }));
  const layers = layerReports(plans.planner, graph);
  const layerInfo = new Map(layers.map((l) => [l.id, l]));
  const planImages = new Map(plans.planner.images.map((i) => [i.name, i]));
  const images: ImageReport[] = graph.images.map((image) => {
    const planImage = planImages.get(image.ref);
    let sharedBytes = 0;
    let privateBytes = 0;
    let sharedLayers = 0;
    let privateLayers = 0;
    for (const id of new Set(planImage?.layers ?? [])) {
      const layer = layerInfo.get(id)!;
      if (layer.images.length > 1) {
        sharedBytes += layer.narSize;
        sharedLayers++;
      } else {
        privateBytes += layer.narSize;
        privateLayers++;
      }
    }
    return {
      ref: image.ref,
      paths: image.closure.length,
      closureBytes: image.closureBytes,
      layers: planImage?.layers.length ?? 0,
      storeBudget: image.storeBudget,
      maxLayers: image.maxLayers,
      baseLayers: image.baseLayers,
      sharedBytes,
      privateBytes,
      sharedLayers,
      privateLayers,
      pullBytes: base?.plans.planner ? imagePullBytes(plans.planner, base.plans.planner, image.ref) : null,
    };
  });
  const top = input.top ?? 10;
  const sharedLayers = layers
    .filter((l) => l.images.length > 1)
    .sort((a, b) => b.savedBytes - a.savedBytes || a.position - b.position)
    .slice(0, top);
  let uniqueBytes = 0;
  for (let id = 0; id < graph.paths.length; id++) uniqueBytes += graph.narSize[id]!;
  return {
    schemaVersion: 1,
    workspace: input.workspace,
    base: base?.info ?? null,
    totals: {
      images: graph.images.length,
      uniquePaths: graph.paths.length,
      uniqueBytes,
      closureBytes: graph.images.reduce((s, i) => s + i.closureBytes, 0),
      layers: layers.length,
    },
    strategies,
    savings,
    images,
    sharedLayers,
    layers,
    bumps: libraryBumps(graph, plans, input.bumps ?? 3),
  };
}
