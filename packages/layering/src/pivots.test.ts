import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { groupPaths } from './groups.js';
import { choosePivots } from './pivots.js';
import { rootSets } from './plan.js';
import { graphOf, libGccBoost, workspaceFrom, type WorkspaceShape } from './testing.js';

const shapes: fc.Arbitrary<WorkspaceShape> = fc.record({
  sizes: fc.array(fc.integer({ min: 1, max: 50_000 }), { minLength: 1, maxLength: 40 }),
  edges: fc.array(fc.tuple(fc.nat(200), fc.nat(200)), { maxLength: 90 }),
  images: fc.array(fc.record({ roots: fc.array(fc.nat(200), { minLength: 1, maxLength: 3 }), maxLayers: fc.integer({ min: 2, max: 9 }) }), {
    minLength: 1,
    maxLength: 7,
  }),
});

describe('choosePivots', () => {
  it('splits groups only, and marks every dependent of every pivot', () => {
    fc.assert(
      fc.property(shapes, fc.constantFrom(0, 0.5), (shape, minSplit) => {
        const graph = graphOf(workspaceFrom(shape));
        const roots = rootSets(graph);
        const groups = groupPaths(graph.imageSets, graph.words, graph.narSize, roots);
        const { ids, parts, masks } = choosePivots(graph, roots, groups, { minSplit });
        expect(ids.length).toBeLessThanOrEqual(16);
        // Parts refine groups: one part never spans two groups.
        const groupOf = new Int32Array(graph.paths.length).fill(-1);
        groups.paths.forEach((list, g) => list.forEach((id) => (groupOf[id] = g)));
        const partGroup = new Map<number, number>();
        for (let id = 0; id < graph.paths.length; id++) {
          expect(parts[id]! < 0).toBe(groupOf[id]! < 0);
          if (parts[id]! < 0) continue;
          expect(partGroup.get(parts[id]!) ?? groupOf[id]).toBe(groupOf[id]);
          partGroup.set(parts[id]!, groupOf[id]!);
        }
        // Bit k is set on the pivot and on everything that refers to it, transitively.
        ids.forEach((pivot, k) => {
          expect(graph.popularity[pivot]).toBeGreaterThanOrEqual(2);
          const stack = [pivot];
          const seen = new Set<number>();
          while (stack.length > 0) {
            const id = stack.pop()!;
            if (seen.has(id)) continue;
            seen.add(id);
            expect((masks[id]! >>> k) & 1).toBe(1);
            graph.references.forEach((refs, user) => {
              if (refs.includes(id)) stack.push(user);
            });
          }
        });
        // Paths of one part share a mask.
        const partMask = new Map<number, number>();
        for (let id = 0; id < graph.paths.length; id++) {
          if (parts[id]! < 0) continue;
          expect(partMask.get(parts[id]!) ?? masks[id]).toBe(masks[id]);
          partMask.set(parts[id]!, masks[id]!);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('splits a group where a bump would re-push much of it', () => {
    // lib, gcc (depends on lib) and boost are in exactly the same images: one group. A bump
    // of boost would re-push lib and gcc with it, one of lib or gcc would re-push boost.
    const ws = workspaceFrom(libGccBoost(10));
    const graph = graphOf(ws);
    const roots = rootSets(graph);
    const { ids, parts } = choosePivots(graph, roots, groupPaths(graph.imageSets, graph.words, graph.narSize, roots));
    const id = (i: number): number => graph.paths.indexOf([...ws.store.keys()][i]!);
    expect(ids.length).toBeGreaterThan(0);
    expect(parts[id(2)]).not.toBe(parts[id(1)]);
    // Splitting lib (10 bytes) from gcc would save too little to spend a layer on.
    expect(parts[id(0)]).toBe(parts[id(1)]);
  });
});
