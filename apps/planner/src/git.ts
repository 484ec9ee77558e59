import { mkdir, mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import fg from 'fast-glob';
import { PlannerError } from '@planner/errors';
import { DEFAULT_SERVICES, MANIFEST_GLOB, validateAgainstSchema } from '@planner/workspace';

/**
 * The git edge of `planner check --base <ref>`: it reads the base's config, manifests,
 * closure files and lock with `git ls-tree` and `git cat-file --batch` (never checking
 * anything out) and writes just those files into a temp directory at their repository
 * paths, so the ordinary workspace loader can read the base like any other workspace.
 */

export interface GitRun {
  stdout: Buffer;
  stderr: string;
  code: number;
}

/** Runs git in `cwd`; never throws for a non-zero exit (callers turn it into E_GIT). */
export async function runGit(args: readonly string[], options: { cwd: string; input?: string | Buffer }): Promise<GitRun> {
  const run = await execa('git', ['-c', 'core.quotepath=off', ...args], {
    cwd: options.cwd,
    input: options.input ?? '',
    env: { GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C' },
    encoding: 'buffer',
    stripFinalNewline: false,
    reject: false,
  });
  if (run.code === 'ENOENT') {
    throw new PlannerError('E_GIT', 'cannot run git: not found on PATH', {
      hint: 'install git, or compare against a lock file with --base-lock FILE',
      cause: run,
    });
  }
  return { stdout: Buffer.from(run.stdout), stderr: Buffer.from(run.stderr).toString('utf8'), code: run.exitCode ?? (run.signal ? 128 : 1) };
}

function gitError(what: string, run: GitRun, hint: string): PlannerError {
  const tail = run.stderr.trim().split('\n').slice(-5).join('\n');
  return new PlannerError('E_GIT', `${what}${tail ? `: ${tail}` : ''}`, { hint });
}

export interface BaseTreeOptions {
  /** The workspace root of the working tree (directory of planner.config.json). */
  workspaceRoot: string;
  /** The working tree's config file; the base's config is read from the same repository path. */
  configFile: string;
  /** A git revision: branch, tag, sha, `origin/main`, `HEAD~1`, ... */
  ref: string;
  /** File name of the lock next to the config (planner.lock.json). */
  lockName: string;
}

export interface BaseTree {
  ref: string;
  /** Full sha of the commit `ref` names. */
  commit: string;
  /** Temp directory mirroring the repository's paths (only the files planner reads). */
  dir: string;
  /** The base's config file inside `dir`; undefined when the base has no config (planner not adopted yet). */
  configFile: string | undefined;
  /** The base's lock inside `dir`, when the base has one. */
  lockFile: string | undefined;
  /** Repository-relative path of the workspace root ('' for the top level). */
  prefix: string;
  /** Services whose manifest has no "closure" file (their base closure needs Nix). */
  withoutClosureFile: string[];
  /** Removes `dir`. */
  cleanup: () => Promise<void>;
}

interface TreeEntry {
  mode: string;
  type: string;
  oid: string;
}

/** Reads the files named by `specs` (`<commit>:<path>`) with one `git cat-file --batch`. */
async function readBlobs(cwd: string, specs: readonly string[]): Promise<Map<string, Buffer>> {
  const result = new Map<string, Buffer>();
  if (specs.length === 0) return result;
  const run = await runGit(['cat-file', '--batch'], { cwd, input: `${specs.join('\n')}\n` });
  if (run.code !== 0) throw gitError('git cat-file failed', run, 'check that the repository is not corrupt (git fsck)');
  const buf = run.stdout;
  let pos = 0;
  for (const spec of specs) {
    const eol = buf.indexOf(0x0a, pos);
    if (eol < 0) throw new Error(`git cat-file: truncated output at ${spec}`);
    const header = buf.subarray(pos, eol).toString('utf8');
    pos = eol + 1;
    if (header.endsWith(' missing') || header.endsWith(' ambiguous')) continue;
    const size = Number(header.slice(header.lastIndexOf(' ') + 1));
    if (!Number.isSafeInteger(size)) throw new Error(`git cat-file: unexpected header ${header}`);
    result.set(spec, buf.subarray(pos, pos + size));
    pos += size + 1;
  }
  return result;
}

/** A read-only file system over a git tree listing, for fast-glob: same matching as the working tree. */
function virtualFs(root: string, files: ReadonlySet<string>) {
  const dirs = new Map<string, Set<string>>();
  const addDir = (dir: string): Set<string> => {
    let entries = dirs.get(dir);
    if (!entries) {
      entries = new Set();
      dirs.set(dir, entries);
      if (dir !== root) addDir(path.dirname(dir)).add(path.basename(dir));
    }
    return entries;
  };
  addDir(root);
  for (const file of files) addDir(path.dirname(path.join(root, file))).add(path.basename(file));
  const kind = (p: string): 'dir' | 'file' | undefined => {
    const abs = path.resolve(p);
    if (dirs.has(abs)) return 'dir';
    const rel = path.relative(root, abs);
    return files.has(rel) ? 'file' : undefined;
  };
  const stats = (p: string) => {
    const k = kind(p);
    if (!k) throw Object.assign(new Error(`ENOENT: no such file or directory, stat '${p}'`), { code: 'ENOENT' });
    return {
      isFile: () => k === 'file',
      isDirectory: () => k === 'dir',
      isSymbolicLink: () => false,
      isBlockDevice: () => false,
      isCharacterDevice: () => false,
      isFIFO: () => false,
      isSocket: () => false,
    };
  };
  const readdir = (p: string, withTypes: boolean) => {
    const entries = dirs.get(path.resolve(p));
    if (!entries) throw Object.assign(new Error(`ENOENT: no such file or directory, scandir '${p}'`), { code: 'ENOENT' });
    const names = [...entries].sort();
    if (!withTypes) return names;
    return names.map((name) => ({ name, ...stats(path.join(p, name)) }));
  };
  type Cb = (error: NodeJS.ErrnoException | null, value?: unknown) => void;
  const wrap = (f: () => unknown, cb: Cb) => {
    let value: unknown;
    try {
      value = f();
    } catch (error) {
      queueMicrotask(() => cb(error as NodeJS.ErrnoException));
      return;
    }
    queueMicrotask(() => cb(null, value));
  };
  return {
    lstatSync: stats,
    statSync: stats,
    lstat: (p: string, cb: Cb) => wrap(() => stats(p), cb),
    stat: (p: string, cb: Cb) => wrap(() => stats(p), cb),
    readdirSync: (p: string, options?: { withFileTypes?: boolean }) => readdir(p, options?.withFileTypes === true),
    readdir: (p: string, options: { withFileTypes?: boolean } | Cb, cb?: Cb) => {
      const callback = (typeof options === 'function' ? options : cb)!;
      const withTypes = typeof options === 'object' && options.withFileTypes === true;
      wrap(() => readdir(p, withTypes), callback);
    },
  };
}

function isInside(rel: string): boolean {
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

/** Reads the base revision's planner inputs into a temp directory (see the module comment). */
export async function readBaseTree(options: BaseTreeOptions): Promise<BaseTree> {
  const { ref } = options;
  const cwd = options.workspaceRoot;
  if (ref.startsWith('-')) throw new PlannerError('E_USAGE', `--base ${ref}: not a git revision`, { hint: 'pass a branch, tag or commit, e.g. --base origin/main' });
  const top = await runGit(['rev-parse', '--show-toplevel'], { cwd });
  if (top.code !== 0) {
    throw gitError(`${cwd} is not inside a git repository`, top, 'run planner check inside the repository, or compare with --base-lock FILE');
  }
  const topDir = await realpath(top.stdout.toString('utf8').trim());
  const rev = await runGit(['rev-parse', '--verify', '--quiet', '--end-of-options', `${ref}^{commit}`], { cwd });
  if (rev.code !== 0) {
    throw new PlannerError('E_GIT', `--base ${ref}: no such commit in ${topDir}`, {
      hint: `fetch it first (git fetch origin ${ref.replace(/^origin\//, '')}); in GitHub Actions check out with fetch-depth: 0`,
      details: { ref },
    });
  }
  const commit = rev.stdout.toString('utf8').trim();
  const prefix = path
    .relative(topDir, await realpath(cwd))
    .split(path.sep)
    .join('/');
  const configRel = path
    .relative(topDir, await realpath(options.configFile))
    .split(path.sep)
    .join('/');
  if (prefix.startsWith('..') || configRel.startsWith('..')) {
    throw new PlannerError('E_GIT', `${options.configFile} is outside the git repository ${topDir}`, { hint: 'compare with --base-lock FILE instead' });
  }
  const ls = await runGit(['ls-tree', '-r', '-z', '--full-tree', commit, ...(prefix ? ['--', prefix] : [])], { cwd });
  if (ls.code !== 0) throw gitError(`git ls-tree ${ref} failed`, ls, 'check that the repository is not corrupt (git fsck)');
  const tree = new Map<string, TreeEntry>();
  for (const record of ls.stdout.toString('utf8').split('\0')) {
    if (!record) continue;
    const tab = record.indexOf('\t');
    const [mode, type, oid] = record.slice(0, tab).split(' ') as [string, string, string];
    tree.set(record.slice(tab + 1), { mode, type, oid });
  }
  const dir = await mkdtemp(path.join(tmpdir(), 'planner-base-'));
  const cleanup = () => rm(dir, { recursive: true, force: true });
  try {
    const configEntry = tree.get(configRel);
    const lockRel = path.posix.join(path.posix.dirname(configRel), options.lockName);
    const base: BaseTree = { ref, commit, dir, configFile: undefined, lockFile: undefined, prefix, withoutClosureFile: [], cleanup };
    if (!configEntry || configEntry.type !== 'blob') return base;
    const write = async (rel: string, data: Buffer): Promise<string> => {
      const file = path.join(dir, rel);
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, data);
      return file;
    };
    const first = await readBlobs(cwd, [`${commit}:${configRel}`, `${commit}:${lockRel}`]);
    const configText = first.get(`${commit}:${configRel}`)!;
    base.configFile = await write(configRel, configText);
    const lockText = first.get(`${commit}:${lockRel}`);
    if (lockText && tree.get(lockRel)?.type === 'blob') base.lockFile = await write(lockRel, lockText);
    let config: { services?: string[] };
    try {
      config = JSON.parse(configText.toString('utf8')) as { services?: string[] };
    } catch (error) {
      throw new PlannerError('E_CONFIG_PARSE', `${ref}:${configRel} is not valid JSON: ${(error as Error).message}`, {
        file: `${ref}:${configRel}`,
        hint: "the base revision's config is broken; compare against another base or with --base-lock FILE",
      });
    }
    validateAgainstSchema('config', config, `${ref}:${configRel}`);
    const rootInRepo = path.posix.dirname(configRel);
    const blobs = new Set<string>();
    for (const [p, entry] of tree) {
      if (entry.type !== 'blob' || entry.mode === '120000') continue;
      const rel = rootInRepo === '.' ? p : path.posix.relative(rootInRepo, p);
      if (isInside(rel)) blobs.add(rel);
    }
    const virtualRoot = path.join(dir, rootInRepo);
    const manifests = fg
      .sync(config.services ?? DEFAULT_SERVICES, {
        ...MANIFEST_GLOB,
        ignore: [...MANIFEST_GLOB.ignore],
        cwd: virtualRoot,
        fs: virtualFs(virtualRoot, blobs) as never,
      })
      .sort();
    const repoPath = (rel: string) => (rootInRepo === '.' ? rel : path.posix.join(rootInRepo, rel));
    const manifestBlobs = await readBlobs(
      cwd,
      manifests.map((m) => `${commit}:${repoPath(m)}`),
    );
    const closureFiles: string[] = [];
    for (const m of manifests) {
      const text = manifestBlobs.get(`${commit}:${repoPath(m)}`);
      if (!text) continue;
      await write(repoPath(m), text);
      let closure: unknown;
      try {
        closure = (JSON.parse(text.toString('utf8')) as { closure?: unknown }).closure;
      } catch {
        continue; // the loader reports the broken manifest with its name
      }
      if (typeof closure !== 'string') {
        base.withoutClosureFile.push(repoPath(m));
        continue;
      }
      // A closure file may live outside the workspace root (not in the listing); cat-file finds it.
      const rel = path.posix.normalize(path.posix.join(path.posix.dirname(repoPath(m)), closure));
      if (!rel.startsWith('../') && !closureFiles.includes(rel)) closureFiles.push(rel);
    }
    const closureBlobs = await readBlobs(
      cwd,
      closureFiles.map((f) => `${commit}:${f}`),
    );
    for (const f of closureFiles) {
      const text = closureBlobs.get(`${commit}:${f}`);
      if (text) await write(f, text);
    }
    return base;
  } catch (error) {
    await cleanup();
    throw error;
  }
}
