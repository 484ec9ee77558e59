import type { CommandModule } from 'yargs';
import { buildCommand } from './build.js';
import { checkCommand } from './check.js';
import { explainCommand } from './explain.js';
import { lsCommand } from './ls.js';
import { planCommand } from './plan.js';
import { pushCommand } from './push.js';
import { reportCommand } from './report.js';

/** Every command, in the order --help lists them. One line per command. */
export const commands: CommandModule<never, never>[] = [
  lsCommand as never,
  planCommand as never,
  buildCommand as never,
  pushCommand as never,
  reportCommand as never,
  checkCommand as never,
  explainCommand as never,
];
