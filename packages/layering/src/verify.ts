import type { SharedGraph } from '@planner/graph';
import { layerId } from './layer-id.js';
import { storeBudgets } from './plan.js';
import type { Plan } from './types.js';

export interface VerifyOptions {
  /** The maxLayers override the plan was made with, if any. */
  maxLayers?: number;
  /** Also require the per-image layer count to fit the store budget (default true). */
  budgets?: boolean;
  /** Also require every image's layers to follow the plan's global order (default true). */
  order?: boolean;
}

/**
 * Checks a plan against a graph and returns what is wrong (empty when the plan is sound):
 * layer ids match their paths, every image's layers cover its closure exactly (each path
 * once, nothing else), no image exceeds its budget, and images list their layers in the
 * plan's global order.
 */
export function verifyPlan(plan: Plan, graph: SharedGraph, options: VerifyOptions = {}): string[] {
  const problems: string[] = [];
  const layers = new Map(plan.layers.map((layer, index) => [layer.id, { layer, index }]));
  const idOf = new Map<string, number>();
  graph.paths.forEach((path, id) => idOf.set(path, id));
  const budgets = options.budgets === false ? undefined : storeBudgets(graph, options.maxLayers);
  for (const layer of plan.layers) {
    if (layerId(layer.paths) !== layer.id) problems.push(`layer ${layer.id}: id does not match its paths`);
    for (let i = 1; i < layer.paths.length; i++) {
      if (!(layer.paths[i - 1]! < layer.paths[i]!)) problems.push(`layer ${layer.id}: paths not sorted and unique`);
    }
    let bytes = 0;
    for (const path of layer.paths) {
      const id = idOf.get(path);
      if (id === undefined) problems.push(`layer ${layer.id}: ${path} is not in the graph`);
      else bytes += graph.narSize[id]!;
    }
    if (bytes !== layer.narSize) problems.push(`layer ${layer.id}: narSize ${layer.narSize} but its paths sum to ${bytes}`);
  }
  if (layers.size !== plan.layers.length) problems.push('two layers share an id');
  const imagesByName = new Map(plan.images.map((image) => [image.name, image]));
  const users = new Map<string, string[]>();
  const seen = new Uint8Array(graph.paths.length);
  for (const image of graph.images) {
    const planned = imagesByName.get(image.ref);
    if (!planned) {
      problems.push(`${image.ref}: missing from the plan`);
      continue;
    }
    let last = -1;
    const touched: number[] = [];
    for (const id of planned.layers) {
      const entry = layers.get(id);
      if (!entry) {
        problems.push(`${image.ref}: unknown layer ${id}`);
        continue;
      }
      (users.get(id) ?? users.set(id, []).get(id)!).push(image.ref);
      if (options.order !== false && entry.index <= last) problems.push(`${image.ref}: layer ${id} out of the global order`);
      last = entry.index;
      for (const path of entry.layer.paths) {
        const pid = idOf.get(path);
        if (pid === undefined) continue;
        if (seen[pid] === 1) problems.push(`${image.ref}: ${path} is in more than one of its layers`);
        seen[pid] = 1;
        touched.push(pid);
      }
    }
    let missing = 0;
    for (const id of image.closure) {
      if (seen[id] === 1) seen[id] = 2;
      else missing++;
    }
    if (missing > 0) problems.push(`${image.ref}: ${missing} closure paths in none of its layers`);
    for (const id of touched) {
      if (seen[id] === 1) problems.push(`${image.ref}: layer path ${graph.paths[id]} is not in its closure`);
    }
    for (const id of touched) seen[id] = 0;
    for (const id of image.closure) seen[id] = 0;
    if (budgets && planned.layers.length > budgets[image.index]!) {
      problems.push(`${image.ref}: ${planned.layers.length} store layers, budget ${budgets[image.index]}`);
    }
  }
  if (plan.images.length !== graph.images.length) problems.push(`plan has ${plan.images.length} images, graph ${graph.images.length}`);
  for (const layer of plan.layers) {
    const expected = (users.get(layer.id) ?? []).sort();
    if (expected.join('\n') !== [...layer.images].sort().join('\n')) problems.push(`layer ${layer.id}: images list does not match the images using it`);
    if (expected.length === 0) problems.push(`layer ${layer.id}: used by no image`);
  }
  return problems;
}
