/**
 * Colour, as the README promises: on for a terminal, off in a pipe, NO_COLOR honoured, and
 * --color / --no-color winning over both. A terminal is a real pseudo-terminal (util-linux
 * `script`), read-only on the debian-120 data set.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { json, planner, plannerBin, sharedData } from '../helpers/cli.js';

const workspace = path.join(sharedData, 'debian-120');
const ESC = '\u001b[';

/** Runs the CLI on a pseudo-terminal: stdout and stderr are a TTY, as in a user's shell. */
function onTerminal(args: string[], env: Record<string, string | undefined> = {}): string {
  const command = [process.execPath, plannerBin, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const r = spawnSync('script', ['-qec', command, '/dev/null'], { encoding: 'utf8', env: { ...process.env, NO_COLOR: undefined, FORCE_COLOR: undefined, CI: undefined, ...env } });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout;
}

describe('colour', () => {
  it('is on for a terminal and off in a pipe', () => {
    const tty = onTerminal(['ls', '-C', workspace]);
    expect(tty).toContain('svc000-python3-flask:latest');
    expect(tty).toContain(ESC);
    const piped = planner(['ls', '-C', workspace], { env: { NO_COLOR: undefined } });
    expect(piped.code, piped.stderr).toBe(0);
    expect(piped.stdout).toContain('svc000-python3-flask:latest');
    expect(piped.stdout).not.toContain(ESC);
  });

  it('honours NO_COLOR on a terminal, and --no-color', () => {
    expect(onTerminal(['ls', '-C', workspace], { NO_COLOR: '1' })).not.toContain(ESC);
    expect(onTerminal(['ls', '-C', workspace, '--no-color'])).not.toContain(ESC);
  });

  it('--color forces it on in a pipe, even with NO_COLOR, but never into --json', () => {
    const forced = planner(['ls', '-C', workspace, '--color'], { env: { NO_COLOR: '1' } });
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.stdout).toContain(ESC);
    const data = planner(['ls', '-C', workspace, '--color', '--json']);
    expect(data.stdout).not.toContain(ESC);
    expect(json(data).images).toHaveLength(120);
  });
});
