import { isPlannerError } from '@planner/errors';
import type { Ui } from './ui.js';

/** Prints an error the way every command does; returns the exit code. */
export function renderError(error: unknown, ui: Ui): number {
  if (isPlannerError(error)) {
    if (ui.json) ui.out(`${JSON.stringify({ error: error.toJSON() }, null, 2)}\n`);
    ui.err(`${ui.c.red(`[${error.code}]`)} ${error.message}\n`);
    if (error.hint) ui.err(`${ui.c.dim('hint:')} ${error.hint}\n`);
    if (ui.verbose && error.stack) ui.err(`${ui.c.dim(error.stack)}\n`);
    return error.exitCode;
  }
  const err = error instanceof Error ? error : new Error(String(error));
  if (ui.json) ui.out(`${JSON.stringify({ error: { code: 'E_INTERNAL', message: err.message } }, null, 2)}\n`);
  ui.err(`${ui.c.red('[E_INTERNAL]')} ${err.message}\n`);
  ui.err(ui.verbose && err.stack ? `${ui.c.dim(err.stack)}\n` : `${ui.c.dim('hint:')} this is a bug in planner; rerun with --verbose and report the stack trace\n`);
  return 1;
}
