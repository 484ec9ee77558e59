import { RowPool } from './bitset.js';
import type { PackItem } from './pack.js';

export interface Grouping {
  items: PackItem[];
  /** Path ids of each item, ascending. */
  paths: number[][];
}

/**
 * Groups paths by the exact set of images that need them (a row of `membership`) and the
 * set of those images whose root they are (a row of `roots`, masked by membership).
 * Paths of one group can share a layer at no cost: every image that needs one needs all
 * of them, and sees them all as roots or all as dependencies. With `pivots`, paths of
 * different parts (groups split by the pivots they depend on, pivots.ts) are kept apart
 * too, and each item carries its part's mask. Items come out ordered by their smallest
 * path id.
 */
export function groupPaths(membership: Uint32Array, words: number, narSize: ArrayLike<number>, roots?: Uint32Array, pivots?: { parts: Int32Array; masks: Int32Array }): Grouping {
  const items: PackItem[] = [];
  const paths: number[][] = [];
  const parts: number[] = [];
  // Rows are hashed; a hash hit is confirmed row by row (collisions chain in the bucket).
  const buckets = new Map<number, number[]>();
  const n = narSize.length;
  const users = new Uint32Array(words);
  const own = new Uint32Array(words);
  const rows = new RowPool(words);
  for (let id = 0; id < n; id++) {
    const base = id * words;
    let any = 0;
    let h = 0x811c9dc5;
    for (let w = 0; w < words; w++) {
      const u = membership[base + w]!;
      const r = roots ? roots[base + w]! & u : 0;
      users[w] = u;
      own[w] = r;
      any |= u;
      h = Math.imul(h ^ u, 0x01000193);
      h = Math.imul(h ^ r, 0x01000193);
    }
    if (any === 0) continue;
    const part = pivots ? pivots.parts[id]! : 0;
    h = Math.imul(h ^ part, 0x01000193);
    const bucket = buckets.get(h);
    let item = bucket?.find((k) => same(items[k]!.users, users) && same(items[k]!.roots, own) && parts[k] === part);
    if (item === undefined) {
      item = items.length;
      items.push(pivots ? { size: 0, users: rows.copy(users), roots: rows.copy(own), mask: pivots.masks[id]! } : { size: 0, users: rows.copy(users), roots: rows.copy(own) });
      parts.push(part);
      paths.push([]);
      if (bucket) bucket.push(item);
      else buckets.set(h, [item]);
    }
    items[item]!.size += narSize[id]!;
    paths[item]!.push(id);
  }
  return { items, paths };
}

function same(a: Uint32Array, b: Uint32Array): boolean {
  for (let w = 0; w < a.length; w++) if (a[w] !== b[w]) return false;
  return true;
}

/**
 * groupPaths(rows, ..., pivots) for the very rows the pivots' parts were made from: every
 * part is then one item (paths of a part share their row), without hashing any row.
 */
export function groupByParts(rows: Uint32Array, words: number, narSize: ArrayLike<number>, roots: Uint32Array, pivots: { parts: Int32Array; masks: Int32Array }): Grouping {
  const items: PackItem[] = [];
  const paths: number[][] = [];
  const itemOf = new Map<number, number>();
  for (let id = 0; id < narSize.length; id++) {
    const part = pivots.parts[id]!;
    if (part < 0) continue;
    let item = itemOf.get(part);
    if (item === undefined) {
      item = items.length;
      itemOf.set(part, item);
      const users = rows.slice(id * words, id * words + words);
      const own = roots.slice(id * words, id * words + words);
      for (let w = 0; w < words; w++) own[w]! &= users[w]!;
      items.push({ size: 0, users, roots: own, mask: pivots.masks[id]! });
      paths.push([]);
    }
    items[item]!.size += narSize[id]!;
    paths[item]!.push(id);
  }
  return { items, paths };
}
