import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { PathInfo } from '@planner/closure';
import { buildSharedGraph, type SharedGraph } from '@planner/graph';
import { autoLayers, BASELINES, baselinePlan, compareToBaselines, packageName, plan, planMetrics, popularityContest, popularityLayers, popularityOrder, verifyPlan } from './index.js';
import { graphOf, workspaceFrom, type WorkspaceShape } from './testing.js';

/** One image whose closure is `refs` (name -> names it refers to), sizes by name. */
function single(refs: Record<string, string[]>, sizes: Record<string, number>, roots: string[]): SharedGraph {
  // Hashes chosen so byte order is the order of the names.
  const path = (name: string): string =>
    `/nix/store/${name
      .toLowerCase()
      .repeat(32)
      .slice(0, 32)
      .replace(/[^0-9a-z]/g, '0')}-${name}`;
  const closure = new Map<string, PathInfo>();
  for (const [name, to] of Object.entries(refs)) {
    closure.set(path(name), { path: path(name), narHash: 'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=', narSize: sizes[name] ?? 1, references: to.map(path).sort() });
  }
  return buildSharedGraph(new Map([['img:latest', closure]]), [{ ref: 'img:latest', name: 'img', tag: 'latest', roots: roots.map(path), maxLayers: 100, baseLayers: 0 }]);
}

const nameOf = (graph: SharedGraph, id: number): string => graph.paths[id]!.slice(graph.paths[id]!.indexOf('-') + 1);

describe('referencesByPopularity', () => {
  // The worked example in nixpkgs' closure-graph.py:
  //     A - B - C - D -\
  //      \   \   \      \
  //       \   \   \      \
  //        \   \ - E ---- F
  //         \- G
  const example = single({ A: ['B', 'G'], B: ['C', 'E'], C: ['D', 'E'], D: ['F'], E: ['F'], F: [], G: [] }, {}, ['A']);

  it('counts the popularity of the worked example: F=9, E=5, D=4, C=3, B=2, G=2, A=1', () => {
    const contest = popularityContest(example, example.images[0]!.closure, example.images[0]!.roots);
    const byName = Object.fromEntries([...contest].map(([id, n]) => [nameOf(example, id), Number(n)]));
    expect(byName).toEqual({ F: 9, E: 5, D: 4, C: 3, B: 2, G: 2, A: 1 });
  });

  it('lists it as closure-graph.py prints it: F E D C B G A', () => {
    expect(popularityOrder(example, example.images[0]!).map((id) => nameOf(example, id))).toEqual(['F', 'E', 'D', 'C', 'B', 'G', 'A']);
  });

  it('counts a listed root that another root also refers to on both routes', () => {
    // The customisation layer refers to both roots: A -> B -> C, and B directly. Routes from
    // it: A 1, B 2 (direct, via A), C 2; each path counts the routes of all that reach it.
    const twoRoots = single({ A: ['B'], B: ['C'], C: [] }, {}, ['A', 'B']);
    const contest = popularityContest(twoRoots, twoRoots.images[0]!.closure, twoRoots.images[0]!.roots);
    expect(Object.fromEntries([...contest].map(([id, n]) => [nameOf(twoRoots, id), Number(n)]))).toEqual({ A: 1, B: 3, C: 5 });
  });

  it('breaks ties by package name, the store hash moved last', () => {
    expect(packageName('/nix/store/abc-hello-2.12')).toBe('hello-2.12-/nix/store/abc');
  });

  it('gives the budget-1 most popular paths a layer each and squashes the rest', () => {
    const layers = popularityLayers(example, example.images[0]!, 3).map((layer) => layer.map((id) => nameOf(example, id)));
    expect(layers).toEqual([['F'], ['E'], ['D', 'C', 'B', 'G', 'A']]);
    expect(popularityLayers(example, example.images[0]!, 7)).toHaveLength(7);
    expect(popularityLayers(example, example.images[0]!, 50)).toHaveLength(7);
  });
});

