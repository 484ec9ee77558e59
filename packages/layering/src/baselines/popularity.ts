/**
 * nixpkgs' referencesByPopularity (pkgs/build-support/references-by-popularity/
 * closure-graph.py), reimplemented from its description, and the split the old
 * buildLayeredImage applied to its output.
 *
 * closure-graph.py unrolls the reference graph into a tree from its roots (a path reached
 * along k routes appears k times) and gives every path a popularity: the number of tree
 * nodes from which it can be reached, itself included. Equivalently, with routes(v) the
 * number of root-to-v paths in the graph,
 *
 *     popularity(s) = sum of routes(v) over every v that reaches s (s included).
 *
 * Paths are listed by popularity, highest first; ties by "package name" ascending: the
 * path with its leading "<storeDir>/<hash>" segment moved to the end ("name-1.0-/nix/
 * store/<hash>"), compared as strings.
 *
 * dockerTools ran it on a file referencing baseJson and the customisation layer, which
 * references the image's contents: so there is one root above the contents, which adds
 * the same constant to every popularity but also counts a content root once more (it is
 * reached from the customisation layer even when another path refers to it).
 */
import type { GraphImage, SharedGraph } from '@planner/graph';

/** Popularity of every path of a closure, reached from `roots`, as closure-graph.py counts. */
export function popularityContest(graph: SharedGraph, closure: ArrayLike<number>, roots: ArrayLike<number>): Map<number, bigint> {
  const n = closure.length;
  const local = new Map<number, number>();
  for (let k = 0; k < n; k++) local.set(closure[k]!, k);
  const refs: number[][] = [];
  const indegree = new Int32Array(n);
  for (let k = 0; k < n; k++) {
    const list: number[] = [];
    for (const r of graph.references[closure[k]!]!) {
      const j = local.get(r);
      if (j !== undefined && j !== k) {
        list.push(j);
        indegree[j]!++;
      }
    }
    refs.push(list);
  }
  // Topological order, referrers first (Kahn).
  const order: number[] = [];
  const remaining = indegree.slice();
  for (let k = 0; k < n; k++) if (remaining[k] === 0) order.push(k);
  for (let head = 0; head < order.length; head++) {
    for (const j of refs[order[head]!]!) if (--remaining[j]! === 0) order.push(j);
  }
  if (order.length !== n) throw new Error('reference cycle in closure');
  const isRoot = new Uint8Array(n);
  for (let r = 0; r < roots.length; r++) {
    const k = local.get(roots[r]!);
    if (k !== undefined) isRoot[k] = 1;
  }
  // Graph roots are always tree roots; listed roots are also reached from the
  // customisation layer above them. Route counts can grow exponentially with depth:
  // doubles while the sums stay exact, BigInt beyond.
  const routes = new Float64Array(n);
  for (const k of order) {
    if (isRoot[k] === 1 || indegree[k] === 0) routes[k]! += 1;
    for (const j of refs[k]!) routes[j]! += routes[k]!;
  }
  let largest = 0;
  for (let k = 0; k < n; k++) largest = Math.max(largest, routes[k]!);
  const exact = largest * n <= Number.MAX_SAFE_INTEGER;
  let big: bigint[] | undefined;
  if (!exact) {
    big = new Array<bigint>(n).fill(0n);
    for (const k of order) {
      if (isRoot[k] === 1 || indegree[k] === 0) big[k]! += 1n;
      for (const j of refs[k]!) big[j]! += big[k]!;
    }
  }
  // reach[k]: bitset of the paths k reaches (k included), built bottom-up.
  const words = Math.ceil(n / 32);
  const reach = new Uint32Array(n * words);
  for (let o = n - 1; o >= 0; o--) {
    const k = order[o]!;
    const row = k * words;
    reach[row + (k >>> 5)]! |= 1 << (k & 31);
    for (const j of refs[k]!) for (let w = 0; w < words; w++) reach[row + w]! |= reach[j * words + w]!;
  }
  const small = new Float64Array(n);
  const popularity: bigint[] = new Array<bigint>(n).fill(0n);
  for (let k = 0; k < n; k++) {
    const row = k * words;
    for (let w = 0; w < words; w++) {
      let x = reach[row + w]!;
      while (x !== 0) {
        const low = x & -x;
        const s = w * 32 + (31 - Math.clz32(low));
        if (big) popularity[s]! += big[k]!;
        else small[s]! += routes[k]!;
        x ^= low;
      }
    }
  }
  if (!big) for (let k = 0; k < n; k++) popularity[k] = BigInt(small[k]!);
  const out = new Map<number, bigint>();
  for (let k = 0; k < n; k++) out.set(closure[k]!, popularity[k]!);
  return out;
}

/** closure-graph.py's tie-break key: the path with its "<dir>/<hash>" part moved last. */
export function packageName(path: string): string {
  const parts = path.split('-');
  const start = parts.shift()!;
  parts.push(start);
  return parts.join('-');
}

/** An image's closure in referencesByPopularity order (path ids). */
export function popularityOrder(graph: SharedGraph, image: GraphImage): number[] {
  const popularity = popularityContest(graph, image.closure, image.roots);
  const names = new Map<number, string>();
  for (const id of image.closure) names.set(id, packageName(graph.paths[id]!));
  return [...image.closure].sort((a, b) => {
    const pa = popularity.get(a)!;
    const pb = popularity.get(b)!;
    if (pa !== pb) return pa > pb ? -1 : 1;
    const na = names.get(a)!;
    const nb = names.get(b)!;
    return na < nb ? -1 : na > nb ? 1 : 0;
  });
}

/**
 * The old buildLayeredImage split of that list: with `budget` store layers, the budget-1
 * most popular paths get a layer each and the rest share the last one.
 */
export function popularityLayers(graph: SharedGraph, image: GraphImage, budget: number): number[][] {
  const order = popularityOrder(graph, image);
  const layers = order.slice(0, budget - 1).map((id) => [id]);
  const rest = order.slice(budget - 1);
  if (rest.length > 0) layers.push(rest);
  return layers;
}
