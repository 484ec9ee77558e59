import { describe, expect, it } from 'vitest';
import { layerId, verifyPlan, type Plan, type PlanLayer } from './index.js';
import { graphOf, storePath, workspaceFrom } from './testing.js';

// verifyPlan is the oracle of every property test: each rule it checks must catch a plan
// that breaks it. img0 holds paths 0 and 1, img1 holds 1 and 2; sizes 10, 20, 30.
const graph = graphOf(
  workspaceFrom({
    sizes: [10, 20, 30],
    edges: [],
    images: [
      { roots: [0, 1], maxLayers: 4 },
      { roots: [1, 2], maxLayers: 4 },
    ],
  }),
);
const sizes = [10, 20, 30];

function layer(ids: number[], images: string[], narSize = ids.reduce((sum, id) => sum + sizes[id]!, 0)): PlanLayer {
  const paths = ids.map((id) => storePath(id)).sort();
  return { id: layerId(paths), paths, narSize, images };
}

const shared = layer([1], ['img0:latest', 'img1:latest']);
const own0 = layer([0], ['img0:latest']);
const own1 = layer([2], ['img1:latest']);
const sound: Plan = {
  maxLayers: 4,
  storeDir: '/nix/store',
  layers: [shared, own0, own1],
  images: [
    { name: 'img0:latest', layers: [shared.id, own0.id] },
    { name: 'img1:latest', layers: [shared.id, own1.id] },
  ],
};

describe('verifyPlan', () => {
  it('passes a sound plan', () => {
    expect(verifyPlan(sound, graph)).toEqual([]);
  });

  it('names an image over its budget', () => {
    expect(verifyPlan(sound, graph, { maxLayers: 2 })).toEqual(['img0:latest: 2 store layers, budget 1', 'img1:latest: 2 store layers, budget 1']);
  });

  it('names a layer path outside the closure of an image using it', () => {
    const wide = layer([0, 2], ['img0:latest']);
    const plan: Plan = { ...sound, layers: [shared, wide, own1], images: [{ name: 'img0:latest', layers: [shared.id, wide.id] }, sound.images[1]!] };
    expect(verifyPlan(plan, graph)).toEqual([`img0:latest: layer path ${storePath(2)} is not in its closure`]);
  });

  it('names a path that is in two layers of one image, and one in none', () => {
    const both = layer([0, 1], ['img0:latest']);
    const twice: Plan = { ...sound, layers: [shared, both, own1], images: [{ name: 'img0:latest', layers: [shared.id, both.id] }, sound.images[1]!] };
    expect(verifyPlan(twice, graph)).toEqual([`img0:latest: ${storePath(1)} is in more than one of its layers`]);
    const short: Plan = { ...sound, layers: [shared, own1], images: [{ name: 'img0:latest', layers: [shared.id] }, sound.images[1]!] };
    expect(verifyPlan(short, graph)).toEqual(['img0:latest: 1 closure paths in none of its layers']);
  });

  it('names a wrong narSize, a wrong id, a wrong image list and an unused layer', () => {
    const heavy = layer([0], ['img0:latest'], 11);
    expect(verifyPlan({ ...sound, layers: [shared, heavy, own1] }, graph)).toEqual([`layer ${own0.id}: narSize 11 but its paths sum to 10`]);
    const renamed = { ...own0, id: '0'.repeat(32) };
    const plan: Plan = { ...sound, layers: [shared, renamed, own1], images: [{ name: 'img0:latest', layers: [shared.id, renamed.id] }, sound.images[1]!] };
    expect(verifyPlan(plan, graph)).toEqual([`layer ${renamed.id}: id does not match its paths`]);
    const listed = { ...own1, images: ['img0:latest', 'img1:latest'] };
    expect(verifyPlan({ ...sound, layers: [shared, own0, listed] }, graph)).toEqual([`layer ${own1.id}: images list does not match the images using it`]);
    const spare = layer([0, 1, 2], []);
    expect(verifyPlan({ ...sound, layers: [...sound.layers, spare] }, graph)).toEqual([`layer ${spare.id}: used by no image`]);
  });

  it('names layers listed out of the global order', () => {
    const plan: Plan = { ...sound, images: [{ name: 'img0:latest', layers: [own0.id, shared.id] }, sound.images[1]!] };
    expect(verifyPlan(plan, graph)).toEqual([`img0:latest: layer ${shared.id} out of the global order`]);
    expect(verifyPlan(plan, graph, { order: false })).toEqual([]);
  });
});