describe('auto-layer', () => {
  // A(100) and B(90) both need C(10), which needs D(5); the image's roots are A and B.
  const graph = single({ A: ['C'], B: ['C'], C: ['D'], D: [] }, { A: 100, B: 90, C: 10, D: 5 }, ['A', 'B']);
  const layers = (limit: number): string[][] => autoLayers(graph, graph.images[0]!, limit).map((layer) => layer.map((id) => nameOf(graph, id)));

  it('gives every path its own layer when the limit allows, ordered by closure size', () => {
    expect(layers(10)).toEqual([['D'], ['C'], ['B'], ['A']]);
  });

  it('stops before the primary that would exceed the limit', () => {
    // A is primary: {A, C, D} vs the rest {B} (with the customisation layer and baseJson).
    // Adding B would make 4 layers ({A}, {B}, {A,B}: C and D, the rest): over 3.
    expect(layers(3)).toEqual([['B'], ['A', 'C', 'D']]);
    // With 4, B is added; then C takes D along ({C}); D alone would need a 5th.
    expect(layers(4)).toEqual([['C', 'D'], ['B'], ['A']]);
  });

  it('counts the layer of paths below no primary against the limit even when only the customisation layer is in it', () => {
    expect(layers(2)).toEqual([['B'], ['A', 'C', 'D']]);
    expect(layers(1)).toEqual([['A', 'B', 'C', 'D']]);
  });
});

const shapes: fc.Arbitrary<WorkspaceShape> = fc.record({
  sizes: fc.array(fc.integer({ min: 1, max: 50_000 }), { minLength: 1, maxLength: 30 }),
  edges: fc.array(fc.tuple(fc.nat(100), fc.nat(100)), { maxLength: 60 }),
  images: fc.array(fc.record({ roots: fc.array(fc.nat(100), { minLength: 1, maxLength: 3 }), maxLayers: fc.integer({ min: 2, max: 8 }) }), {
    minLength: 1,
    maxLength: 5,
  }),
});

describe('baselines as plans', () => {
  it('cover every closure exactly and, but for the lower bound, within budget', () => {
    fc.assert(
      fc.property(shapes, (shape) => {
        const graph = graphOf(workspaceFrom(shape));
        for (const { kind } of BASELINES) {
          const baseline = baselinePlan(graph, kind);
          expect(verifyPlan(baseline, graph, { order: false, budgets: kind !== 'lower-bound' })).toEqual([]);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('stores every path once for the lower bound, never less than that for any plan', () => {
    fc.assert(
      fc.property(shapes, (shape) => {
        const graph = graphOf(workspaceFrom(shape));
        const comparison = compareToBaselines(graph, plan(graph));
        const lower = comparison.baselines.find((b) => b.kind === 'lower-bound')!;
        expect(lower.registryBytes).toBe(comparison.plan.uniqueBytes);
        for (const b of comparison.baselines) expect(b.registryBytes).toBeGreaterThanOrEqual(lower.registryBytes);
        expect(comparison.plan.registryBytes).toBeGreaterThanOrEqual(lower.registryBytes);
        expect(lower.ratio).toBeLessThanOrEqual(1);
      }),
      { numRuns: 100 },
    );
  });

  it('counts an identical layer of two images once, as a registry does', () => {
    const ws = workspaceFrom({
      sizes: [100, 200],
      edges: [[1, 0]],
      images: [
        { roots: [1], maxLayers: 10 },
        { roots: [1], maxLayers: 10 },
      ],
    });
    const graph = graphOf(ws);
    const singleLayer = baselinePlan(graph, 'single');
    expect(singleLayer.layers).toHaveLength(1);
    expect(singleLayer.layers[0]!.images).toEqual(['img0:latest', 'img1:latest']);
    const metrics = planMetrics(singleLayer, graph);
    expect(metrics.registryBytes).toBe(300);
    expect(metrics.imageBytes).toBe(600);
    expect(metrics.overhead).toBe(1);
  });
});
