/**
 * The plan: the output of planning and the body of planner.lock.json.
 * Everything is sorted deterministically; JSON.stringify(plan) is byte-stable.
 */
export interface PlanLayer {
  /** Content address of the path set: first 32 hex chars of sha256(paths.join('\n')). */
  id: string;
  /** Absolute store paths, sorted byte-wise. */
  paths: string[];
  /** Sum of the paths' narSize. */
  narSize: number;
  /** Refs (`name:tag`) of the images using this layer, sorted. */
  images: string[];
}

export interface PlanImage {
  /** `name:tag`. */
  name: string;
  /** Store layer ids, bottom first. The customisation layer is not listed. */
  layers: string[];
}

export interface Plan {
  maxLayers: number;
  storeDir: string;
  /** Ordered bottom-to-top by the global layer order (most shared and stable first). */
  layers: PlanLayer[];
  /** Sorted by name. */
  images: PlanImage[];
}
