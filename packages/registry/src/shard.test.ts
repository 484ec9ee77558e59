import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseShard, shardOf } from './index.js';

const by = { key: (x: { k: string; w: number }) => x.k, weight: (x: { k: string; w: number }) => x.w };
const itemsArb = fc.uniqueArray(fc.record({ k: fc.string({ minLength: 1, maxLength: 8 }), w: fc.nat(1_000_000) }), { selector: (x) => x.k, maxLength: 60 });

describe('shardOf', () => {
  it('partitions: every item in exactly one shard', () => {
    fc.assert(
      fc.property(itemsArb, fc.integer({ min: 1, max: 7 }), (items, n) => {
        const shards = Array.from({ length: n }, (_, i) => shardOf(items, i + 1, n, by));
        const keys = shards.flat().map((x) => x.k);
        expect(keys.length).toBe(items.length);
        expect(new Set(keys)).toEqual(new Set(items.map((x) => x.k)));
      }),
    );
  });
  it('is the same whatever order the items come in', () => {
    fc.assert(
      fc.property(itemsArb, fc.integer({ min: 1, max: 5 }), fc.integer(), (items, n, seed) => {
        const shuffled = [...items].sort((a, b) => ((a.k.charCodeAt(0) * seed) % 7) - ((b.k.charCodeAt(0) * seed) % 7));
        for (let i = 1; i <= n; i++) expect(shardOf(shuffled, i, n, by)).toEqual(shardOf(items, i, n, by));
      }),
    );
  });
  it('balances: no shard carries more than the average plus the heaviest item', () => {
    fc.assert(
      fc.property(itemsArb, fc.integer({ min: 1, max: 6 }), (items, n) => {
        const total = items.reduce((s, x) => s + x.w, 0);
        const heaviest = Math.max(0, ...items.map((x) => x.w));
        for (let i = 1; i <= n; i++) {
          const load = shardOf(items, i, n, by).reduce((s, x) => s + x.w, 0);
          expect(load).toBeLessThanOrEqual(total / n + heaviest);
        }
      }),
    );
  });
  it('parses --shard i/n and rejects the rest', () => {
    expect(parseShard('2/3')).toEqual({ index: 2, count: 3 });
    for (const bad of ['0/3', '4/3', '1/0', 'a/b', '1', '']) expect(() => parseShard(bad)).toThrow(/--shard must be i\/n/);
  });
});
