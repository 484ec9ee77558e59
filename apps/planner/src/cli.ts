import yargs from 'yargs';
import { PlannerError } from '@planner/errors';
import { commands } from './commands/index.js';
import { lastRun, type GlobalArgs } from './command.js';
import { renderError } from './render/error.js';
import { createUi } from './render/ui.js';
import { VERSION } from './version.js';

export function buildParser(args: string[]) {
  let parser = yargs(args)
    .scriptName('planner')
    .usage('$0 <command> [options]\n\nShared image layers for every Nix service in a monorepo: plan, build, push, report.')
    .option('cwd', { alias: 'C', type: 'string', describe: 'Run as if started in DIR (the config is searched from here upwards)', global: true })
    .option('config', { type: 'string', describe: 'Path of planner.config.json (skips the search)', global: true })
    .option('json', { type: 'boolean', describe: 'Print machine-readable JSON on stdout', global: true })
    .option('verbose', { type: 'boolean', describe: 'Show stack traces and more detail', global: true })
    .option('color', { type: 'boolean', describe: 'Force colour on or off (NO_COLOR is honoured)', global: true })
    .strict()
    .demandCommand(1, 'Choose a command (planner --help lists them).')
    .recommendCommands()
    .version(VERSION)
    .help()
    .alias('h', 'help')
    .wrap(Math.min(120, process.stdout.columns ?? 120))
    .epilogue('Exit codes: 0 ok, 1 a check or build failed, 2 bad usage, config or input.\nDocs: docs/ in the repository; design: docs/design.md.')
    .fail((message, error) => {
      if (error) throw error;
      throw new PlannerError('E_USAGE', message, { hint: 'run planner --help, or planner <command> --help' });
    });
  for (const command of commands) parser = parser.command(command as never);
  return parser;
}

export async function main(args: string[]): Promise<number> {
  const json = args.includes('--json');
  const verbose = args.includes('--verbose');
  const color = args.includes('--no-color') ? false : args.includes('--color') ? true : undefined;
  const ui = createUi({ json, verbose, color });
  lastRun.exitCode = 0;
  try {
    await buildParser(args).parseAsync();
    return lastRun.exitCode;
  } catch (error) {
    if (error instanceof Error && error.name === 'YError') {
      return renderError(new PlannerError('E_USAGE', error.message, { hint: 'run planner --help, or planner <command> --help' }), ui);
    }
    return renderError(error, ui);
  }
}

export type { GlobalArgs };
