/**
 * Test support (not exported from index.ts): small random workspaces for property tests,
 * built into graphs the way the CLI builds them (buildSharedGraph).
 */
import type { Closure, PathInfo } from '@planner/closure';
import { buildSharedGraph, type ImageSpec, type SharedGraph } from '@planner/graph';
import { byteOrder } from './layer-id.js';

export interface WorkspaceShape {
  /** narSize of each path; path i may refer to paths j < i. */
  sizes: number[];
  /** [from, to] pairs, taken modulo the path count; from > to after ordering. */
  edges: [number, number][];
  images: { roots: number[]; maxLayers: number }[];
}

/**
 * lib (10 B, path 0), gcc (1000 B, path 1, depends on lib) and boost (900 B, path 2) in
 * both images, whose roots (paths 3 and 4) depend on gcc and boost: one group that a bump
 * of lib would re-push whole unless the pivots split it.
 */
export function libGccBoost(maxLayers: number): WorkspaceShape {
  return {
    sizes: [10, 1000, 900, 100, 100],
    edges: [
      [1, 0],
      [3, 1],
      [3, 2],
      [4, 1],
      [4, 2],
    ],
    images: [
      { roots: [3], maxLayers },
      { roots: [4], maxLayers },
    ],
  };
}

export interface TestWorkspace {
  closures: Map<string, Closure>;
  images: ImageSpec[];
  store: Map<string, PathInfo>;
}

const NIX32 = '0123456789abcdfghijklmnpqrsvwxyz';

/** A valid-looking store path for index i (distinct per i and per generation). */
export function storePath(i: number, name = `p${i}`, generation = 0): string {
  let hash = '';
  let x = (i + 1) * 2654435761 + generation * 40503;
  for (let k = 0; k < 32; k++) {
    x = (Math.imul(x ^ (x >>> 15), 2246822519) + k) >>> 0;
    hash += NIX32[x % 32];
  }
  return `/nix/store/${hash}-${name}`;
}

export function closureOf(store: ReadonlyMap<string, PathInfo>, roots: readonly string[]): Map<string, PathInfo> {
  const out = new Map<string, PathInfo>();
  const stack = [...roots];
  while (stack.length > 0) {
    const path = stack.pop()!;
    if (out.has(path)) continue;
    const info = store.get(path)!;
    out.set(path, info);
    stack.push(...info.references);
  }
  return new Map([...out].sort((a, b) => byteOrder(a[0], b[0])));
}

export function workspaceFrom(shape: WorkspaceShape): TestWorkspace {
  const n = shape.sizes.length;
  const paths = shape.sizes.map((_, i) => storePath(i));
  const refs: Set<number>[] = shape.sizes.map(() => new Set());
  for (const [a, b] of shape.edges) {
    const x = a % n;
    const y = b % n;
    if (x === y) continue;
    refs[Math.max(x, y)]!.add(Math.min(x, y));
  }
  const store = new Map<string, PathInfo>();
  shape.sizes.forEach((size, i) => {
    store.set(paths[i]!, {
      path: paths[i]!,
      narHash: 'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=',
      narSize: size,
      references: [...refs[i]!].map((j) => paths[j]!).sort(byteOrder),
    });
  });
  const closures = new Map<string, Closure>();
  const images: ImageSpec[] = shape.images.map((image, k) => {
    const ref = `img${k}:latest`;
    const roots = [...new Set(image.roots.map((r) => paths[r % n]!))].sort(byteOrder);
    closures.set(ref, closureOf(store, roots));
    return { ref, name: `img${k}`, tag: 'latest', roots, maxLayers: image.maxLayers, baseLayers: 0 };
  });
  return { closures, images, store };
}

export function graphOf(ws: Pick<TestWorkspace, 'closures' | 'images'>): SharedGraph {
  return buildSharedGraph(ws.closures, ws.images);
}

/** The same workspace handed over in another order: images, closure entries reversed. */
export function reordered(ws: TestWorkspace): TestWorkspace {
  const closures = new Map<string, Closure>();
  for (const [ref, closure] of [...ws.closures].reverse()) closures.set(ref, new Map([...closure].reverse()));
  return { closures, images: [...ws.images].reverse().map((i) => ({ ...i, roots: [...i.roots].reverse() })), store: ws.store };
}

/** Gives `seeds` and every path depending on them new store paths (a Nix rebuild). */
export function rebuilt(ws: TestWorkspace, seeds: readonly string[], generation = 1): { ws: TestWorkspace; added: Set<string> } {
  const users = new Map<string, string[]>();
  for (const info of ws.store.values()) for (const r of info.references) (users.get(r) ?? users.set(r, []).get(r)!).push(info.path);
  const changed = new Set<string>();
  const stack = [...seeds];
  while (stack.length > 0) {
    const p = stack.pop()!;
    if (changed.has(p)) continue;
    changed.add(p);
    stack.push(...(users.get(p) ?? []));
  }
  const rename = new Map<string, string>();
  for (const p of changed) rename.set(p, storePath(Number(p.slice(p.lastIndexOf('-p') + 2)), p.slice(p.indexOf('-') + 1), generation));
  const store = new Map<string, PathInfo>();
  for (const info of ws.store.values()) {
    const path = rename.get(info.path) ?? info.path;
    store.set(path, changed.has(info.path) ? { ...info, path, references: info.references.map((r) => rename.get(r) ?? r).sort(byteOrder) } : info);
  }
  const images = ws.images.map((i) => ({ ...i, roots: i.roots.map((r) => rename.get(r) ?? r).sort(byteOrder) }));
  const closures = new Map<string, Closure>(images.map((i) => [i.ref, closureOf(store, i.roots)]));
  return { ws: { closures, images, store }, added: new Set(rename.values()) };
}
