/**
 * nixpkgs' current default layering, pkgs/build-support/docker/auto-layer.py, reimplemented
 * from its source and comments.
 *
 * Paths are taken largest first (narSize; ties: the later path in the graph's order,
 * which Nix sorts by store path, goes first). Each one taken becomes a "primary" and gets
 * a layer. Every path P is assigned the set of primaries that depend on it (or are it)
 * and that have no other such primary among their own dependencies: the lowest primaries
 * above P. Paths with the same set share a layer; paths below no primary share one
 * layer too. Primaries are added until one more would exceed the layer limit; that step
 * is undone and the algorithm stops.
 *
 * dockerTools runs it on the references graph of baseJson and the customisation layer
 * (which references the image's contents), then drops those two from the result. They
 * still count while layers are chosen: nobody depends on them, so they sit in the layer
 * of paths below no primary, which always exists and always takes a slot. We model them
 * as two paths of size 0 (real ones are a few KiB), the customisation layer referring to
 * the image's roots; baseJson's own references (the config's store paths) are unknown to
 * the planner and left out.
 */
import type { GraphImage, SharedGraph } from '@planner/graph';

/** The image's store layers as auto-layer.py would choose them, bottom first (path ids). */
export function autoLayers(graph: SharedGraph, image: GraphImage, limit: number): number[][] {
  const real = image.closure.length;
  const n = real + 2; // + customisation layer, + baseJson
  const custom = real;
  const local = new Map<number, number>();
  for (let k = 0; k < real; k++) local.set(image.closure[k]!, k);
  const refs: number[][] = [];
  for (let k = 0; k < real; k++) {
    const list: number[] = [];
    for (const r of graph.references[image.closure[k]!]!) {
      const j = local.get(r);
      if (j !== undefined && j !== k) list.push(j);
    }
    refs.push(list);
  }
  refs.push([...image.roots].map((r) => local.get(r)!).filter((j) => j !== undefined));
  refs.push([]);
  const size = (k: number): number => (k < real ? graph.narSize[image.closure[k]!]! : 0);
  const users: number[][] = Array.from({ length: n }, () => []);
  for (let k = 0; k < n; k++) for (const j of refs[k]!) users[j]!.push(k);
  const walk = (start: number, next: number[][]): number[] => {
    const seen = new Uint8Array(n);
    const out: number[] = [];
    const stack = [...next[start]!];
    while (stack.length > 0) {
      const x = stack.pop()!;
      if (seen[x] === 1 || x === start) continue;
      seen[x] = 1;
      out.push(x);
      for (const y of next[x]!) if (seen[y] === 0) stack.push(y);
    }
    return out;
  };

  // Largest first; among equal sizes the later one in store-path order (Python's stable
  // sort, then pop() from the end). The two model paths come first in that order.
  const byOrder = [custom, custom + 1, ...Array.from({ length: real }, (_, k) => k)];
  const queue = byOrder.map((k, pos) => ({ k, pos })).sort((a, b) => size(a.k) - size(b.k) || a.pos - b.pos);

  // split[k]: the sorted primaries identifying k's layer; counted by key.
  const split: number[][] = Array.from({ length: n }, () => []);
  const keyOf = (set: readonly number[]): string => set.join(',');
  const count = new Map<string, number>([['', n]]);
  const move = (k: number, next: number[], undo: [number, number[]][] | undefined): void => {
    const from = keyOf(split[k]!);
    const to = keyOf(next);
    if (from === to) return;
    undo?.push([k, split[k]!]);
    const left = count.get(from)! - 1;
    if (left === 0) count.delete(from);
    else count.set(from, left);
    count.set(to, (count.get(to) ?? 0) + 1);
    split[k] = next;
  };
  while (queue.length > 0) {
    const primary = queue.pop()!.k;
    const deps = walk(primary, refs);
    const above = new Uint8Array(n);
    for (const u of walk(primary, users)) above[u] = 1;
    const below = new Uint8Array(n);
    for (const d of deps) below[d] = 1;
    const undo: [number, number[]][] = [];
    move(primary, [primary], undo);
    for (const d of deps) {
      const kept = split[d]!.filter((p) => above[p] === 0);
      if (!kept.some((p) => below[p] === 1)) {
        kept.push(primary);
        kept.sort((a, b) => a - b);
      }
      move(d, kept, undo);
    }
    if (count.size > limit) {
      for (let u = undo.length - 1; u >= 0; u--) move(undo[u]![0], undo[u]![1], undefined);
      break;
    }
  }

  // Layers bottom first by the size of their closure (auto-layer.py's order), then by
  // their first path so the order is total; the two model paths are dropped.
  const layers = new Map<string, number[]>();
  for (let k = 0; k < real; k++) {
    const key = keyOf(split[k]!);
    const list = layers.get(key);
    if (list) list.push(k);
    else layers.set(key, [k]);
  }
  const ranked = [...layers.values()].map((members) => {
    const seen = new Uint8Array(n);
    const stack = [...members];
    let closureSize = 0;
    while (stack.length > 0) {
      const x = stack.pop()!;
      if (seen[x] === 1) continue;
      seen[x] = 1;
      closureSize += size(x);
      for (const y of refs[x]!) if (seen[y] === 0) stack.push(y);
    }
    const ids = members.map((k) => image.closure[k]!).sort((a, b) => a - b);
    return { ids, closureSize };
  });
  ranked.sort((a, b) => a.closureSize - b.closureSize || a.ids[0]! - b.ids[0]!);
  return ranked.map((r) => r.ids);
}
