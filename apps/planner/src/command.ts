import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { createUi, type Ui } from './render/ui.js';

/** Options every command accepts. */
export interface GlobalArgs {
  cwd?: string;
  config?: string;
  json?: boolean;
  verbose?: boolean;
  color?: boolean;
}

export interface CommandResult<T> {
  data: T;
  /** 0 ok, 1 a check or build failed (usage/input errors are thrown as PlannerError). */
  exitCode?: 0 | 1;
}

export interface CommandSpec<A, T> {
  command: string | readonly string[];
  describe: string;
  builder: (yargs: Argv<GlobalArgs>) => Argv<A>;
  /** Does the work and returns plain data; never prints (progress goes through ui). */
  run: (argv: ArgumentsCamelCase<A & GlobalArgs>, ui: Ui) => Promise<CommandResult<T>>;
  /** Human rendering of the data; `--json` prints `json(data)` (default: the data) instead. */
  render: (data: T, ui: Ui) => string;
  json?: (data: T) => unknown;
}

/** Exit code of the command that ran last (yargs handlers cannot return one). */
export const lastRun = { exitCode: 0 };

/** Wraps a data-returning command into a yargs module that renders and records the exit code. */
export function defineCommand<A, T>(spec: CommandSpec<A, T>): CommandModule<GlobalArgs, A> {
  return {
    command: spec.command as string | readonly string[],
    describe: spec.describe,
    builder: spec.builder,
    handler: async (argv) => {
      const args = argv as ArgumentsCamelCase<A & GlobalArgs>;
      const ui = createUi({ color: args.color, json: args.json === true, verbose: args.verbose === true });
      const result = await spec.run(args, ui);
      if (args.json) ui.out(`${JSON.stringify(spec.json ? spec.json(result.data) : result.data, null, 2)}\n`);
      else {
        const text = spec.render(result.data, ui);
        if (text) ui.out(text.endsWith('\n') ? text : `${text}\n`);
      }
      lastRun.exitCode = result.exitCode ?? 0;
    },
  };
}
