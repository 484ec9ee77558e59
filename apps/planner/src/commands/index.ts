import type { CommandModule } from 'yargs';
import { lsCommand } from './ls.js';

/** Every command, in the order --help lists them. One line per command. */
export const commands: CommandModule<never, never>[] = [
  lsCommand as never,
];
