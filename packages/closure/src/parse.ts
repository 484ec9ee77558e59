import { PlannerError } from '@planner/errors';
import { checkStorePath } from './storepath.js';
import type { Closure, PathInfo } from './types.js';

/** The closure export formats planner reads. */
export type ClosureShape = 'path-info-array' | 'path-info-object' | 'store-object-info-v2' | 'export-references-graph';

export interface ParseClosureOptions {
  storeDir: string;
  /** File name used in error messages. */
  file: string;
  /**
   * Store paths already checked, shared across the files of one load: the same popular
   * paths appear in most closures, and checking each name once keeps loading near JSON.parse.
   */
  checked?: Set<string>;
}

export interface ParsedClosure {
  shape: ClosureShape;
  closure: Closure;
}

interface RawEntry {
  path?: unknown;
  narHash?: unknown;
  narSize?: unknown;
  references?: unknown;
  valid?: unknown;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function shapeError(file: string, why: string): PlannerError {
  return new PlannerError('E_CLOSURE_SHAPE', `${file}: not a closure export: ${why}`, {
    file,
    hint: 'export closures with `nix path-info --json --recursive <paths>` or exportReferencesGraph',
  });
}

/** Detects the export format and returns the raw entries, each with an absolute path. */
function entriesOf(value: unknown, storeDir: string, file: string): { shape: ClosureShape; entries: RawEntry[]; prefix: string | undefined } {
  if (Array.isArray(value)) {
    return { shape: 'path-info-array', entries: value as RawEntry[], prefix: undefined };
  }
  if (!isObject(value)) throw shapeError(file, `expected an array or an object, got ${value === null ? 'null' : typeof value}`);
  // store-object-info v2 with a wrapper: { version: 2, storeDir, info: { "<hash-name>": {...} } }
  if ('info' in value && isObject(value.info) && ('version' in value || 'storeDir' in value)) {
    const dir = typeof value.storeDir === 'string' ? value.storeDir.replace(/\/+$/, '') : storeDir;
    const entries = Object.entries(value.info).map(([key, entry]) => ({ ...(isObject(entry) ? entry : {}), path: key, valid: entry !== null }));
    return { shape: 'store-object-info-v2', entries, prefix: dir };
  }
  const values = Object.values(value);
  // exportReferencesGraph (structured attrs): { "<name>": [ {path, narHash, narSize, references} ] }
  if (values.length > 0 && values.every((v) => Array.isArray(v))) {
    const entries = (values as unknown[][]).flat() as RawEntry[];
    return { shape: 'export-references-graph', entries, prefix: undefined };
  }
  // Object keyed by store path (Nix 2.19+) or by base name (v2 objects without a wrapper):
  // every value is a path's info, or null for a path that is not valid.
  const stray = Object.entries(value).find(([, entry]) => entry !== null && !isObject(entry));
  if (stray) {
    const [key, entry] = stray;
    throw shapeError(file, `expected path infos keyed by store path, but "${key}" holds ${Array.isArray(entry) ? 'an array' : `a ${typeof entry}`}`);
  }
  let v2 = false;
  const entries = Object.entries(value).map(([key, entry]) => {
    if (isObject(entry) && entry.version === 2) v2 = true;
    return { ...(isObject(entry) ? entry : {}), path: key, valid: entry !== null };
  });
  const firstKey = Object.keys(value)[0];
  if (firstKey !== undefined && !firstKey.startsWith('/')) {
    return { shape: 'store-object-info-v2', entries, prefix: storeDir };
  }
  return { shape: v2 ? 'store-object-info-v2' : 'path-info-object', entries, prefix: undefined };
}

/** Normalises a narHash given as SRI/base32 string or as a structured v2 hash object. */
function normaliseHash(raw: unknown): string | undefined {
  if (typeof raw === 'string' && raw.length > 0) return raw;
  if (isObject(raw) && typeof raw.hash === 'string' && typeof raw.algorithm === 'string') {
    const format = typeof raw.format === 'string' ? raw.format : 'base64';
    if (format === 'base64' || format === 'sri') return raw.hash.includes('-') ? raw.hash : `${raw.algorithm}-${raw.hash}`;
    if (format === 'base16') return `${raw.algorithm}-${Buffer.from(raw.hash, 'hex').toString('base64')}`;
    return `${raw.algorithm}:${raw.hash}`;
  }
  return undefined;
}

/**
 * Parses any closure export shape into a validated Closure. Checks every store path,
 * sizes, conflicting duplicates, missing references and reference cycles.
 */
export function parseClosure(value: unknown, options: ParseClosureOptions): ParsedClosure {
  const { storeDir, file } = options;
  const checked = options.checked ?? new Set<string>();
  const check = (path: string): void => {
    if (checked.has(path)) return;
    checkStorePath(path, storeDir, file);
    checked.add(path);
  };
  const { shape, entries, prefix } = entriesOf(value, storeDir, file);
  const absolute = (p: string): string => (prefix !== undefined && !p.startsWith('/') ? `${prefix}/${p}` : p);
  const closure = new Map<string, PathInfo>();
  for (const [index, entry] of entries.entries()) {
    if (!isObject(entry)) throw shapeError(file, `entry ${index} is not an object`);
    if (typeof entry.path !== 'string') throw shapeError(file, `entry ${index} has no "path" string`);
    const path = absolute(entry.path);
    check(path);
    if (entry.valid === false) {
      throw new PlannerError('E_STORE_PATH', `${file}: ${path} is not valid in the store it was exported from`, {
        file,
        hint: 'build or fetch the path before exporting its closure',
        details: { path },
      });
    }
    const narSize = entry.narSize;
    if (typeof narSize !== 'number' || !Number.isSafeInteger(narSize) || narSize < 0) {
      throw new PlannerError('E_BAD_SIZE', `${file}: ${path} has narSize ${JSON.stringify(narSize)}; expected a non-negative integer`, {
        file,
        hint: 'narSize must be the NAR size in bytes as Nix reports it',
        details: { path, narSize },
      });
    }
    const narHash = normaliseHash(entry.narHash);
    if (narHash === undefined) {
      throw new PlannerError('E_CLOSURE_SHAPE', `${file}: ${path} has no narHash`, {
        file,
        hint: 'export with `nix path-info --json`, which includes narHash',
        details: { path },
      });
    }
    const rawRefs = entry.references ?? [];
    if (!Array.isArray(rawRefs) || !rawRefs.every((r) => typeof r === 'string')) {
      throw shapeError(file, `${path} has "references" that is not a list of strings`);
    }
    const references = normaliseReferences(rawRefs as string[], path, absolute);
    const existing = closure.get(path);
    if (existing) {
      if (existing.narSize !== narSize || existing.narHash !== narHash) {
        throw new PlannerError(
          'E_SIZE_CONFLICT',
          `${file}: ${path} appears twice with different ${existing.narSize !== narSize ? `narSize (${existing.narSize} and ${narSize})` : `narHash (${existing.narHash} and ${narHash})`}`,
          {
            file,
            hint: 'the export mixes two different store objects under one path; re-export it',
            details: { path },
          },
        );
      }
      continue;
    }
    closure.set(path, { path, narHash, narSize, references });
  }
  for (const info of closure.values()) {
    for (const ref of info.references) {
      if (!closure.has(ref)) {
        checkStorePath(ref, storeDir, file);
        throw new PlannerError('E_MISSING_REFERENCE', `${file}: ${info.path} refers to ${ref}, which is not in the closure`, {
          file,
          hint: 'export the whole closure (`nix path-info --json --recursive`), not single paths',
          details: { path: info.path, reference: ref },
        });
      }
    }
  }
  const cycle = findCycle(closure);
  if (cycle) {
    throw new PlannerError('E_CYCLE', `${file}: reference cycle ${cycle.join(' -> ')}`, {
      file,
      hint: 'Nix store paths cannot refer to each other in a cycle; the export is corrupt or hand-edited',
      details: { cycle },
    });
  }
  return { shape, closure };
}

/** Absolute, deduplicated, byte-sorted references without the path itself (Nix usually sorts them already). */
function normaliseReferences(raw: readonly string[], self: string, absolute: (p: string) => string): string[] {
  const out: string[] = [];
  let sorted = true;
  for (const r of raw) {
    const ref = absolute(r);
    if (ref === self) continue;
    const last = out[out.length - 1];
    if (last !== undefined && !(last < ref)) sorted = false;
    out.push(ref);
  }
  return sorted ? out : [...new Set(out)].sort(byteOrder);
}

export function byteOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Iterative DFS; returns the first cycle in byte order of start paths (closing node
 * repeated), or undefined. The common acyclic case skips sorting.
 */
export function findCycle(closure: Closure): string[] | undefined {
  if (searchCycle(closure, closure.keys()) === undefined) return undefined;
  return searchCycle(closure, [...closure.keys()].sort(byteOrder));
}

function searchCycle(closure: Closure, starts: Iterable<string>): string[] | undefined {
  const state = new Map<string, 1 | 2>(); // 1 = on stack, 2 = done
  for (const start of starts) {
    if (state.has(start)) continue;
    const stack: { path: string; next: number }[] = [{ path: start, next: 0 }];
    state.set(start, 1);
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const refs = closure.get(top.path)?.references ?? [];
      if (top.next < refs.length) {
        const ref = refs[top.next++]!;
        const s = state.get(ref);
        if (s === 1) {
          const from = stack.findIndex((f) => f.path === ref);
          return [...stack.slice(from).map((f) => f.path), ref];
        }
        if (s === undefined) {
          state.set(ref, 1);
          stack.push({ path: ref, next: 0 });
        }
      } else {
        state.set(top.path, 2);
        stack.pop();
      }
    }
  }
  return undefined;
}

/** The paths reachable from `roots` (roots included), as a new Closure. */
export function reachable(closure: Closure, roots: readonly string[]): Map<string, PathInfo> {
  const out = new Map<string, PathInfo>();
  const todo = [...roots];
  while (todo.length > 0) {
    const path = todo.pop()!;
    if (out.has(path)) continue;
    const info = closure.get(path);
    if (!info) continue;
    out.set(path, info);
    for (const ref of info.references) if (!out.has(ref)) todo.push(ref);
  }
  return out;
}
