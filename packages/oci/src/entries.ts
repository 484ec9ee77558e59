import { lstatSync, readdirSync, readlinkSync, type Stats } from 'node:fs';
import path from 'node:path';
import { PlannerError } from '@planner/errors';

/** One tar entry before it is written: names are relative (`nix/store/…`), no trailing slash. */
export interface TarEntry {
  name: string;
  kind: 'dir' | 'file' | 'symlink';
  /** Permission bits (& 0o7777). */
  mode: number;
  /** File size; 0 for directories and symlinks. */
  size: number;
  linkname?: string;
  /** Absolute path the file's bytes are read from. */
  source?: string;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function decodeName(bytes: Buffer, where: string): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw new PlannerError('E_READ', `file name is not UTF-8 in ${where}: ${bytes.toString('latin1')}`, {
      hint: 'Layers are written with UTF-8 names; rename the file in the derivation.',
      exitCode: 1,
    });
  }
}

export function readError(file: string, error: unknown): PlannerError {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') {
    return new PlannerError('E_STORE_PATH_MISSING', `store path disappeared while building: ${file}`, {
      hint: 'Something deleted it (nix-collect-garbage?). Realise the closure again and rerun.',
      exitCode: 1,
      cause: error,
    });
  }
  return new PlannerError('E_READ', `cannot read ${file}: ${(error as Error).message}`, {
    hint: 'Check that the store path is intact (nix-store --verify-path) and readable by this user.',
    exitCode: 1,
    cause: error,
  });
}

function lstat(file: string): Stats {
  try {
    return lstatSync(file);
  } catch (error) {
    throw readError(file, error);
  }
}

function entryOf(abs: string, name: string, st: Stats): TarEntry {
  const mode = st.mode & 0o7777;
  if (st.isDirectory()) return { name, kind: 'dir', mode, size: 0 };
  // A hard link (nix-store --optimise) is just another regular file: written in full.
  if (st.isFile()) return { name, kind: 'file', mode, size: st.size, source: abs };
  if (st.isSymbolicLink()) {
    let target: Buffer;
    try {
      target = readlinkSync(abs, { encoding: 'buffer' });
    } catch (error) {
      throw readError(abs, error);
    }
    return { name, kind: 'symlink', mode, size: 0, linkname: decodeName(target, abs) };
  }
  throw new PlannerError('E_READ', `cannot archive ${abs}: not a regular file, directory or symlink`, {
    hint: 'A Nix store path holds only those; the store may have been modified by hand.',
    exitCode: 1,
  });
}

/** Every file below `abs` (included), depth first; symlinks are never followed. */
function walk(abs: string, name: string, out: TarEntry[]): void {
  const st = lstat(abs);
  out.push(entryOf(abs, name, st));
  if (!st.isDirectory()) return;
  let children: Buffer[];
  try {
    children = readdirSync(abs, { encoding: 'buffer' });
  } catch (error) {
    throw readError(abs, error);
  }
  for (const child of children) {
    const childName = decodeName(child, abs);
    walk(path.join(abs, childName), `${name}/${childName}`, out);
  }
}

/** Sorts entries byte-wise by their UTF-8 name: the order every layer is written in. */
export function sortEntries(entries: TarEntry[]): TarEntry[] {
  const keyed = entries.map((e) => ({ e, k: Buffer.from(e.name, 'utf8') }));
  keyed.sort((a, b) => Buffer.compare(a.k, b.k));
  return keyed.map((x) => x.e);
}

/** The directories leading to the store (`nix`, `nix/store`), mode 0555 as nixpkgs writes them. */
export function storeDirEntries(storeDir: string): TarEntry[] {
  const parts = storeDir.split('/').filter(Boolean);
  return parts.map((_, i) => ({ name: parts.slice(0, i + 1).join('/'), kind: 'dir' as const, mode: 0o555, size: 0 }));
}

/** The tar entries of a store layer: the store directories, then every file of `paths`. */
export function storeLayerEntries(storeDir: string, paths: readonly string[]): TarEntry[] {
  const out: TarEntry[] = [];
  for (const p of paths) walk(p, p.replace(/^\/+/, ''), out);
  return [...storeDirEntries(storeDir), ...sortEntries(out)];
}

/** Store paths (of `paths`) that do not exist. */
export function missingPaths(paths: Iterable<string>): string[] {
  const missing: string[] = [];
  for (const p of paths) {
    try {
      lstatSync(p);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'ENOTDIR') missing.push(p);
      else throw readError(p, error);
    }
  }
  return missing;
}
