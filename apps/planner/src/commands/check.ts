import { appendFile } from 'node:fs/promises';
import path from 'node:path';
import { PlannerError, isPlannerError } from '@planner/errors';
import { LOCK_FILE, type Plan } from '@planner/layering';
import { buildCheck, checkMarkdown, parseBytes, parseGrowth, sameLock, strategyPlans, type BaseInfo, type CheckData, type StrategyPlans, type Thresholds } from '@planner/report';
import { loadWorkspace, type Workspace } from '@planner/workspace';
import { defineCommand, type GlobalArgs } from '../command.js';
import { nonNegative } from '../flags.js';
import { churnOf, contextFromWorkspace, loadContext } from '../context.js';
import { readBaseTree } from '../git.js';
import { readLockFile } from '../lock.js';
import { renderCheck } from '../render/check.js';
import type { Ui } from '../render/ui.js';

export interface BaseArgs {
  base?: string;
  baseLock?: string;
}

export interface LoadedBase {
  info: BaseInfo;
  plans: Partial<StrategyPlans>;
}

function emptyPlan(storeDir: string): Plan {
  return { maxLayers: 0, storeDir, layers: [], images: [] };
}

/** Rewrites an error from reading the base so it names `<ref>:<path>` instead of the temp copy. */
function fromBase(error: unknown, dir: string, ref: string): unknown {
  if (!isPlannerError(error)) return error;
  const fix = (text: string | undefined): string | undefined => text?.split(`${dir}/`).join(`${ref}:`).split(dir).join(`${ref}:`);
  return new PlannerError(error.code, `in --base ${ref}: ${fix(error.message)}`, {
    ...(error.hint ? { hint: fix(error.hint)! } : {}),
    ...(error.file ? { file: fix(error.file)! } : {}),
    ...(error.details ? { details: error.details } : {}),
    exitCode: error.exitCode,
    cause: error,
  });
}

/**
 * The base to compare with: `--base <git-ref>` reads the base's manifests, closure files and
 * lock through git (planner plan = its lock when it has one); `--base-lock FILE` is just a lock.
 */
export async function loadBase(argv: BaseArgs & GlobalArgs, workspace: Workspace, ui: Ui): Promise<LoadedBase | undefined> {
  if (argv.base !== undefined && argv.baseLock !== undefined) {
    throw new PlannerError('E_USAGE', '--base and --base-lock are mutually exclusive', { hint: 'compare with a git revision or with a lock file, not both' });
  }
  const storeDir = workspace.config.storeDir;
  if (argv.baseLock !== undefined) {
    const file = path.resolve(argv.cwd ?? process.cwd(), argv.baseLock);
    const lock = (await readLockFile(file))?.plan;
    if (!lock)
      throw new PlannerError('E_USAGE', `--base-lock ${argv.baseLock}: no such file`, {
        file,
        hint: 'pass the planner.lock.json of the base, e.g. from git show main:planner.lock.json > base.lock.json',
      });
    return { info: { ref: null, commit: null, lockFile: argv.baseLock, hasClosures: false }, plans: { planner: lock } };
  }
  if (argv.base === undefined) return undefined;
  const ref = argv.base;
  const tree = await readBaseTree({ workspaceRoot: workspace.root, configFile: workspace.configFile, ref, lockName: LOCK_FILE });
  try {
    const lockFile = tree.lockFile ? path.posix.join(tree.prefix, LOCK_FILE) : null;
    if (!tree.configFile) {
      ui.err(`note: ${ref} has no ${path.basename(workspace.configFile)}; every layer counts as new\n`);
      const empty = emptyPlan(storeDir);
      return {
        info: { ref, commit: tree.commit, lockFile: null, hasClosures: true },
        plans: { planner: empty, single: empty, popularity: empty, 'auto-layer': empty, 'lower-bound': empty },
      };
    }
    const locked = tree.lockFile ? (await readLockFile(tree.lockFile))?.plan : undefined;
    if (tree.withoutClosureFile.length > 0) {
      // Their closures need Nix at the base revision; the base's lock says what was built.
      if (!locked) {
        throw new PlannerError('E_GIT', `${tree.withoutClosureFile.length} manifest(s) have no "closure" file (${tree.withoutClosureFile.slice(0, 3).join(', ')}) and the base has no ${LOCK_FILE}`, {
          hint: `commit ${LOCK_FILE} (planner plan) or closure files on the base branch, or pass --base-lock FILE`,
        });
      }
      return { info: { ref, commit: tree.commit, lockFile, hasClosures: false }, plans: { planner: locked } };
    }
    const baseWorkspace = await loadWorkspace({ cwd: path.dirname(tree.configFile), configFile: tree.configFile });
    // Base tarballs are not read from git: a base revision counts fromImage layers as 0.
    const ctx = await contextFromWorkspace(baseWorkspace, { baseLayers: async () => 0 });
    const plans = strategyPlans(ctx.graph, { previous: locked, ...churnOf(baseWorkspace.config) });
    // What the registry holds for the base is what was built from its lock.
    if (locked) plans.planner = locked;
    return { info: { ref, commit: tree.commit, lockFile, hasClosures: true }, plans };
  } catch (error) {
    throw fromBase(error, tree.dir, ref);
  } finally {
    await tree.cleanup();
  }
}

