import type { SharedGraph } from '@planner/graph';
import type { Grouping } from './groups.js';
import { Heap } from './heap.js';
import { pathHeights } from './order.js';

/**
 * Pivots: the widely used libraries whose bump would re-push the most unchanged bytes, and
 * for every path the set of pivots it depends on (a 32-bit mask).
 *
 * Why: bumping a library gives it and every path depending on it (its dependents) new
 * hashes. Every layer holding one of those is pushed again whole, unchanged paths
 * included. Paths needed by the same images (a group) still differ in what they depend
 * on: gcc depends on zlib, libboost-dev does not, yet both are in exactly the images that
 * compile C++. Splitting groups by the pivots they depend on keeps a bump's dependents in
 * layers of their own, at no cost in bytes (a group's parts have the same users), only in
 * layer slots, which the packer weighs against bytes (see pack.ts).
 *
 * Choice: candidates are the non-root paths in the most images; the score of a candidate
 * is what its bump would re-push needlessly if every part (group, split by the pivots
 * chosen so far) were a layer of its own: the unchanged bytes of every part holding one of
 * its dependents. Pivots are taken greedily, best score first; scores only fall as parts
 * get finer, so stale scores are upper bounds (lazy greedy). Everything is ordered by path
 * ids, which are input-order independent.
 */
export interface Pivots {
  /** Path ids of the pivots, in the order chosen (bit k of a mask is ids[k]). */
  ids: number[];
  /**
   * Each path's part: its group (image set, roots), split by the pivots where that saves
   * enough; -1 for paths in no image. Paths of one part can share a layer at no cost.
   */
  parts: Int32Array;
  /** Each path's part's mask: bit k set when some path of the part depends on pivot k. */
  masks: Int32Array;
}

export interface PivotOptions {
  /** At most this many pivots (0..30: masks stay small integers, which V8 keeps unboxed). Default 16. */
  count?: number;
  /** How many of the most widely used non-root paths are scored. Default 4 per pivot. */
  candidates?: number;
  /** Pivots whose needless re-push is below this share of all bytes are not taken. Default 0.001. */
  threshold?: number;
  /**
   * A part is split by a pivot only if the bytes a bump would re-push needlessly are at
   * least this share of the mean group size: a part costs a layer slot in each of its
   * images, and the packer a merge, for a saving too small to matter. Default 0.5.
   */
  minSplit?: number;
  /** Path heights (order.ts), if already computed. */
  heights?: Uint32Array;
}

/**
 * `grouping`: groupPaths(graph.imageSets, words, narSize, roots), the groups the parts
 * refine; `roots` as rootSets(graph).
 */
