import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isPlannerError } from '@planner/errors';
import { baselinePlan, DEFAULT_CHURN_WEIGHT, layerId, MIN_BUDGET_FOR_OWN_LAYERS, parseLock, plan, planWithStats, registryBytes, serializeLock, verifyPlan, type Plan } from './index.js';
import { graphOf, libGccBoost, rebuilt, reordered, storePath, workspaceFrom, type WorkspaceShape } from './testing.js';

const shapes: fc.Arbitrary<WorkspaceShape> = fc.record({
  sizes: fc.array(fc.integer({ min: 1, max: 50_000 }), { minLength: 1, maxLength: 40 }),
  edges: fc.array(fc.tuple(fc.nat(200), fc.nat(200)), { maxLength: 90 }),
  images: fc.array(fc.record({ roots: fc.array(fc.nat(200), { minLength: 1, maxLength: 3 }), maxLayers: fc.integer({ min: 2, max: 9 }) }), {
    minLength: 1,
    maxLength: 7,
  }),
});

const volatileOf = (ws: ReturnType<typeof workspaceFrom>): Set<string> => new Set(ws.images.flatMap((i) => i.roots));

describe('plan', () => {
  it('covers every closure exactly, within budget, in one global order', () => {
    fc.assert(
      fc.property(shapes, (shape) => {
        const graph = graphOf(workspaceFrom(shape));
        expect(verifyPlan(plan(graph), graph)).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });

  it('stays sound and deterministic for any churn weight', () => {
    fc.assert(
      fc.property(shapes, fc.integer({ min: 2, max: 6 }), fc.constantFrom(0, DEFAULT_CHURN_WEIGHT, 0.1, 10), (shape, maxLayers, churnWeight) => {
        const ws = workspaceFrom(shape);
        const graph = graphOf(ws);
        const result = plan(graph, { maxLayers, churnWeight });
        expect(verifyPlan(result, graph, { maxLayers })).toEqual([]);
        expect(serializeLock(plan(graphOf(reordered(ws)), { maxLayers, churnWeight }))).toBe(serializeLock(result));
      }),
      { numRuns: 200 },
    );
  });

  it("keeps a widely used library's dependents apart from the rest of their group", () => {
    // lib (10 B), gcc (depends on lib) and boost are in both images: one group. Weighing
    // churn, gcc + lib and boost get layers of their own, so bumping lib pushes what
    // changed and nothing else; for storage alone (churnWeight 0) they share what room
    // is left, and the bump pushes boost again.
    const ws = workspaceFrom(libGccBoost(4));
    const { ws: next, added } = rebuilt(ws, [[...ws.store.keys()][0]!]);
    let changed = 0;
    for (const p of added) changed += next.store.get(p)!.narSize;
    const pushed = (churnWeight: number): number => {
      const previous = plan(graphOf(ws), { churnWeight });
      const result = planWithStats(graphOf(next), { previous, churnWeight });
      expect(verifyPlan(result.plan, graphOf(next))).toEqual([]);
      return result.stats.newLayerBytes;
    };
    expect(pushed(DEFAULT_CHURN_WEIGHT)).toBe(changed);
    expect(pushed(0.1)).toBe(changed);
    expect(pushed(0)).toBe(changed + 900);
  });

  it('honours a maxLayers override', () => {
    fc.assert(
      fc.property(shapes, fc.integer({ min: 2, max: 6 }), (shape, maxLayers) => {
        const graph = graphOf(workspaceFrom(shape));
        const result = plan(graph, { maxLayers });
        expect(verifyPlan(result, graph, { maxLayers })).toEqual([]);
        expect(result.maxLayers).toBe(maxLayers);
        for (const image of result.images) expect(image.layers.length).toBeLessThanOrEqual(maxLayers - 1);
      }),
      { numRuns: 200 },
    );
  });

  it('gives a byte-identical plan whatever the input order', () => {
    fc.assert(
      fc.property(shapes, (shape) => {
        const ws = workspaceFrom(shape);
        const a = serializeLock(plan(graphOf(ws)));
        const b = serializeLock(plan(graphOf(reordered(ws))));
        expect(b).toBe(a);
      }),
      { numRuns: 200 },
    );
  });

  it("keeps each image's roots in layers of their own, on top", () => {
    fc.assert(
      fc.property(shapes, (shape) => {
        const ws = workspaceFrom(shape);
        const result = plan(graphOf(ws));
        const anyRoot = volatileOf(ws);
        const byId = new Map(result.layers.map((layer) => [layer.id, layer]));
        for (const image of ws.images) {
          // With one or two store layers, an image's roots are packed like any path.
          if (image.maxLayers < MIN_BUDGET_FOR_OWN_LAYERS + 1) continue;
          const own = new Set(image.roots);
          const layers = result.images.find((i) => i.name === image.ref)!.layers.map((id) => byId.get(id)!);
          let lastStable = -1;
          let firstOwn = Number.POSITIVE_INFINITY;
          layers.forEach((layer, position) => {
            const roots = layer.paths.filter((p) => own.has(p)).length;
            expect([0, layer.paths.length]).toContain(roots);
            if (roots > 0) firstOwn = Math.min(firstOwn, position);
            if (!layer.paths.some((p) => anyRoot.has(p))) lastStable = position;
          });
          expect(lastStable).toBeLessThan(firstOwn);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('orders layers bottom to top by how many images share them', () => {
    fc.assert(
      fc.property(shapes, (shape) => {
        const ws = workspaceFrom(shape);
        const result = plan(graphOf(ws));
        const volatile = volatileOf(ws);
        const layers = result.layers.filter((layer) => !layer.paths.some((p) => volatile.has(p)));
        for (let i = 1; i < layers.length; i++) expect(layers[i]!.images.length).toBeLessThanOrEqual(layers[i - 1]!.images.length);
      }),
      { numRuns: 100 },
    );
  });

  it('stores every path once when budgets allow it', () => {
    fc.assert(
      fc.property(shapes, (shape) => {
        const graph = graphOf(workspaceFrom(shape));
        const result = plan(graph, { maxLayers: 200 });
        let unique = 0;
        for (const size of graph.narSize) unique += size;
        expect(result.layers.reduce((sum, layer) => sum + layer.narSize, 0)).toBe(unique);
      }),
      { numRuns: 100 },
    );
  });

  it('with two store layers, shares a library instead of keeping the service apart', () => {
    // lib (1000) in both; each service has its root and a private dependency. Keeping the
    // roots apart would leave one layer for lib + x and one for lib + y: lib stored twice.
    const shape: WorkspaceShape = {
      sizes: [1000, 10, 20, 1, 2],
      edges: [
        [3, 0],
        [3, 1],
        [4, 0],
        [4, 2],
      ],
      images: [
        { roots: [3], maxLayers: 3 },
        { roots: [4], maxLayers: 3 },
      ],
    };
    const ws = workspaceFrom(shape);
    const graph = graphOf(ws);
    const result = plan(graph);
    expect(verifyPlan(result, graph, { maxLayers: 3 })).toEqual([]);
    expect(registryBytes(result)).toBe(1033);
    expect(registryBytes(result)).toBeLessThan(registryBytes(baselinePlan(graph, 'auto-layer', { maxLayers: 3 })) + 1);
    // One store layer more, and each service's package has a layer of its own again.
    const roomy = workspaceFrom({ ...shape, images: shape.images.map((i) => ({ ...i, maxLayers: 4 })) });
    const own = plan(graphOf(roomy));
    for (const image of own.images) expect(own.layers.find((l) => l.id === image.layers.at(-1))!.paths).toHaveLength(1);
  });

  it('puts the whole closure in one layer when an image may have only one', () => {
    const ws = workspaceFrom({
      sizes: [10, 20, 30],
      edges: [
        [2, 1],
        [1, 0],
      ],
      images: [
        { roots: [2], maxLayers: 2 },
        { roots: [1], maxLayers: 10 },
      ],
    });
    const graph = graphOf(ws);
    const result = plan(graph);
    expect(verifyPlan(result, graph)).toEqual([]);
    const single = result.images.find((i) => i.name === 'img0:latest')!;
    expect(single.layers).toHaveLength(1);
    expect(result.layers.find((l) => l.id === single.layers[0])!.paths).toHaveLength(3);
  });

  it('refuses a budget that leaves no store layer', () => {
    const graph = graphOf(workspaceFrom({ sizes: [1], edges: [], images: [{ roots: [0], maxLayers: 5 }] }));
    try {
      plan(graph, { maxLayers: 1 });
      expect.unreachable();
    } catch (error) {
      expect(isPlannerError(error) && error.code).toBe('E_BUDGET');
      expect((error as Error).message).toContain('img0:latest');
    }
  });

  it('names layers by the sha256 of their sorted paths', () => {
    const graph = graphOf(workspaceFrom({ sizes: [5, 7], edges: [[1, 0]], images: [{ roots: [1], maxLayers: 10 }] }));
    const result = plan(graph);
    for (const layer of result.layers) expect(layer.id).toBe(layerId(layer.paths));
    expect(layerId(['/nix/store/b', '/nix/store/a'])).toBe(layerId(['/nix/store/a', '/nix/store/b']));
    expect(layerId(['/nix/store/a'])).toMatch(/^[0-9a-f]{32}$/);
    // Worked out apart from the code: printf '/nix/store/a\n/nix/store/b' | sha256sum | cut -c1-32
    expect(layerId(['/nix/store/b', '/nix/store/a'])).toBe('c6d6af09e2462c48d335cdab4378da31');
  });

  it('plans an empty workspace', () => {
    const graph = graphOf({ closures: new Map(), images: [] });
    expect(plan(graph)).toEqual({ maxLayers: 100, storeDir: '/nix/store', layers: [], images: [] });
  });
});

describe('plan with the previous plan', () => {
  const keepAll = { tolerance: Number.POSITIVE_INFINITY };

  it('stays sound after any rebuild', () => {
    fc.assert(
      fc.property(shapes, fc.nat(200), (shape, pick) => {
        const ws = workspaceFrom(shape);
        const previous = plan(graphOf(ws));
        const paths = [...ws.store.keys()];
        const { ws: next } = rebuilt(ws, [paths[pick % paths.length]!]);
        const graph = graphOf(next);
        for (const tolerance of [0, 0.01, Number.POSITIVE_INFINITY]) {
          const result = planWithStats(graph, { previous, tolerance });
          expect(verifyPlan(result.plan, graph)).toEqual([]);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('leaves images whose closure did not change exactly as they were', () => {
    fc.assert(
      fc.property(shapes, fc.nat(200), (shape, pick) => {
        const ws = workspaceFrom(shape);
        const previous = plan(graphOf(ws));
        const paths = [...ws.store.keys()];
        const { ws: next } = rebuilt(ws, [paths[pick % paths.length]!]);
        const result = plan(graphOf(next), { previous, ...keepAll });
        for (const image of result.images) {
          const before = ws.closures.get(image.name)!;
          const after = next.closures.get(image.name)!;
          if ([...before.keys()].join() !== [...after.keys()].join()) continue;
          expect(image.layers).toEqual(previous.images.find((i) => i.name === image.name)!.layers);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('adds a service without changing any existing image', () => {
    fc.assert(
      fc.property(shapes, fc.array(fc.nat(200), { minLength: 1, maxLength: 3 }), (shape, roots) => {
        const ws = workspaceFrom(shape);
        const previous = plan(graphOf(ws));
        const grown = workspaceFrom({ ...shape, images: [...shape.images, { roots, maxLayers: 9 }] });
        const graph = graphOf(grown);
        const result = plan(graph, { previous, ...keepAll });
        expect(verifyPlan(result, graph)).toEqual([]);
        for (const image of previous.images) expect(result.images.find((i) => i.name === image.name)!.layers).toEqual(image.layers);
      }),
      { numRuns: 200 },
    );
  });

  it("pushes only a rebuilt service's own package", () => {
    fc.assert(
      fc.property(shapes, fc.nat(10), (shape, which) => {
        const ws = workspaceFrom(shape);
        const image = ws.images[which % ws.images.length]!;
        // Only roots nobody else refers to or contains: a service's own package.
        const own = image.roots.filter((r) => [...ws.store.values()].every((info) => !info.references.includes(r)) && ws.images.every((i) => i === image || !ws.closures.get(i.ref)!.has(r)));
        // (With one or two store layers the package shares a layer, by design.)
        fc.pre(own.length === image.roots.length && image.maxLayers >= MIN_BUDGET_FOR_OWN_LAYERS + 1);
        const previous = plan(graphOf(ws));
        const { ws: next, added } = rebuilt(ws, own);
        const graph = graphOf(next);
        const result = planWithStats(graph, { previous });
        let changed = 0;
        for (const p of added) changed += next.store.get(p)!.narSize;
        expect(result.stats.mode).toBe('lock');
        expect(result.stats.newLayerBytes).toBe(changed);
        for (const other of previous.images) {
          if (other.name !== image.ref) expect(result.plan.images.find((i) => i.name === other.name)!.layers).toEqual(other.layers);
        }
      }),
      { numRuns: 200 },
    );
  });

  // Image a holds path 0; b holds 0, 1 and 2 in two store layers: {0}, shared with a, and
  // {1, 2}. Then a holds path 1 instead. Keeping b's layers stores path 1 twice (in b's {1, 2}
  // and in a new {1} for a): 4,683 bytes over the 12,809 unique ones, 37% more than a fresh
  // plan ({1} shared, {0, 2} for b).
  const sizes = [4335, 4683, 3791];
  const shape = (aPath: number, bMaxLayers: number): WorkspaceShape => ({
    sizes,
    edges: [],
    images: [
      { roots: [aPath], maxLayers: 4 },
      { roots: [1, 2, 0], maxLayers: bMaxLayers },
    ],
  });
  const before = (bMaxLayers: number): WorkspaceShape => shape(0, bMaxLayers);
  const after = (bMaxLayers: number): WorkspaceShape => shape(1, bMaxLayers);

  it('plans afresh when keeping the lock costs more than the tolerance', () => {
    const previous = plan(graphOf(workspaceFrom(before(3))));
    expect(previous.images[1]!.layers.map((id) => previous.layers.find((l) => l.id === id)!.paths.length)).toEqual([1, 2]);
    const graph = graphOf(workspaceFrom(after(3)));
    const fresh = plan(graph);
    const loose = planWithStats(graph, { previous, tolerance: Number.POSITIVE_INFINITY });
    expect(loose.stats.mode).toBe('lock');
    expect(loose.stats.registryBytes).toBe(12809 + 4683);
    expect(loose.stats.freshRegistryBytes).toBe(12809);
    expect(registryBytes(fresh)).toBe(12809);
    // b has one layer besides {0}: giving up {1, 2} cannot help, so the plan is fresh.
    const strict = planWithStats(graph, { previous });
    expect(strict.stats.mode).toBe('lock-rejected');
    expect(strict.stats.lockRegistryBytes).toBe(12809 + 4683);
    expect(strict.plan).toEqual(fresh);
    // Within a tolerance the excess fits in, the lock is kept.
    expect(planWithStats(graph, { previous, tolerance: 0.4 }).stats.mode).toBe('lock');
  });

  it('gives up just the kept layers whose paths are stored again, and keeps the rest', () => {
    const previous = plan(graphOf(workspaceFrom(before(3))));
    // b now has room for a third store layer: giving up {1, 2} lets it share {1} with a.
    const graph = graphOf(workspaceFrom(after(4)));
    const result = planWithStats(graph, { previous });
    expect(result.stats.mode).toBe('lock');
    expect(result.stats.droppedLayers).toBe(1);
    expect(result.stats.registryBytes).toBe(12809);
    expect(verifyPlan(result.plan, graph)).toEqual([]);
    const kept = previous.images[1]!.layers[0]!;
    expect(previous.layers.find((l) => l.id === kept)!.paths).toEqual([storePath(0)]);
    expect(result.plan.images[1]!.layers).toContain(kept);
    expect(result.plan.images[1]!.layers).not.toContain(previous.images[1]!.layers[1]);
  });

  it('ignores a lock written for another store directory', () => {
    const ws = workspaceFrom({ sizes: [1, 2], edges: [[1, 0]], images: [{ roots: [1], maxLayers: 10 }] });
    const graph = graphOf(ws);
    const previous: Plan = { ...plan(graph), storeDir: '/other/store' };
    const result = planWithStats(graph, { previous });
    expect(result.stats.mode).toBe('lock-other-store');
    expect(result.plan).toEqual(plan(graph));
    // Its layers' ids are the fresh plan's (the paths did not move): nothing counts as new.
    expect(result.stats).toMatchObject({ newLayers: 0, reusedLayers: result.plan.layers.length });
  });
});

describe('lock file', () => {
  it('round-trips every plan byte for byte', () => {
    fc.assert(
      fc.property(shapes, (shape) => {
        const result = plan(graphOf(workspaceFrom(shape)));
        const text = serializeLock(result);
        expect(text.endsWith('}\n')).toBe(true);
        const parsed = parseLock(text, 'planner.lock.json');
        expect(parsed).toEqual(result);
        expect(serializeLock(parsed)).toBe(text);
      }),
      { numRuns: 100 },
    );
  });

  const sample = (): string =>
    serializeLock(
      plan(
        graphOf(
          workspaceFrom({
            sizes: [5, 6, 7],
            edges: [[2, 0]],
            images: [
              { roots: [2], maxLayers: 10 },
              { roots: [1, 0], maxLayers: 10 },
            ],
          }),
        ),
      ),
    );
  const parseError = (text: string): { code?: string; message: string } => {
    try {
      parseLock(text, '/repo/planner.lock.json');
    } catch (error) {
      if (isPlannerError(error)) return { code: error.code, message: error.message };
      throw error;
    }
    throw new Error('parsed');
  };

  it.each([
    ['malformed JSON', (t: string) => t.slice(0, -5), 'malformed JSON'],
    ['merge conflicts', (t: string) => `<<<<<<< HEAD\n${t}=======\n${t}>>>>>>> branch\n`, 'merge conflict'],
    ['another version', (t: string) => t.replace('"lockVersion": 1', '"lockVersion": 9'), 'lockVersion 9'],
    ['a hand-edited path', (t: string) => t.replace(/-p0"/, '-p9"'), 'does not match its paths'],
    ['an unknown layer', (t: string) => t.replace(/("layers": \[\n\s+")[0-9a-f]{32}/, '$1' + '0'.repeat(32)), 'does not define'],
    ['a non-object', () => '[]', 'expected a JSON object'],
    ['an unknown field', (t: string) => t.replace('"maxLayers"', '"extra": 1,\n  "maxLayers"'), 'not a valid lock: the top level must NOT have additional properties "extra"'],
    ['a negative size', (t: string) => t.replace(/"narSize": \d+/, '"narSize": -5'), 'not a valid lock: layers[0].narSize must be >= 0'],
    ['a layer without paths', (t: string) => t.replace(/"paths": \[[^\]]*\]/, '"paths": []'), 'not a valid lock: layers[0].paths must NOT have fewer than 1 items'],
  ])('rejects %s with E_LOCK_PARSE naming the file', (_, edit, why) => {
    const error = parseError(edit(sample()));
    expect(error.code).toBe('E_LOCK_PARSE');
    expect(error.message).toContain('/repo/planner.lock.json');
    expect(error.message).toContain(why);
  });

  it('uses store paths that look like the test workspace', () => {
    expect(storePath(0)).toMatch(/^\/nix\/store\/[0-9a-z]{32}-p0$/);
  });
});
