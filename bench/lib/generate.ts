/**
 * Synthetic monorepo workspaces for benchmarks: many services over a shared Nix-like store
 * graph, deterministic from a seed (no Math.random).
 *
 * The model, in the spirit of nixpkgs: a core of system libraries, a handful of language
 * ecosystems (a runtime plus a library pool whose popularity follows a power law, libraries
 * depending on more popular ones), and services that pick an ecosystem (sometimes two),
 * a few direct dependencies drawn by popularity, and own a root package plus a few private
 * paths. Closures are the transitive references of each service's root.
 */
import { byteOrder, type Closure, type PathInfo } from '@planner/closure';
import type { ImageSpec } from '@planner/graph';

export interface GenerateOptions {
  /** Default 1. The same seed always gives the same workspace. */
  seed?: number;
  /** Number of services (images). Default 1000. */
  images?: number;
  /** Approximate number of unique store paths. Default 50 * images. */
  paths?: number;
  /** Upper bound on any closure's path count. Default 2000. */
  maxClosure?: number;
  /** maxLayers of every image. Default 100. */
  maxLayers?: number;
  storeDir?: string;
  /** The dependency structure: see PROFILES. Default 'stress'. */
  profile?: Profile;
}

/**
 * How services and libraries depend on each other. Only the structure differs; sizes,
 * names and the random stream are drawn the same way.
 */
interface Shape {
  /** Direct library dependencies of a team template: log-uniform in [min, max]. */
  templateDirect: [number, number];
  /** A service adds up to this many libraries of its own (uniform 0..n-1). */
  extraPicks: number;
  /** A library depends on up to this many others of its pool (uniform 0..n-1). */
  libraryDeps: number;
  /** Median size of a service's own package, in bytes. */
  rootSize: number;
}

export type Profile = keyof typeof PROFILES;

export const PROFILES = {
  /**
   * Services of a monorepo: a team template of 2-50 direct libraries, a few of their own.
   * Calibrated against debian-120, the one real package graph we have, on structure alone
   * (closure sizes, distinct image sets per image; bench/layering/realism.ts prints both),
   * never on planner's results.
   */
  monorepo: { templateDirect: [2, 50], extraPicks: 8, libraryDeps: 4, rootSize: 400_000 },
  /**
   * The first generator, kept byte for byte: templates of 5-100 direct libraries with deep
   * dependencies, closures of 500 paths at the median and up to 2,000, 3-5x the distinct
   * image sets per image of debian-120. The workspace of the speed and load benchmarks.
   */
  stress: { templateDirect: [5, 100], extraPicks: 8, libraryDeps: 5, rootSize: 3_000_000 },
} satisfies Record<string, Shape>;

export interface GeneratedWorkspace {
  /** Sorted by ref. */
  images: ImageSpec[];
  /** Image ref -> its closure (PathInfo objects are shared between closures). */
  closures: Map<string, Closure>;
  /** Every store path of the workspace. */
  store: Map<string, PathInfo>;
}

