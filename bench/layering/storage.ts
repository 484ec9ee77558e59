/**
 * Storage benchmark (issue: joint layer planning). Registry bytes of planner's joint plan
 * next to nixpkgs' per-image strategies and the lower bound, over a range of layer
 * budgets, all computed from the same graph in the same run. Prints ratios, not times.
 *
 *   npx tsx bench/layering/storage.ts [--workspace debian-120,monorepo-120,monorepo-1000,stress-120,stress-1000]
 *                                     [--max-layers 10,20,40,100] [--seed 1] [--churn-weight 0.02]
 *
 * Workspaces (bench/lib/workspaces.ts): debian-120 is real; monorepo-N is generated with a
 * structure calibrated to it (bench/layering/realism.ts); stress-N is generated with closures
 * of hundreds to 2,000 paths and 3-5x the distinct image sets per image of any real graph we
 * have, where the 100- and 40-layer targets are provably out of reach (see "bound").
 *
 * Targets: planner / lower bound at most 1.01x at maxLayers 100, 1.05x at 40, 1.25x at 20,
 * and never more than per-image auto-layer at any budget from 10 to 125 (printed from 3). "bound" is a
 * provable lower bound for ANY plan within the budget (bench/lib/bound.ts): where it is
 * above a target, no plan can meet that target on that workspace. `--churn-weight` is
 * planner's (PlanOptions.churnWeight); 0 plans for storage alone.
 */
import { parseArgs } from 'node:util';
import { buildSharedGraph } from '@planner/graph';
import { baselinePlan, plan, registryBytes, verifyPlan, type BaselineKind } from '@planner/layering';
import { budgetLowerBound } from '../lib/bound.js';
import { benchWorkspace, type BenchWorkspace } from '../lib/workspaces.js';

const { values } = parseArgs({
  options: {
    workspace: { type: 'string', default: 'debian-120,monorepo-120,monorepo-1000,stress-120,stress-1000' },
    'max-layers': { type: 'string' },
    seed: { type: 'string', default: '1' },
    'churn-weight': { type: 'string' },
  },
});
const weight = values['churn-weight'] === undefined ? {} : { churnWeight: Number(values['churn-weight']) };
const seed = Number(values.seed);
const TARGETS = new Map([
  [100, 1.01],
  [40, 1.05],
  [20, 1.25],
]);
const FULL = [3, 5, 10, 15, 20, 25, 30, 40, 50, 60, 70, 80, 90, 100, 110, 125];

const load = (name: string): Promise<BenchWorkspace> => benchWorkspace(name, seed);

const ratio = (x: number): string => `${x.toFixed(3)}x`;
let misses = 0;
for (const name of values.workspace.split(',')) {
  const ws = await load(name);
  const graph = buildSharedGraph(ws.closures, ws.images);
  let unique = 0;
  for (const size of graph.narSize) unique += size;
  const budgets = values['max-layers']?.split(',').map(Number) ?? FULL;
  console.log(`\n${name}: ${graph.images.length} images, ${graph.paths.length} unique paths, ${(unique / 2 ** 30).toFixed(2)} GiB unique (ratios: registry bytes / every path once)`);
  const header = ['maxLayers', 'planner', 'auto-layer', 'popularity', 'single', 'bound', 'auto/planner', 'target', 'verdict'];
  console.log(header.map((h, i) => (i === 0 ? h.padEnd(9) : h.padStart(i === 8 ? 0 : 12))).join(' '));
  for (const maxLayers of budgets) {
    const ours = plan(graph, { maxLayers, ...weight });
    const problems = verifyPlan(ours, graph, { maxLayers });
    if (problems.length > 0) throw new Error(`${name} maxLayers ${maxLayers}: unsound plan: ${problems.slice(0, 3).join('; ')}`);
    const bytes = (kind: BaselineKind): number => registryBytes(baselinePlan(graph, kind, { maxLayers }));
    const planner = registryBytes(ours) / unique;
    const auto = bytes('auto-layer') / unique;
    const popularity = bytes('popularity') / unique;
    const single = bytes('single') / unique;
    const bound = budgetLowerBound(graph, maxLayers).bound / unique;
    const target = TARGETS.get(maxLayers);
    const verdicts: string[] = [];
    if (planner > auto + 1e-12) verdicts.push('WORSE THAN AUTO-LAYER');
    if (target !== undefined) {
      if (planner <= target) verdicts.push('ok');
      else if (bound > target) verdicts.push(`missed; no plan can (bound ${ratio(bound)} > ${ratio(target)})`);
      else verdicts.push('MISSED');
    } else if (verdicts.length === 0) verdicts.push('ok');
    if (verdicts.some((v) => v === 'MISSED' || v.startsWith('WORSE'))) misses++;
    console.log(
      [
        String(maxLayers).padEnd(9),
        ratio(planner).padStart(12),
        ratio(auto).padStart(12),
        ratio(popularity).padStart(12),
        ratio(single).padStart(12),
        ratio(bound).padStart(12),
        ratio(auto / planner).padStart(12),
        (target ? `<= ${ratio(target)}` : '-').padStart(12),
        verdicts.join(', '),
      ].join(' '),
    );
  }
}
console.log(misses === 0 ? '\nall targets met (or provably out of reach)' : `\n${misses} target(s) missed`);
