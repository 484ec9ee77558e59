import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { planner } from '../helpers/cli.js';

/**
 * Closure-file workspaces in git repositories, for report/check/explain tests. A package is
 * one store path with an exact narSize; an image's closure is computed from its roots.
 */

const NIX32 = '0123456789abcdfghijklmnpqrsvwxyz';

export function storePath(name: string, salt = ''): string {
  const digest = createHash('sha256').update(`${name}\0${salt}`).digest();
  let hash = '';
  for (let i = 0; i < 32; i++) hash += NIX32[digest[i]! % 32];
  return `/nix/store/${hash}-${name}`;
}

export interface Pkg {
  name: string;
  narSize: number;
  deps?: string[];
  /** Changes the store hash without changing the name (a rebuild). */
  salt?: string;
}

export interface ServiceDef {
  name: string;
  roots: string[];
  maxLayers?: number;
}

export interface WorkspaceDef {
  pkgs: Pkg[];
  services: ServiceDef[];
  config?: Record<string, unknown>;
}

export function pathOf(ws: WorkspaceDef, name: string): string {
  const pkg = ws.pkgs.find((p) => p.name === name);
  if (!pkg) throw new Error(`no package ${name}`);
  return storePath(pkg.name, pkg.salt);
}

/** Every package in the closure of `roots`. */
export function closureOf(ws: WorkspaceDef, roots: string[]): Pkg[] {
  const byName = new Map(ws.pkgs.map((p) => [p.name, p]));
  const seen = new Map<string, Pkg>();
  const visit = (name: string): void => {
    if (seen.has(name)) return;
    const pkg = byName.get(name);
    if (!pkg) throw new Error(`no package ${name}`);
    seen.set(name, pkg);
    for (const d of pkg.deps ?? []) visit(d);
  };
  for (const r of roots) visit(r);
  return [...seen.values()];
}

export function closureBytes(ws: WorkspaceDef, service: string): number {
  const s = ws.services.find((x) => x.name === service)!;
  return closureOf(ws, s.roots).reduce((sum, p) => sum + p.narSize, 0);
}

/** Writes planner.config.json and services/<name>/{image.json,closure.json}; removes services no longer defined. */
export function writeWorkspace(dir: string, ws: WorkspaceDef): void {
  writeFileSync(path.join(dir, 'planner.config.json'), `${JSON.stringify({ services: ['services/*/image.json'], ...ws.config }, null, 2)}\n`);
  rmSync(path.join(dir, 'services'), { recursive: true, force: true });
  for (const service of ws.services) {
    const sdir = path.join(dir, 'services', service.name);
    mkdirSync(sdir, { recursive: true });
    const pathOfName = (n: string): string => pathOf(ws, n);
    const closure = closureOf(ws, service.roots).map((p) => ({
      path: pathOfName(p.name),
      narHash: `sha256-${createHash('sha256').update(pathOfName(p.name)).digest('base64')}`,
      narSize: p.narSize,
      references: (p.deps ?? []).map(pathOfName).sort(),
    }));
    closure.sort((a, b) => (a.path < b.path ? -1 : 1));
    writeFileSync(path.join(sdir, 'closure.json'), `${JSON.stringify(closure, null, 1)}\n`);
    const manifest: Record<string, unknown> = { name: service.name, tag: 'latest', contents: service.roots.map(pathOfName), closure: 'closure.json' };
    if (service.maxLayers !== undefined) manifest.maxLayers = service.maxLayers;
    writeFileSync(path.join(sdir, 'image.json'), `${JSON.stringify(manifest, null, 1)}\n`);
  }
}

export function git(dir: string, args: string[]): string {
  return execFileSync('git', args, {
    cwd: dir,
    encoding: 'utf8',
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: 'test',
      GIT_AUTHOR_EMAIL: 'test@example.invalid',
      GIT_COMMITTER_NAME: 'test',
      GIT_COMMITTER_EMAIL: 'test@example.invalid',
      GIT_AUTHOR_DATE: '2024-01-01T00:00:00Z',
      GIT_COMMITTER_DATE: '2024-01-01T00:00:00Z',
      GIT_CONFIG_NOSYSTEM: '1',
      HOME: dir,
    },
  });
}

