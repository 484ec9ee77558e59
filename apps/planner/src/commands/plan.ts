import path from 'node:path';
import type { Argv } from 'yargs';
import { isPlannerError } from '@planner/errors';
import { compareToBaselines, DEFAULT_CHURN_WEIGHT, layerChanges, LOCK_FILE, planWithStats, serializeLock, type BaselineKind, type Plan, type PlanStats } from '@planner/layering';
import { defineCommand, type GlobalArgs } from '../command.js';
import { MAX_LAYERS, wholeNumber } from '../flags.js';
import { churnOf, loadContext } from '../context.js';
import { writeFileAtomically } from '../files.js';
import { readLockFile } from '../lock.js';
import { renderPlan } from '../render/plan.js';

interface PlanArgs {
  maxLayers?: number;
  lock?: boolean;
}

export interface PlanSummary {
  images: number;
  /** Distinct store layers of the plan. */
  layers: number;
  registryBytes: number;
  /** Every unique store path once. */
  uniqueBytes: number;
  maxImageLayers: number;
  meanImageLayers: number;
  /** Smallest and largest store-layer budget of any image (maxLayers - 1 - base image layers). */
  minBudget: number;
  maxBudget: number;
  /** Images whose store layers fill their budget: where the budget binds, more layers would store less. */
  imagesAtBudget: number;
  churnWeight: number;
  baselines: { kind: BaselineKind; label: string; registryBytes: number; layers: number; ratio: number }[];
}

export interface PlanData {
  workspace: string;
  lockFile: string;
  /**
   * What planning did with the lock: `fresh` (none read), `lock`, `lock-rejected`,
   * `lock-other-store`; newLayers/newLayerBytes compare with the lock on disk, even with --no-lock.
   */
  lock: PlanStats & { read: boolean; changed: boolean };
  plan: Plan;
  summary: PlanSummary;
}

function unlessUnparsable(error: unknown): undefined {
  if (isPlannerError(error) && error.code === 'E_LOCK_PARSE') return undefined;
  throw error;
}

export const planCommand = defineCommand<PlanArgs, PlanData>({
  command: 'plan',
  describe: `Plan shared layers for every image and write ${LOCK_FILE}`,
  builder: (y) =>
    y
      .option('max-layers', { type: 'number', describe: 'Layer budget for every image (overrides the config and manifests)' })
      .option('lock', { type: 'boolean', default: true, describe: `Start from ${LOCK_FILE} (--no-lock plans afresh, ignoring it)` })
      .epilog(
        `planner.config.json sets maxLayers (default 100) and churnWeight (default ${DEFAULT_CHURN_WEIGHT}: storage vs what library bumps re-push; 0 for storage alone). See docs/plan.md.`,
      ) as Argv<PlanArgs & GlobalArgs>,
  run: async (argv, ui) => {
    const maxLayers = wholeNumber(argv.maxLayers, '--max-layers', MAX_LAYERS);
    const ctx = await loadContext(argv, {
      ...(maxLayers !== undefined ? { maxLayers } : {}),
    });
    const lockFile = path.join(ctx.workspace.root, LOCK_FILE);
    // --no-lock plans without the lock but still compares with it (what the plan pushes,
    // whether the file changes); a lock that does not parse is what --no-lock recovers from.
    const onDisk = argv.lock === false ? await readLockFile(lockFile).catch(unlessUnparsable) : await readLockFile(lockFile);
    const previous = argv.lock === false ? undefined : onDisk;
    if (argv.lock === false) ui.err(`ignoring ${LOCK_FILE} (--no-lock): planning afresh\n`);
    const result = planWithStats(ctx.graph, { ...(maxLayers !== undefined ? { maxLayers } : {}), ...(previous ? { previous: previous.plan } : {}), ...churnOf(ctx.workspace.config) });
    if (!previous && onDisk) Object.assign(result.stats, layerChanges(result.plan, onDisk.plan));
    const text = serializeLock(result.plan);
    const changed = onDisk?.text !== text;
    if (changed) await writeFileAtomically(lockFile, text);
    const comparison = compareToBaselines(ctx.graph, result.plan, maxLayers);
    const ours = comparison.plan;
    return {
      data: {
        workspace: ctx.workspace.root,
        lockFile,
        lock: { ...result.stats, read: previous !== undefined, changed },
        plan: result.plan,
        summary: {
          images: ours.images.length,
          layers: ours.layers,
          registryBytes: ours.registryBytes,
          uniqueBytes: ours.uniqueBytes,
          maxImageLayers: ours.maxImageLayers,
          meanImageLayers: ours.meanImageLayers,
          minBudget: ours.images.length === 0 ? 0 : Math.min(...ours.images.map((i) => i.budget)),
          maxBudget: ours.images.length === 0 ? 0 : Math.max(...ours.images.map((i) => i.budget)),
          imagesAtBudget: ours.images.filter((i) => i.layers >= i.budget).length,
          churnWeight: churnOf(ctx.workspace.config).churnWeight ?? DEFAULT_CHURN_WEIGHT,
          baselines: comparison.baselines.map(({ kind, label, registryBytes, layers, ratio }) => ({ kind, label, registryBytes, layers, ratio })),
        },
      },
    };
  },
  render: renderPlan,
  // The plan itself (the lock's body), plus what the run did and how it compares.
  json: (data) => ({ ...data.plan, lockFile: data.lockFile, lock: data.lock, summary: data.summary }),
});
