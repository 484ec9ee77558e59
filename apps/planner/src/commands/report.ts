import path from 'node:path';
import { PlannerError } from '@planner/errors';
import { LOCK_FILE } from '@planner/layering';
import { buildReport, reportHtml, strategyPlans, type ReportData } from '@planner/report';
import { defineCommand } from '../command.js';
import { wholeNumber } from '../flags.js';
import { churnOf, loadContext } from '../context.js';
import { writeFileAtomically } from '../files.js';
import { readLockFile } from '../lock.js';
import { renderReport } from '../render/report.js';
import { loadBase, type BaseArgs } from './check.js';

interface ReportArgs extends BaseArgs {
  markdown?: boolean;
  html?: string;
  top?: number;
  bumps?: number;
}

export interface ReportCommandData {
  report: ReportData;
  format: 'table' | 'markdown';
  htmlFile?: string;
}

export const reportCommand = defineCommand<ReportArgs, ReportCommandData>({
  command: 'report',
  describe: "Savings vs nixpkgs' per-image layering and the lower bound; what library bumps re-push",
  builder: (y) =>
    y
      .option('base', { type: 'string', requiresArg: true, describe: 'Git revision to measure the update push and pulls against' })
      .option('base-lock', { type: 'string', requiresArg: true, describe: 'Lock file to measure the update push against (planner only)' })
      .option('markdown', { type: 'boolean', describe: 'Print Markdown (for a PR comment) instead of a table' })
      .option('html', { type: 'string', requiresArg: true, describe: 'Also write a self-contained HTML report to FILE' })
      .option('top', { type: 'number', default: 10, describe: 'How many shared layers to list' })
      .option('bumps', { type: 'number', default: 3, describe: 'How many of the most widely used libraries to simulate a bump of (0: none)' }),
  run: async (argv, ui) => {
    wholeNumber(argv.top, '--top', { min: 0, example: '20' });
    wholeNumber(argv.bumps, '--bumps', { min: 0, example: '5 (0: none)' });
    const ctx = await loadContext(argv);
    const committed = (await readLockFile(path.join(ctx.workspace.root, LOCK_FILE)))?.plan;
    const plans = strategyPlans(ctx.graph, { previous: committed, ...churnOf(ctx.workspace.config) });
    const base = await loadBase(argv, ctx.workspace, ui);
    const report = buildReport({
      workspace: ctx.workspace.root,
      graph: ctx.graph,
      plans,
      ...(base ? { base } : {}),
      top: argv.top ?? 10,
      bumps: argv.bumps ?? 3,
    });
    let htmlFile: string | undefined;
    if (argv.html !== undefined) {
      if (argv.html === '') throw new PlannerError('E_USAGE', '--html needs the file to write', { hint: 'e.g. --html report.html' });
      htmlFile = path.resolve(argv.cwd ?? process.cwd(), argv.html);
      await writeFileAtomically(htmlFile, reportHtml(report));
      ui.err(`wrote ${htmlFile}\n`);
    }
    return { data: { report, format: argv.markdown ? 'markdown' : 'table', ...(htmlFile ? { htmlFile } : {}) } };
  },
  render: renderReport,
  json: (data) => data.report,
});
