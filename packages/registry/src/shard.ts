import { PlannerError } from '@planner/errors';

/** `--shard i/n`: this runner is number `index` (1-based) of `count`. */
export interface ShardSpec {
  index: number;
  count: number;
}

export function parseShard(value: string): ShardSpec {
  const match = /^(\d+)\/(\d+)$/.exec(value.trim());
  const index = match ? Number(match[1]) : NaN;
  const count = match ? Number(match[2]) : NaN;
  if (!match || count < 1 || index < 1 || index > count || count > 1000) {
    throw new PlannerError('E_USAGE', `--shard must be i/n with 1 <= i <= n, got "${value}"`, {
      hint: 'e.g. --shard 2/3 on the second of three CI runners',
    });
  }
  return { index, count };
}

export interface ShardBy<T> {
  /** A unique, stable key (layer id or digest, image ref). */
  key: (item: T) => string;
  /** Work the item costs (bytes); equal weights when absent. */
  weight?: (item: T) => number;
}

/**
 * Assigns every item to exactly one of `n` shards and returns shard `i`'s (1-based), sorted
 * by key. Greedy longest-processing-time: heaviest first (ties by key), each to the least
 * loaded shard (ties to the lowest number). A pure function of the item set: every runner
 * computes the same partition whatever order it read the items in.
 */
export function shardOf<T>(items: readonly T[], i: number, n: number, by: ShardBy<T>): T[] {
  if (!Number.isInteger(n) || n < 1 || !Number.isInteger(i) || i < 1 || i > n) throw new Error(`bad shard ${i}/${n}`);
  const keyed = items.map((item) => ({ item, key: by.key(item), weight: by.weight ? by.weight(item) : 1 }));
  const seen = new Set<string>();
  for (const k of keyed) {
    if (seen.has(k.key)) throw new Error(`shardOf: duplicate key ${k.key}`);
    seen.add(k.key);
  }
  keyed.sort((a, b) => b.weight - a.weight || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const load = new Array<number>(n).fill(0);
  const mine: typeof keyed = [];
  for (const k of keyed) {
    let best = 0;
    for (let s = 1; s < n; s++) if (load[s]! < load[best]!) best = s;
    load[best]! += k.weight;
    if (best === i - 1) mine.push(k);
  }
  return mine.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)).map((k) => k.item);
}
