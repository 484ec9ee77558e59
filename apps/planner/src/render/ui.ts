import { Chalk, type ChalkInstance } from 'chalk';

/** The one place that owns colour and terminal detection. */
export interface Ui {
  c: ChalkInstance;
  /** stdout is a terminal (tables may be wide, bars allowed on stderr). */
  isTTY: boolean;
  /** stderr is a terminal and output is not --json: progress bars allowed. */
  interactive: boolean;
  json: boolean;
  verbose: boolean;
  out: (text: string) => void;
  /** Progress and notes go to stderr, so stdout stays clean for --json and pipes. */
  err: (text: string) => void;
}

export interface UiOptions {
  color?: boolean | undefined;
  json?: boolean;
  verbose?: boolean;
}

export function colorEnabled(option: boolean | undefined): boolean {
  if (option !== undefined) return option;
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '') return false;
  if (process.env.FORCE_COLOR !== undefined && process.env.FORCE_COLOR !== '0') return true;
  return process.stdout.isTTY === true;
}

export function createUi(options: UiOptions = {}): Ui {
  const color = colorEnabled(options.color);
  return {
    c: new Chalk({ level: color ? 1 : 0 }),
    isTTY: process.stdout.isTTY === true,
    interactive: process.stderr.isTTY === true && !options.json && process.env.CI === undefined,
    json: options.json === true,
    verbose: options.verbose === true,
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
  };
}