export function choosePivots(graph: SharedGraph, roots: Uint32Array, grouping: Grouping, options: PivotOptions = {}): Pivots {
  const n = graph.paths.length;
  const count = Math.min(30, Math.max(0, options.count ?? 16));
  const { words, narSize } = graph;

  // Parts: groups (image set, and which of those images have them as roots), refined by
  // every pivot taken.
  const parts = new Int32Array(n).fill(-1);
  const partSize: number[] = [];
  grouping.paths.forEach((ids, item) => {
    for (const id of ids) parts[id] = item;
    partSize.push(grouping.items[item]!.size);
  });
  const masks = new Int32Array(n);
  if (count === 0 || n === 0) return { ids: [], parts, masks };
  let total = 0;
  for (let id = 0; id < n; id++) total += narSize[id]!;
  const threshold = (options.threshold ?? 0.001) * total;
  const minSplit = ((options.minSplit ?? 0.5) * total) / Math.max(1, partSize.length);

  // Candidates: no image's root, in at least two images, most widely used first.
  const isRoot = new Uint8Array(n);
  for (let id = 0; id < n; id++) {
    for (let w = 0; w < words; w++) {
      if (roots[id * words + w] !== 0) {
        isRoot[id] = 1;
        break;
      }
    }
  }
  const pool: number[] = [];
  for (let id = 0; id < n; id++) if (isRoot[id] === 0 && graph.popularity[id]! >= 2) pool.push(id);
  pool.sort((a, b) => graph.popularity[b]! - graph.popularity[a]! || a - b);
  pool.length = Math.min(pool.length, options.candidates ?? 4 * count);
  if (pool.length === 0) return { ids: [], parts, masks };

  // below[p]: the candidates p depends on (or is), as a bitset, filled in height order
  // (references first): one pass over the edges instead of a search per candidate.
  const cw = (pool.length + 31) >>> 5;
  const below = new Uint32Array(n * cw);
  pool.forEach((id, c) => (below[id * cw + (c >>> 5)]! |= 1 << (c & 31)));
  const heights = options.heights ?? pathHeights(graph);
  for (const id of byHeight(heights)) {
    for (const r of graph.references[id]!) for (let w = 0; w < cw; w++) below[id * cw + w]! |= below[r * cw + w]!;
  }

  // Each candidate's dependents, as one flat list (CSR) read from those bitsets.
  /** Calls visit(candidate, id) for every candidate path `id` depends on (its `below` bits). */
  const eachPair = (visit: (candidate: number, id: number) => void): void => {
    for (let id = 0; id < n; id++) {
      if (parts[id]! < 0) continue;
      for (let w = 0; w < cw; w++) {
        let word = below[id * cw + w]!;
        while (word !== 0) {
          const low = word & -word;
          visit(w * 32 + (31 - Math.clz32(low)), id);
          word ^= low;
        }
      }
    }
  };
  const offsets = new Int32Array(pool.length + 1);
  eachPair((c) => offsets[c + 1]!++);
  for (let c = 0; c < pool.length; c++) offsets[c + 1]! += offsets[c]!;
  const members = new Int32Array(offsets[pool.length]!);
  const cursor = offsets.slice(0, pool.length);
  eachPair((c, id) => (members[cursor[c]!++] = id));

  // Per part: bytes depending on the candidate being scored (reset through `touched`).
  const dep = new Float64Array(n);
  const mark = new Int32Array(n).fill(-1);
  let pass = 0;
  /** What bumping candidate c re-pushes needlessly if every part were a layer. */
  const needless = (c: number, touched: number[]): number => {
    pass++;
    for (let k = offsets[c]!; k < offsets[c + 1]!; k++) {
      const id = members[k]!;
      const p = parts[id]!;
      if (mark[p] !== pass) {
        mark[p] = pass;
        touched.push(p);
      }
      dep[p]! += narSize[id]!;
    }
    let extra = 0;
    for (const p of touched) extra += Math.max(0, partSize[p]! - dep[p]!);
    return extra;
  };

  interface Entry {
    score: number;
    c: number;
  }
  const heap = new Heap<Entry>((a, b) => (a.score !== b.score ? a.score > b.score : a.c < b.c));
  for (let c = 0; c < pool.length; c++) {
    const touched: number[] = [];
    const score = needless(c, touched);
    for (const p of touched) dep[p] = 0;
    heap.push({ score, c });
  }
  const ids: number[] = [];
  const partMask: number[] = new Array<number>(partSize.length).fill(0);
  while (ids.length < count) {
    const top = heap.pop();
    if (!top || top.score < threshold || top.score <= 0) break;
    const touched: number[] = [];
    const score = needless(top.c, touched);
    const next = heap.peek();
    if (next && (score < next.score || (score === next.score && next.c < top.c))) {
      for (const p of touched) dep[p] = 0;
      heap.push({ score, c: top.c });
      continue;
    }
    // Take it: parts it touches get its bit, and its dependents leave each part where the
    // rest (what its bump would re-push for nothing) is worth a layer.
    const bit = 1 << ids.length;
    ids.push(pool[top.c]!);
    const split = new Map<number, number>();
    for (const p of touched) {
      const rest = partSize[p]! - dep[p]!;
      if (dep[p]! > 0 && rest > 0 && rest >= minSplit) {
        split.set(p, partSize.length);
        partSize.push(dep[p]!);
        partMask.push(partMask[p]! | bit);
        partSize[p] = rest;
      } else {
        partMask[p]! |= bit;
      }
      dep[p] = 0;
    }
    for (let k = offsets[top.c]!; k < offsets[top.c + 1]!; k++) {
      const id = members[k]!;
      const moved = split.get(parts[id]!);
      if (moved !== undefined) parts[id] = moved;
    }
  }
  for (let id = 0; id < n; id++) if (parts[id]! >= 0) masks[id] = partMask[parts[id]!]!;
  return { ids, parts, masks };
}

/** Path ids by ascending height (references before the paths referring to them). */
function byHeight(heights: Uint32Array): Int32Array {
  let max = 0;
  for (const h of heights) if (h > max) max = h;
  const start = new Int32Array(max + 2);
  for (const h of heights) start[h + 1]!++;
  for (let h = 0; h <= max; h++) start[h + 1]! += start[h]!;
  const out = new Int32Array(heights.length);
  heights.forEach((h, id) => (out[start[h]!++] = id));
  return out;
}