interface CheckArgs extends BaseArgs {
  markdown?: boolean;
  maxPushBytes?: string;
  maxClosureGrowth?: string;
  minSavingsVsAutoLayer?: number;
  failOnBudgetExceeded?: boolean;
  lockCheck?: boolean;
}

export interface CheckCommandData {
  check: CheckData;
  markdown: boolean;
}

export function thresholdsFrom(argv: CheckArgs, workspace: Workspace): Thresholds {
  const config = workspace.config.check;
  const min =
    nonNegative(argv.minSavingsVsAutoLayer, '--min-savings-vs-auto-layer', { what: 'a non-negative ratio (2: at most half the registry bytes of per-image auto-layer)', example: '1.5' }) ??
    config.minSavingsVsAutoLayer;
  return {
    maxPushBytes: argv.maxPushBytes !== undefined ? parseBytes(argv.maxPushBytes, '--max-push-bytes') : config.maxPushBytes,
    maxClosureGrowth: argv.maxClosureGrowth !== undefined ? parseGrowth(argv.maxClosureGrowth, '--max-closure-growth') : config.maxClosureGrowth,
    minSavingsVsAutoLayer: min,
    failOnBudgetExceeded: argv.failOnBudgetExceeded ?? config.failOnBudgetExceeded ?? true,
    lockCheck: argv.lockCheck ?? true,
  };
}

export const checkCommand = defineCommand<CheckArgs, CheckCommandData>({
  command: 'check',
  describe: 'Compare with a base; fail on push size, closure growth, savings, budget or lock drift',
  builder: (y) =>
    y
      .option('base', { type: 'string', requiresArg: true, describe: 'Git revision to compare with (reads its manifests, closures and lock through git)' })
      .option('base-lock', { type: 'string', requiresArg: true, describe: 'Lock file to compare with instead of a git revision' })
      .option('markdown', { type: 'boolean', describe: 'Print the Markdown summary (for a PR comment)' })
      .option('max-push-bytes', { type: 'string', requiresArg: true, describe: 'Fail when the push uploads more (bytes, or 100MiB, 1GB); default check.maxPushBytes' })
      .option('max-closure-growth', { type: 'string', requiresArg: true, describe: "Fail when an image's closure grows more (bytes, 50MiB or 10%); default check.maxClosureGrowth" })
      .option('min-savings-vs-auto-layer', { type: 'number', describe: 'Fail when registry storage is less than this many times smaller than per-image auto-layer' })
      .option('fail-on-budget-exceeded', { type: 'boolean', describe: 'Fail when an image has more layers than its budget (default true; --no-fail-on-budget-exceeded)' })
      .option('lock-check', { type: 'boolean', describe: 'Fail when planner.lock.json differs from what planner plan writes (default true; --no-lock-check)' }),
  run: async (argv, ui) => {
    if (argv.base === undefined && argv.baseLock === undefined) {
      throw new PlannerError('E_USAGE', 'planner check needs a base: --base <git-ref> or --base-lock FILE', { hint: 'in CI: planner check --base origin/main' });
    }
    const ctx = await loadContext(argv);
    const thresholds = thresholdsFrom(argv, ctx.workspace);
    const lockPath = path.join(ctx.workspace.root, LOCK_FILE);
    const committed = (await readLockFile(lockPath))?.plan;
    const plans = strategyPlans(ctx.graph, { previous: committed, ...churnOf(ctx.workspace.config) });
    const base = (await loadBase(argv, ctx.workspace, ui))!;
    const check = buildCheck({
      workspace: ctx.workspace.root,
      graph: ctx.graph,
      plan: plans.planner,
      autoLayer: plans['auto-layer'],
      base: { info: base.info, plan: base.plans.planner!, autoLayer: base.plans['auto-layer'] },
      lock: { file: LOCK_FILE, committed, equal: committed !== undefined && sameLock(committed, plans.planner) },
      thresholds,
    });
    const summary = process.env.GITHUB_STEP_SUMMARY;
    // The job summary is a courtesy: failing to write it must not turn the check's verdict into an error.
    if (summary) {
      await appendFile(summary, `${checkMarkdown(check)}\n`).catch((error: Error) => ui.err(`warning: cannot append the summary to $GITHUB_STEP_SUMMARY (${summary}): ${error.message}\n`));
    }
    return { data: { check, markdown: argv.markdown === true }, exitCode: check.passed ? 0 : 1 };
  },
  render: renderCheck,
  json: (data) => data.check,
});
