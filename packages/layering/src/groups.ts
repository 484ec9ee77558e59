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
 * of them, and sees them all as roots or all as dependencies. Items come out ordered by
 * their smallest path id.
 */
export function groupPaths(membership: Uint32Array, words: number, narSize: ArrayLike<number>, roots?: Uint32Array): Grouping {
  const items: PackItem[] = [];
  const paths: number[][] = [];
  // Rows are hashed; a hash hit is confirmed row by row (collisions chain in the bucket).
  const buckets = new Map<number, number[]>();
  const n = narSize.length;
  const users = new Uint32Array(words);
  const own = new Uint32Array(words);
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
    const bucket = buckets.get(h);
    let item = bucket?.find((k) => same(items[k]!.users, users) && same(items[k]!.roots, own));
    if (item === undefined) {
      item = items.length;
      items.push({ size: 0, users: users.slice(), roots: own.slice() });
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
