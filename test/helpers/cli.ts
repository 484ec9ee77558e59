import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const plannerBin = path.join(repoRoot, 'apps/planner/dist/planner.js');
/**
 * The shared data sets (debian-120): $PLANNER_SHARED_DATA, else ../shared/data beside the
 * checkout, else /work/shared/data (a clone made elsewhere on this machine).
 */
export const sharedData = process.env.PLANNER_SHARED_DATA ?? [path.resolve(repoRoot, '../shared/data'), '/work/shared/data'].find((dir) => existsSync(dir)) ?? path.resolve(repoRoot, '../shared/data');

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd?: string;
  env?: Record<string, string | undefined>;
  input?: string;
}

function env(extra: RunOptions['env']): NodeJS.ProcessEnv {
  return { ...process.env, NO_COLOR: '1', FORCE_COLOR: undefined, ...extra };
}

/** Runs the built CLI synchronously, as a user would. */
export function planner(args: string[], options: RunOptions = {}): RunResult {
  const r = spawnSync(process.execPath, [plannerBin, ...args], {
    cwd: options.cwd ?? repoRoot,
    env: env(options.env),
    encoding: 'utf8',
    input: options.input,
    maxBuffer: 256 * 1024 * 1024,
  });
  return { code: r.status ?? (r.signal ? 128 : 1), stdout: r.stdout, stderr: r.stderr };
}

/** Runs the built CLI without blocking the event loop (for tests that serve HTTP meanwhile). */
export function plannerAsync(args: string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [plannerBin, ...args], { cwd: options.cwd ?? repoRoot, env: env(options.env) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr }));
  });
}

/** Parses --json output, failing with the CLI's stderr when it is not JSON. */
export function json<T = any>(result: RunResult): T {
  try {
    return JSON.parse(result.stdout) as T;
  } catch {
    throw new Error(`not JSON (exit ${result.code}):\nstdout: ${result.stdout.slice(0, 2000)}\nstderr: ${result.stderr.slice(0, 4000)}`);
  }
}

export function tempDir(prefix = 'planner-test-'): string {
  return mkdtempSync(path.join(tmpdir(), prefix));
}

/** Every file under `dir` with its size and mtime, to prove a failed run wrote nothing. */
export function snapshotTree(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = path.join(d, name);
      const st = statSync(p, { throwIfNoEntry: false });
      if (!st) continue;
      out.push(`${path.relative(dir, p)} ${st.isDirectory() ? 'dir' : st.size} ${st.mtimeMs}`);
      if (st.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out;
}
