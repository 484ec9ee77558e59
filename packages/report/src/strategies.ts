import type { SharedGraph } from '@planner/graph';
import { BASELINES, baselinePlan, plan as planLayers, type Plan } from '@planner/layering';
import type { StrategyPlans } from './report.js';
import type { StrategyId } from './types.js';

export interface StrategyOptions {
  /** Overrides every image's maxLayers, as for plan(). */
  maxLayers?: number | undefined;
  /** The committed lock: the planner keeps its layers where still valid, as planner plan does. */
  previous?: Plan | undefined;
  /** PlanOptions.churnWeight (planner.config.json churnWeight); undefined: the default. */
  churnWeight?: number | undefined;
}

const PLANNER = { label: 'planner', describe: 'one plan for every image: shared layers, byte-identical across images' };

/** Names and one-line descriptions of every strategy, planner first (baselines as @planner/layering names them). */
export const STRATEGIES: readonly { id: StrategyId; label: string; describe: string }[] = [
  { id: 'planner', ...PLANNER },
  ...BASELINES.map((b) => ({ id: b.kind, label: b.label, describe: b.describe })),
];

/** The planner's plan and every baseline over one graph. */
export function strategyPlans(graph: SharedGraph, options: StrategyOptions = {}): StrategyPlans {
  const budget = options.maxLayers !== undefined ? { maxLayers: options.maxLayers } : {};
  return {
    planner: planLayers(graph, { ...budget, ...(options.previous ? { previous: options.previous } : {}), ...(options.churnWeight !== undefined ? { churnWeight: options.churnWeight } : {}) }),
    single: baselinePlan(graph, 'single', budget),
    popularity: baselinePlan(graph, 'popularity', budget),
    'auto-layer': baselinePlan(graph, 'auto-layer', budget),
    'lower-bound': baselinePlan(graph, 'lower-bound', budget),
  };
}
