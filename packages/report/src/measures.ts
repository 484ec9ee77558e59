import type { Plan, PlanImage, PlanLayer } from '@planner/layering';

/**
 * Byte measures over a Plan. Layers are content-addressed (id = hash of the path set) and
 * built byte-identically, so a layer id stands for one blob: identical layers count once,
 * in the registry, in a host's pull and in a push.
 */

// Plans are never mutated once made, so their indexes are computed once per plan object
// (a report or check over 1,000 images asks for them per image).
const byIdCache = new WeakMap<Plan, Map<string, PlanLayer>>();
const usedCache = new WeakMap<Plan, Set<string>>();
const imageCache = new WeakMap<Plan, Map<string, PlanImage>>();

/** Every layer of the plan by id (first occurrence wins: identical ids are identical blobs). Do not mutate. */
export function layersById(plan: Plan): ReadonlyMap<string, PlanLayer> {
  let byId = byIdCache.get(plan);
  if (!byId) {
    byId = new Map();
    for (const layer of plan.layers) if (!byId.has(layer.id)) byId.set(layer.id, layer);
    byIdCache.set(plan, byId);
  }
  return byId;
}

/** Ids of the layers some image of the plan uses. Do not mutate. */
export function usedLayerIds(plan: Plan): ReadonlySet<string> {
  let ids = usedCache.get(plan);
  if (!ids) {
    ids = new Set();
    for (const image of plan.images) for (const id of image.layers) ids.add(id);
    usedCache.set(plan, ids);
  }
  return ids;
}

/** The plan's image `ref`, if it has one. */
export function planImage(plan: Plan, ref: string): PlanImage | undefined {
  let images = imageCache.get(plan);
  if (!images) {
    images = new Map(plan.images.map((i) => [i.name, i]));
    imageCache.set(plan, images);
  }
  return images.get(ref);
}

function sumOf(ids: Iterable<string>, byId: ReadonlyMap<string, PlanLayer>): number {
  let bytes = 0;
  for (const id of ids) {
    const layer = byId.get(id);
    if (!layer) throw new Error(`plan refers to layer ${id}, which it does not define`);
    bytes += layer.narSize;
  }
  return bytes;
}

/** Bytes the registry stores for the plan's images: every distinct layer once. */
export function registryBytes(plan: Plan): number {
  return sumOf(usedLayerIds(plan), layersById(plan));
}

/**
 * Bytes a fresh host that runs every service downloads. A host pulls each distinct blob once,
 * so this is the distinct layers of all images: equal to registryBytes for a registry that holds
 * only these images (kept separate because they answer different questions and diverge once a
 * registry keeps older tags).
 */
export function coldPullBytes(plan: Plan): number {
  return registryBytes(plan);
}

/** Bytes a push of `head` uploads to a registry that already holds every layer of `base`. */
export function pushBytes(head: Plan, base: Plan | undefined): number {
  const have: ReadonlySet<string> = base ? usedLayerIds(base) : new Set<string>();
  const byId = layersById(head);
  let bytes = 0;
  for (const id of usedLayerIds(head)) if (!have.has(id)) bytes += byId.get(id)!.narSize;
  return bytes;
}

/** Bytes a host running the base version of `ref` downloads to run the head version. */
export function imagePullBytes(head: Plan, base: Plan | undefined, ref: string): number {
  const headImage = planImage(head, ref);
  if (!headImage) return 0;
  const have = new Set(base ? (planImage(base, ref)?.layers ?? []) : []);
  const byId = layersById(head);
  let bytes = 0;
  for (const id of new Set(headImage.layers)) if (!have.has(id)) bytes += byId.get(id)!.narSize;
  return bytes;
}

/** Closure bytes of one image as the plan lays it out (its layers partition its closure). */
export function imageBytes(plan: Plan, ref: string): number {
  const image = planImage(plan, ref);
  return image ? sumOf(new Set(image.layers), layersById(plan)) : 0;
}

export interface LayerDiff {
  added: PlanLayer[];
  removed: PlanLayer[];
  unchanged: PlanLayer[];
}

/** Layers of `head` not in `base`, of `base` not in `head`, and in both; each in its plan's order. */
export function diffLayers(head: Plan, base: Plan | undefined): LayerDiff {
  const headIds = usedLayerIds(head);
  const baseIds: ReadonlySet<string> = base ? usedLayerIds(base) : new Set<string>();
  const headLayers = [...layersById(head).values()].filter((l) => headIds.has(l.id));
  const baseLayers = base ? [...layersById(base).values()].filter((l) => baseIds.has(l.id)) : [];
  return {
    added: headLayers.filter((l) => !baseIds.has(l.id)),
    removed: baseLayers.filter((l) => !headIds.has(l.id)),
    unchanged: headLayers.filter((l) => baseIds.has(l.id)),
  };
}

/** baseline / planner, or null when the planner's figure is 0 (nothing to compare). */
export function ratio(baselineBytes: number, plannerBytes: number): number | null {
  if (plannerBytes === 0) return baselineBytes === 0 ? 1 : null;
  return baselineBytes / plannerBytes;
}
