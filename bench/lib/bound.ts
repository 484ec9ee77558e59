/**
 * A provable lower bound on the registry bytes of ANY plan that fits the layer budgets,
 * tighter than "every path once" when budgets bind. Benchmarks print it so a target that
 * no plan can meet is seen as such.
 *
 * Group paths by the set S(g) of images containing them. In a plan, call group g "free"
 * in a layer L when users(L) = S(g); a layer holds at most one free group (two would
 * have the same image set). A path in a non-free position is needed by an image outside
 * users(L), so it is stored at least twice. In image i with n_i groups and budget b_i,
 * at most b_i groups have any path in a free position, so at least n_i - b_i groups are
 * stored twice entirely. Groups of one image (|S| = 1) are always free. So with
 * x_g = [g stored twice entirely]:
 *
 *     extra bytes >= min  sum_g size_g x_g   s.t.  sum_{g in i} x_g >= n_i - b_i,  x in [0,1]
 *
 * and any dual point y >= 0 bounds that LP from below:
 *
 *     D(y) = sum_i (n_i - b_i) y_i - sum_g max(0, sum_{i in S(g)} y_i - size_g)
 *
 * maximised here by projected subgradient ascent (any y gives a valid bound).
 */
import type { SharedGraph } from '@planner/graph';
import { storeBudgets } from '@planner/layering';

export function budgetLowerBound(graph: SharedGraph, maxLayers?: number, iterations = 3000): { uniqueBytes: number; bound: number } {
  const { words } = graph;
  const budgets = storeBudgets(graph, maxLayers);
  const groups = new Map<string, { size: number; images: number[] }>();
  let uniqueBytes = 0;
  for (let id = 0; id < graph.paths.length; id++) {
    uniqueBytes += graph.narSize[id]!;
    const row = graph.imageSets.subarray(id * words, id * words + words);
    const key = row.join(',');
    let group = groups.get(key);
    if (!group) {
      const images: number[] = [];
      for (let w = 0; w < words; w++) for (let b = 0; b < 32; b++) if ((row[w]! >>> b) & 1) images.push(w * 32 + b);
      group = { size: 0, images };
      groups.set(key, group);
    }
    group.size += graph.narSize[id]!;
  }
  const count = new Int32Array(graph.images.length);
  for (const g of groups.values()) for (const i of g.images) count[i]!++;
  const demand = Float64Array.from(count, (n, i) => Math.max(0, n - budgets[i]!));
  const shared = [...groups.values()].filter((g) => g.images.length > 1);
  if (demand.every((d) => d === 0)) return { uniqueBytes, bound: uniqueBytes };
  const y = new Float64Array(graph.images.length);
  const sizes = shared.map((g) => g.size).sort((a, b) => a - b);
  const scale = sizes[sizes.length >> 1] ?? 1;
  let best = 0;
  for (let t = 0; t < iterations; t++) {
    const grad = Float64Array.from(demand);
    let value = 0;
    for (let i = 0; i < y.length; i++) value += demand[i]! * y[i]!;
    for (const g of shared) {
      let s = 0;
      for (const i of g.images) s += y[i]!;
      if (s > g.size) {
        value -= s - g.size;
        for (const i of g.images) grad[i]!--;
      }
    }
    best = Math.max(best, value);
    const step = scale / Math.sqrt(t + 1);
    for (let i = 0; i < y.length; i++) y[i] = Math.max(0, y[i]! + step * Math.sign(grad[i]!));
  }
  return { uniqueBytes, bound: uniqueBytes + best };
}
