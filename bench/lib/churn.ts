/**
 * Updates to a workspace as Nix would produce them: rebuilding a path gives it and every
 * path that depends on it (transitively) a new hash; adding a service adds an image. All
 * deterministic from a seed.
 */
import { byteOrder, type Closure, type PathInfo } from '@planner/closure';
import type { ImageSpec } from '@planner/graph';
import { fakeHash, fakeNarHash, rng } from './generate.js';
import type { BenchWorkspace } from './workspaces.js';

/** Every path of the workspace, once. */
export function storeOf(ws: BenchWorkspace): Map<string, PathInfo> {
  const store = new Map<string, PathInfo>();
  for (const closure of ws.closures.values()) for (const [path, info] of closure) store.set(path, info);
  return store;
}

/** The paths that depend on any of `seeds`, seeds included. */
export function dependentsOf(store: ReadonlyMap<string, PathInfo>, seeds: Iterable<string>): Set<string> {
  const users = new Map<string, string[]>();
  for (const info of store.values()) {
    for (const ref of info.references) (users.get(ref) ?? users.set(ref, []).get(ref)!).push(info.path);
  }
  const out = new Set<string>();
  const stack = [...seeds];
  while (stack.length > 0) {
    const path = stack.pop()!;
    if (out.has(path)) continue;
    out.add(path);
    for (const user of users.get(path) ?? []) stack.push(user);
  }
  return out;
}

export interface Update {
  ws: BenchWorkspace;
  /** Store paths of the new workspace that the old one did not have. */
  added: Set<string>;
}

/** Rebuilds `seeds`: they and everything depending on them get new store paths. */
export function rebuild(ws: BenchWorkspace, seeds: Iterable<string>, seed = 1): Update {
  const random = rng(seed);
  const store = storeOf(ws);
  const changed = [...dependentsOf(store, seeds)].sort(byteOrder);
  const rename = new Map<string, string>();
  for (const path of changed) {
    const slash = path.lastIndexOf('/');
    const name = path.slice(slash + 34);
    rename.set(path, `${path.slice(0, slash)}/${fakeHash(random)}-${name}`);
  }
  const next = new Map<string, PathInfo>();
  for (const path of changed) {
    const info = store.get(path)!;
    const renamed = rename.get(path)!;
    next.set(path, {
      path: renamed,
      narHash: fakeNarHash(random),
      narSize: info.narSize,
      references: info.references.map((r) => rename.get(r) ?? r).sort(byteOrder),
    });
  }
  const closures = new Map<string, Closure>();
  for (const [ref, closure] of ws.closures) {
    const out = new Map<string, PathInfo>();
    for (const [path, info] of closure) {
      const replaced = next.get(path) ?? info;
      out.set(replaced.path, replaced);
    }
    closures.set(ref, out);
  }
  const images = ws.images.map((image) => ({ ...image, roots: image.roots.map((r) => rename.get(r) ?? r) }));
  return { ws: { name: ws.name, closures, images }, added: new Set(rename.values()) };
}

/** Rebuilds one service's own package (its roots), as after a code change. */
export function rebuildService(ws: BenchWorkspace, ref: string, seed = 1): Update {
  const image = ws.images.find((i) => i.ref === ref);
  if (!image) throw new Error(`no image ${ref}`);
  return rebuild(ws, image.roots, seed);
}

/**
 * The library to bump: the non-root path in the most images short of all of them (a
 * universal one like libc rebuilds nearly everything), ties broken by most dependents.
 */
export function widelyUsedLibrary(ws: BenchWorkspace): string {
  const roots = new Set(ws.images.flatMap((i) => i.roots));
  const count = new Map<string, number>();
  for (const closure of ws.closures.values()) for (const path of closure.keys()) count.set(path, (count.get(path) ?? 0) + 1);
  const store = storeOf(ws);
  let best: string | undefined;
  let bestCount = -1;
  let bestDependents = -1;
  for (const [path, n] of [...count].sort((a, b) => byteOrder(a[0], b[0]))) {
    if (roots.has(path) || n >= ws.images.length || n < bestCount) continue;
    const dependents = dependentsOf(store, [path]).size;
    if (n > bestCount || dependents > bestDependents) {
      best = path;
      bestCount = n;
      bestDependents = dependents;
    }
  }
  if (!best) throw new Error('no library to bump');
  return best;
}

/**
 * Adds a service built like existing ones: its root depends on what two existing services'
 * roots depend on (all of the first's, every other one of the second's) plus a private path.
 */
export function addService(ws: BenchWorkspace, name: string, seed = 1): Update {
  const random = rng(seed);
  const store = storeOf(ws);
  const a = ws.images[Math.floor(random() * ws.images.length)]!;
  const b = ws.images[Math.floor(random() * ws.images.length)]!;
  const rootsOf = (image: ImageSpec): string[] => image.roots.flatMap((r) => [...store.get(r)!.references]);
  const deps = new Set([...rootsOf(a), ...rootsOf(b).filter((_, k) => k % 2 === 0)]);
  for (const r of [...a.roots, ...b.roots]) deps.delete(r);
  const storeDir = a.roots[0]!.slice(0, a.roots[0]!.lastIndexOf('/'));
  const own: PathInfo = { path: `${storeDir}/${fakeHash(random)}-${name}-lib-0.1`, narHash: fakeNarHash(random), narSize: 150_000, references: [...deps].sort(byteOrder) };
  const root: PathInfo = { path: `${storeDir}/${fakeHash(random)}-${name}-app-1.0`, narHash: fakeNarHash(random), narSize: 4_000_000, references: [...deps, own.path].sort(byteOrder) };
  store.set(own.path, own);
  store.set(root.path, root);
  const closure = new Map<string, PathInfo>();
  const stack = [root.path];
  while (stack.length > 0) {
    const path = stack.pop()!;
    if (closure.has(path)) continue;
    const info = store.get(path)!;
    closure.set(path, info);
    stack.push(...info.references);
  }
  const sorted = new Map([...closure].sort((x, y) => byteOrder(x[0], y[0])));
  const ref = `${name}:latest`;
  const closures = new Map(ws.closures);
  closures.set(ref, sorted);
  const images = [...ws.images, { ref, name, tag: 'latest', roots: [root.path], maxLayers: a.maxLayers, baseLayers: 0 }].sort((x, y) => byteOrder(x.ref, y.ref));
  return { ws: { name: ws.name, closures, images }, added: new Set([own.path, root.path]) };
}
