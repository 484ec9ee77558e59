import yargs from 'yargs';
import { closestMatch, PlannerError } from '@planner/errors';
import { commands } from './commands/index.js';
import { lastRun, type GlobalArgs } from './command.js';
import { recordArgs } from './flags.js';
import { renderError } from './render/error.js';
import { createUi } from './render/ui.js';
import { VERSION } from './version.js';

export function buildParser(args: string[]) {
  let parser = yargs(args)
    .scriptName('planner')
    .usage('$0 <command> [options]\n\nShared image layers for every Nix service in a monorepo: plan, build, push, report.')
    .option('cwd', { alias: 'C', type: 'string', requiresArg: true, describe: 'Run as if started in DIR (the config is searched from here upwards)', global: true })
    .option('config', { type: 'string', requiresArg: true, describe: 'Path of planner.config.json (skips the search)', global: true })
    .option('json', { type: 'boolean', describe: 'Print machine-readable JSON on stdout', global: true })
    .option('verbose', { type: 'boolean', describe: 'Show stack traces and more detail', global: true })
    .option('color', { type: 'boolean', describe: 'Force colour on or off (NO_COLOR is honoured)', global: true })
    .strict()
    // An option given twice takes the last value (as most CLIs do), not an array of both.
    .parserConfiguration({ 'duplicate-arguments-array': false })
    .demandCommand(1, 'Choose a command (planner --help lists them).')
    .recommendCommands()
    .version(VERSION)
    .help()
    .alias('h', 'help')
    .wrap(Math.min(120, process.stdout.columns ?? 120))
    .epilogue('Exit codes: 0 ok, 1 a check or build failed, 2 bad usage, config or input.\nDocs: docs/ in the repository; design: docs/design.md.')
    .fail((message, error) => {
      if (error) throw error;
      // The options known at this point: the global ones and the running command's.
      throw usageError(message, Object.keys((parser as unknown as { getOptions(): { key: Record<string, unknown> } }).getOptions().key), args);
    });
  for (const command of commands) parser = parser.command(command as never);
  return parser;
}

/**
 * yargs' "Unknown arguments: max-layers, maxLayers" without the camelCase twins, and the
 * known option a misspelt one most likely meant.
 */
export function usageError(message: string, known: readonly string[], args: readonly string[]): PlannerError {
  const recommended = /^Did you mean (.+)\?$/.exec(message);
  if (recommended) {
    const typed = args.find((a) => !a.startsWith('-')) ?? '';
    return new PlannerError('E_USAGE', `unknown command: ${typed}`, { hint: `did you mean planner ${recommended[1]}? (planner --help lists the commands)` });
  }
  const missing = /^Not enough arguments following: (.+)$/.exec(message);
  if (missing) {
    const flag = `${missing[1]!.length === 1 ? '-' : '--'}${missing[1]!}`;
    return new PlannerError('E_USAGE', `${flag} needs a value`, { hint: `planner <command> --help says what ${flag} takes` });
  }
  const unknown = /^Unknown arguments?: (.*)$/.exec(message);
  if (!unknown) return new PlannerError('E_USAGE', message, { hint: 'run planner --help, or planner <command> --help' });
  const kebab = (name: string): string => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
  const names = [...new Set(unknown[1]!.split(', ').map(kebab))];
  // A word typed without dashes is a command or argument no command takes.
  const words = names.filter((n) => args.includes(n));
  if (words.length > 0) {
    const commandNames = commands.map((c) => String(c.command).split(' ')[0]!);
    const given = args.find((a) => commandNames.includes(a));
    if (given !== undefined && !words.includes(given)) {
      return new PlannerError('E_USAGE', `unexpected ${words.length === 1 ? 'argument' : 'arguments'} for planner ${given}: ${words.join(' ')}`, {
        hint: `planner ${given} --help says what it takes`,
      });
    }
    const command = closestMatch(words[0]!, commandNames);
    return new PlannerError('E_USAGE', `unknown command or argument: ${words.join(' ')}`, {
      hint: command ? `did you mean planner ${command}? (planner --help lists the commands)` : 'planner --help lists the commands',
    });
  }
  // yargs reads --no-x as x = false: name the flag as typed.
  const flag = (name: string): string => (args.includes(`--no-${name}`) ? `--no-${name}` : name.length === 1 ? `-${name}` : `--${name}`);
  const options = known.filter((k) => k.length > 1 && !/[A-Z]/.test(k) && k !== '$0');
  const guesses = names.map((n) => closestMatch(n, options)).filter((g): g is string => g !== undefined);
  return new PlannerError('E_USAGE', `unknown ${names.length === 1 ? 'option' : 'options'}: ${names.map(flag).join(', ')}`, {
    hint: guesses.length > 0 ? `did you mean ${guesses.map((g) => `--${g}`).join(', ')}? (planner <command> --help lists the options)` : 'run planner <command> --help for the options',
  });
}

export async function main(args: string[]): Promise<number> {
  const json = args.includes('--json');
  const verbose = args.includes('--verbose');
  const color = args.includes('--no-color') ? false : args.includes('--color') ? true : undefined;
  const ui = createUi({ json, verbose, color });
  recordArgs(args);
  lastRun.exitCode = 0;
  try {
    await buildParser(args).parseAsync();
    return lastRun.exitCode;
  } catch (error) {
    if (error instanceof Error && error.name === 'YError') {
      return renderError(usageError(error.message, [], args), ui);
    }
    return renderError(error, ui);
  }
}

export type { GlobalArgs };