export function initRepo(dir: string): void {
  git(dir, ['init', '-q', '-b', 'main']);
}

export function commitAll(dir: string, message: string): string {
  git(dir, ['add', '-A']);
  git(dir, ['commit', '-q', '--allow-empty', '-m', message]);
  return git(dir, ['rev-parse', 'HEAD']).trim();
}

/** Copies a read-only data set (e.g. /work/shared/data/debian-120) into `dir`. */
export function copyTree(from: string, to: string): void {
  cpSync(from, to, { recursive: true });
}

/**
 * Rebuilds one store path in every closure file under `dir`: a new hash and narSize, as a
 * dependency bump does. Returns the old and new path.
 */
export function bumpPath(dir: string, name: string, newSize: number): { from: string; to: string } {
  let from: string | undefined;
  const files: string[] = [];
  const walk = (d: string): void => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, entry.name);
      if (entry.isDirectory() && entry.name !== '.git') walk(p);
      else if (entry.name === 'closure.json' || entry.name === 'image.json') files.push(p);
    }
  };
  walk(dir);
  for (const f of files) {
    if (!f.endsWith('closure.json')) continue;
    const found = (JSON.parse(readFileSync(f, 'utf8')) as { path: string }[]).find((e) => e.path.slice(44) === name);
    if (found) {
      from = found.path;
      break;
    }
  }
  if (!from) throw new Error(`no store path named ${name}`);
  const to = storePath(name, 'bumped');
  for (const f of files) {
    const text = readFileSync(f, 'utf8');
    if (!text.includes(from)) continue;
    const value = JSON.parse(text.split(from).join(to)) as unknown;
    if (Array.isArray(value)) for (const e of value as { path: string; narSize: number }[]) if (e.path === to) e.narSize = newSize;
    writeFileSync(f, `${JSON.stringify(value, null, 1)}\n`);
  }
  return { from, to };
}

/** Runs `planner plan` in `dir`: writes planner.lock.json, keeping the existing lock's layers where still valid. */
export async function writeLock(dir: string): Promise<void> {
  const r = planner(['plan'], { cwd: dir });
  if (r.code !== 0) throw new Error(`planner plan failed in ${dir} (exit ${r.code}):\n${r.stderr}`);
}

/** Three services over a small package set, a budget of 3 store layers each. */
export function smallWorkspace(): WorkspaceDef {
  return {
    pkgs: [
      { name: 'glibc-2.37', narSize: 10_000_000 },
      { name: 'zlib-1.3', narSize: 300_000, deps: ['glibc-2.37'] },
      { name: 'openssl-3.0', narSize: 6_000_000, deps: ['glibc-2.37'] },
      { name: 'python3-3.11', narSize: 40_000_000, deps: ['glibc-2.37', 'zlib-1.3', 'openssl-3.0'] },
      { name: 'nodejs-20', narSize: 50_000_000, deps: ['glibc-2.37', 'zlib-1.3', 'openssl-3.0'] },
      { name: 'app-a-1.0', narSize: 1_000_000, deps: ['python3-3.11'] },
      { name: 'app-b-1.0', narSize: 2_000_000, deps: ['nodejs-20'] },
      { name: 'app-c-1.0', narSize: 500_000, deps: ['python3-3.11'] },
    ],
    services: [
      { name: 'a', roots: ['app-a-1.0'] },
      { name: 'b', roots: ['app-b-1.0'] },
      { name: 'c', roots: ['app-c-1.0'] },
    ],
    config: { maxLayers: 4 },
  };
}

/** A fresh git repository whose first commit is `base` (with its lock); returns the workspace dir. */
export async function repoWithBase(root: string, base: WorkspaceDef, options: { subdir?: string; lock?: boolean } = {}): Promise<string> {
  initRepo(root);
  const dir = options.subdir ? path.join(root, options.subdir) : root;
  mkdirSync(dir, { recursive: true });
  writeWorkspace(dir, base);
  if (options.lock !== false) await writeLock(dir);
  writeFileSync(path.join(root, 'README.md'), 'fixture\n');
  commitAll(root, 'base');
  return dir;
}
