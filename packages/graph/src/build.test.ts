import { describe, expect, it } from 'vitest';
import type { PathInfo } from '@planner/closure';
import { buildSharedGraph, graphFigures, hasImage, imagesOf } from './index.js';

const S = '/nix/store';
const p = (c: string, name: string) => `${S}/${c.repeat(32)}-${name}`;
const glibc = p('a', 'glibc');
const cacert = p('b', 'cacert');
const quotes = p('c', 'quotes');
const api = p('d', 'api');
const H = 'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=';
const info = (path: string, narSize: number, references: string[] = []): PathInfo => ({ path, narHash: H, narSize, references });

function closures() {
  const g = info(glibc, 1000);
  const c = info(cacert, 200);
  return new Map([
    [
      'quotes:latest',
      new Map([
        [quotes, info(quotes, 50, [glibc])],
        [glibc, g],
        [cacert, c],
      ]),
    ],
    [
      'api:latest',
      new Map([
        [api, info(api, 70, [glibc])],
        [glibc, g],
      ]),
    ],
  ]);
}
const specs = [
  { ref: 'quotes:latest', name: 'quotes', tag: 'latest', roots: [quotes, cacert], maxLayers: 100, baseLayers: 0 },
  { ref: 'api:latest', name: 'api', tag: 'latest', roots: [api], maxLayers: 10, baseLayers: 2 },
];

describe('buildSharedGraph', () => {
  it('interns paths byte-sorted, images sorted, with bitsets and popularity', () => {
    const g = buildSharedGraph(closures(), specs);
    expect(g.paths).toEqual([glibc, cacert, quotes, api].sort());
    expect(g.images.map((i) => i.ref)).toEqual(['api:latest', 'quotes:latest']);
    const id = g.paths.indexOf(glibc);
    expect(g.popularity[id]).toBe(2);
    expect(hasImage(g, id, 0) && hasImage(g, id, 1)).toBe(true);
    expect(imagesOf(g, g.paths.indexOf(cacert))).toEqual(['quotes:latest']);
    expect(g.images[0]!.storeBudget).toBe(7);
    expect(g.graph.order).toBe(4);
    expect(g.graph.size).toBe(2);
    expect(g.graph.hasDirectedEdge(quotes, glibc)).toBe(true);
    expect(g.graph.getNodeAttribute(glibc, 'images')).toEqual(['api:latest', 'quotes:latest']);
  });

  it('is independent of input order', () => {
    const a = buildSharedGraph(closures(), specs);
    const b = buildSharedGraph(new Map([...closures()].reverse()), [...specs].reverse());
    expect(b.paths).toEqual(a.paths);
    expect([...b.imageSets]).toEqual([...a.imageSets]);
    expect(b.images.map((i) => [...i.closure])).toEqual(a.images.map((i) => [...i.closure]));
  });

  it('computes the ls figures', () => {
    const f = graphFigures(buildSharedGraph(closures(), specs));
    expect(f.totals).toEqual({ images: 2, closureBytes: 1250 + 1070, closurePaths: 5, uniquePaths: 4, uniqueBytes: 1320, imageSets: 3 });
    const q = f.images.find((i) => i.ref === 'quotes:latest')!;
    expect(q).toMatchObject({ paths: 3, bytes: 1250, sharedBytes: 1000, privateBytes: 250 });
  });

  it('rejects conflicting sizes across images and an image with no store budget', () => {
    const c = closures();
    c.get('api:latest')!.set(glibc, info(glibc, 999));
    expect(() => buildSharedGraph(c, specs)).toThrow('narSize 999 in api:latest but 1000 in quotes:latest');
    expect(() => buildSharedGraph(closures(), [specs[0]!, { ...specs[1]!, maxLayers: 3 }])).toThrow(/leaves no layer/);
  });
});
