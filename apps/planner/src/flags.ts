import { PlannerError } from '@planner/errors';

/** The command line of this run, so that a bad value can be quoted as typed. */
const given = { args: [] as readonly string[] };

export function recordArgs(args: readonly string[]): void {
  given.args = args;
}

/**
 * What the user typed for `flag` (yargs has already turned "abc" into NaN and "" into 0 by
 * the time a command sees it): the last `--flag value` or `--flag=value`, quoted.
 */
export function typedValue(flag: string, parsed: unknown): string {
  let found: string | undefined;
  given.args.forEach((arg, i) => {
    if (arg === flag && i + 1 < given.args.length) found = given.args[i + 1];
    else if (arg.startsWith(`${flag}=`)) found = arg.slice(flag.length + 1);
  });
  return JSON.stringify(found ?? String(parsed));
}

/** A whole-number flag of at least `min`, or undefined when not given; else E_USAGE quoting it. */
export function wholeNumber(value: number | undefined, flag: string, options: { min: number; example: string }): number | undefined {
  if (value === undefined) return undefined;
  if (Number.isInteger(value) && value >= options.min) return value;
  const what = options.min === 1 ? 'a positive whole number' : `a whole number of at least ${options.min}`;
  throw new PlannerError('E_USAGE', `${flag} must be ${what}, got ${typedValue(flag, value)}`, { hint: `e.g. ${flag} ${options.example}` });
}

/** A non-negative number flag (seconds, ratios), or undefined when not given; else E_USAGE quoting it. */
export function nonNegative(value: number | undefined, flag: string, options: { what: string; example: string }): number | undefined {
  if (value === undefined) return undefined;
  if (Number.isFinite(value) && value >= 0) return value;
  throw new PlannerError('E_USAGE', `${flag} must be ${options.what}, got ${typedValue(flag, value)}`, { hint: `e.g. ${flag} ${options.example}` });
}

/** Flags several commands share, with the example their errors give. */
export const MAX_LAYERS = { min: 1, example: '100' };
export const JOBS = { min: 1, example: '8' };
export const CHUNK = { min: 1, example: '16777216' };
export const SHARD_WAIT = { what: 'a number of seconds', example: '600' };