/** sfc32: small, fast, good enough, and identical on every platform. */
export function rng(seed: number): () => number {
  let a = 0x9e3779b9 ^ seed;
  let b = 0x243f6a88 + seed * 7;
  let c = 0xb7e15162 ^ (seed << 5);
  let d = 1 ^ seed;
  const next = (): number => {
    a |= 0;
    b |= 0;
    c |= 0;
    d |= 0;
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  for (let i = 0; i < 16; i++) next();
  return next;
}

const NIX32 = '0123456789abcdfghijklmnpqrsvwxyz';

export function fakeHash(random: () => number): string {
  let s = '';
  for (let i = 0; i < 32; i++) s += NIX32[Math.floor(random() * 32)];
  return s;
}

export function fakeNarHash(random: () => number): string {
  const bytes = Buffer.alloc(32);
  for (let i = 0; i < 32; i++) bytes[i] = Math.floor(random() * 256);
  return `sha256-${bytes.toString('base64')}`;
}

/** Index in [0, n) with P(k) ~ 1/(k+1)^s: a power law favouring low indexes. */
function zipf(random: () => number, n: number, s: number): number {
  // Inverse-CDF of the continuous approximation, exact enough for benchmarks.
  const u = random();
  if (s === 1) return Math.min(n - 1, Math.floor(Math.exp(u * Math.log(n + 1)) - 1));
  const a = 1 - s;
  const x = Math.pow(1 + u * (Math.pow(n + 1, a) - 1), 1 / a) - 1;
  return Math.min(n - 1, Math.max(0, Math.floor(x)));
}

/** Log-normal size in bytes, rounded to 512 like NAR sizes of small files. */
function size(random: () => number, median: number, sigma: number): number {
  // Box-Muller
  const u = Math.max(random(), 1e-12);
  const v = random();
  const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  const bytes = median * Math.exp(sigma * z);
  return Math.max(512, Math.min(2 ** 31, Math.round(bytes / 512) * 512));
}

interface Node {
  path: string;
  narSize: number;
  refs: number[];
}

export function generateWorkspace(options: GenerateOptions = {}): GeneratedWorkspace {
  const seed = options.seed ?? 1;
  const imageCount = options.images ?? 1000;
  const targetPaths = options.paths ?? 50 * imageCount;
  const maxClosure = options.maxClosure ?? 2000;
  const maxLayers = options.maxLayers ?? 100;
  const storeDir = options.storeDir ?? '/nix/store';
  const shape: Shape = PROFILES[options.profile ?? 'stress'];
  const random = rng(seed);
  const nodes: Node[] = [];
  const add = (name: string, narSize: number, refs: number[]): number => {
    nodes.push({ path: `${storeDir}/${fakeHash(random)}-${name}`, narSize, refs: [...new Set(refs)] });
    return nodes.length - 1;
  };

  // Core system libraries: a DAG where each depends on a few more fundamental ones.
  const coreCount = Math.max(20, Math.min(400, Math.round(targetPaths * 0.006)));
  const core: number[] = [];
  for (let k = 0; k < coreCount; k++) {
    const refs: number[] = [];
    const deps = k === 0 ? 0 : Math.min(k, Math.floor(random() * 4));
    for (let j = 0; j < deps; j++) refs.push(core[zipf(random, k, 1.2)]!);
    core.push(add(`core${k}-lib-1.${k % 7}`, size(random, k < 5 ? 4_000_000 : 400_000, 1.6), refs));
  }

  // Ecosystems: runtime chain + library pool; pool sizes follow a power law too.
  const ecoCount = Math.max(3, Math.round(imageCount / 40));
  const privatePerService = 5;
  // Not every library ends up in some closure: the pool is larger than the paths it yields.
  const poolBudget = Math.max(ecoCount * 30, 4.6 * (targetPaths - coreCount - imageCount * (1 + privatePerService) - ecoCount * 12));
  const weights = Array.from({ length: ecoCount }, (_, e) => 1 / (e + 1) ** 0.8);
  const weightSum = weights.reduce((a, b) => a + b, 0);
  interface Eco {
    name: string;
    runtime: number;
    pool: number[];
  }
  const ecos: Eco[] = [];
  for (let e = 0; e < ecoCount; e++) {
    const name = `eco${e}`;
    // The runtime: a short chain of fairly large paths on top of core libraries.
    let runtime = -1;
    for (let r = 0; r < 12; r++) {
      const refs = [core[zipf(random, coreCount, 1.1)]!, core[zipf(random, coreCount, 1.1)]!];
      if (runtime >= 0) refs.push(runtime);
      runtime = add(`${name}-runtime${r}-3.${e}`, size(random, r === 11 ? 30_000_000 : 1_500_000, 1.2), refs);
    }
    const poolSize = Math.max(30, Math.round((poolBudget * weights[e]!) / weightSum));
    const pool: number[] = [];
    for (let k = 0; k < poolSize; k++) {
      const refs = [runtime];
      const deps = k === 0 ? 0 : Math.floor(random() * shape.libraryDeps);
      for (let j = 0; j < deps; j++) {
        // Popular libraries, or a close neighbour (a sub-package family).
        const target = random() < 0.5 ? zipf(random, k, 1.1) : Math.max(0, k - 1 - Math.floor(random() * 60));
        refs.push(pool[Math.min(target, k - 1)]!);
      }
      if (random() < 0.3) refs.push(core[zipf(random, coreCount, 1.1)]!);
      pool.push(add(`${name}-lib${k}-${1 + (k % 5)}.${k % 11}`, size(random, 250_000, 2.0), refs));
    }
    ecos.push({ name, runtime, pool });
  }

  /** Paths reachable from roots and not in `known`; undefined once known + new exceed cap. */
  const closureOf = (roots: number[], cap: number, known: ReadonlySet<number> = new Set()): Set<number> | undefined => {
    const seen = new Set<number>();
    const stack = roots.filter((r) => !known.has(r));
    while (stack.length > 0) {
      const id = stack.pop()!;
      if (seen.has(id)) continue;
      seen.add(id);
      if (known.size + seen.size > cap) return undefined;
      for (const r of nodes[id]!.refs) if (!seen.has(r) && !known.has(r)) stack.push(r);
    }
    return seen;
  };

  // Services. Like real monorepos, most services of an ecosystem start from one of a few
  // shared dependency sets (a framework, a team's template) and add a few libraries of
  // their own.
  const templates = ecos.map((eco) =>
    Array.from({ length: 8 }, () => {
      const [lo, hi] = shape.templateDirect;
      const direct = Math.round(Math.exp(Math.log(lo) + random() * Math.log(hi / lo)));
      return Array.from({ length: direct }, () => eco.pool[zipf(random, eco.pool.length, 0.9)]!);
    }),
  );
  const width = String(imageCount - 1).length;
  const specs: { ref: string; name: string; root: number }[] = [];
  for (let s = 0; s < imageCount; s++) {
    const name = `svc${String(s).padStart(width, '0')}`;
    const e = zipf(random, ecoCount, 0.9);
    const eco = ecos[e]!;
    let picks: number[] = [eco.runtime, ...templates[e]![zipf(random, 8, 1.0)]!];
    for (let j = Math.floor(random() * shape.extraPicks); j > 0; j--) picks.push(eco.pool[zipf(random, eco.pool.length, 0.9)]!);
    if (random() < 0.15) {
      const other = ecos[zipf(random, ecoCount, 0.9)]!;
      picks.push(other.runtime);
      for (let j = 0; j < 3; j++) picks.push(other.pool[zipf(random, other.pool.length, 1.05)]!);
    }
    for (let j = Math.floor(random() * 3); j > 0; j--) picks.push(core[zipf(random, coreCount, 1.0)]!);
    // Keep the closure under the cap: take picks in order while they fit.
    const cap = maxClosure - 1 - privatePerService * 2;
    const taken = new Set<number>();
    const kept: number[] = [];
    for (const pick of picks) {
      const added = closureOf([pick], cap, taken);
      if (added === undefined) break;
      for (const id of added) taken.add(id);
      kept.push(pick);
    }
    picks = kept;
    const own: number[] = [];
    const ownCount = Math.floor(random() * (privatePerService * 2 + 1));
    for (let j = 0; j < ownCount; j++) {
      const refs = [picks[Math.floor(random() * picks.length)]!];
      if (own.length > 0 && random() < 0.5) refs.push(own[Math.floor(random() * own.length)]!);
      own.push(add(`${name}-part${j}-0.1`, size(random, 80_000, 1.8), refs));
    }
    const root = add(`${name}-app-1.0.${s % 10}`, size(random, shape.rootSize, 1.3), [...picks, ...own]);
    specs.push({ ref: `${name}:latest`, name, root });
  }

  // PathInfo objects, shared by every closure that holds them.
  const infos: PathInfo[] = nodes.map((node) => ({
    path: node.path,
    narHash: fakeNarHash(random),
    narSize: node.narSize,
    references: [],
  }));
  for (const [id, node] of nodes.entries()) {
    (infos[id] as { references: readonly string[] }).references = node.refs.map((r) => nodes[r]!.path).sort(byteOrder);
  }
  const closures = new Map<string, Closure>();
  const store = new Map<string, PathInfo>();
  const images: ImageSpec[] = [];
  for (const spec of specs) {
    const ids = [...closureOf([spec.root], Number.POSITIVE_INFINITY)!].sort((a, b) => byteOrder(infos[a]!.path, infos[b]!.path));
    const closure = new Map<string, PathInfo>();
    for (const id of ids) {
      closure.set(infos[id]!.path, infos[id]!);
      store.set(infos[id]!.path, infos[id]!);
    }
    closures.set(spec.ref, closure);
    images.push({ ref: spec.ref, name: spec.name, tag: 'latest', roots: [infos[spec.root]!.path], maxLayers, baseLayers: 0 });
  }
  images.sort((a, b) => byteOrder(a.ref, b.ref));
  return { images, closures, store };
}

/** A closure in the array shape of `nix path-info --json --recursive` (Nix 2.18 and older). */
export function toPathInfoArray(closure: Closure): PathInfo[] {
  return [...closure.values()]
    .sort((a, b) => byteOrder(a.path, b.path))
    .map((info) => ({
      path: info.path,
      narHash: info.narHash,
      narSize: info.narSize,
      references: [...info.references],
    }));
}
