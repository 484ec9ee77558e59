export type { Plan, PlanImage, PlanLayer } from './types.js';
export { DEFAULT_CHURN_WEIGHT, layerChanges, MIN_BUDGET_FOR_OWN_LAYERS, plan, planWithStats, registryBytes, storeBudgets, type PlanOptions, type PlanResult, type PlanStats } from './plan.js';
export { layerId } from './layer-id.js';
export { verifyPlan, type VerifyOptions } from './verify.js';
export { BASELINES, baselinePlan, type BaselineKind, type BaselineOptions } from './baselines/index.js';
export { autoLayers } from './baselines/auto-layer.js';
export { packageName, popularityContest, popularityLayers, popularityOrder } from './baselines/popularity.js';
export { compareToBaselines, planMetrics, type BaselineComparison, type Comparison, type ImageMetrics, type PlanMetrics } from './metrics.js';
export { LOCK_FILE, parseLock, serializeLock } from './lock.js';
