import type { SharedGraph } from '@planner/graph';
import { bits } from './bitset.js';
import { Heap } from './heap.js';
import type { Draft } from './plan.js';

/**
 * Spends layers the budgets leave unused on update stability, without storing a byte more:
 * the largest paths that share a layer with others get a layer of their own, largest
 * first, while every image using that layer has room for one more.
 *
 * Why: a layer is pushed again whenever any of its paths changes, and everything in it
 * that did not change is pushed again with it. A large path sharing a layer with a small
 * one that changes (or the other way round) is the costly case; alone, a large path is
 * only pushed when it changes itself.
 */
export function splitLargePaths(graph: SharedGraph, drafts: Draft[], budgets: Int32Array): Draft[] {
  const room = budgets.slice();
  const users = drafts.map((draft) => bits(draft.users));
  for (const list of users) for (const image of list) room[image]!--;
  const size = graph.narSize;
  // Each draft's paths largest first (ties by id); `cut` of them have been split off.
  const bySize = drafts.map((draft) => (draft.paths.length < 2 ? draft.paths : [...draft.paths].sort((a, b) => size[b]! - size[a]! || a - b)));
  const cut = new Int32Array(drafts.length);
  interface Entry {
    size: number;
    path: number;
    draft: number;
  }
  const heap = new Heap<Entry>((a, b) => (a.size !== b.size ? a.size > b.size : a.path !== b.path ? a.path < b.path : a.draft < b.draft));
  const offer = (draft: number): void => {
    const list = bySize[draft]!;
    const next = cut[draft]!;
    if (list.length - next >= 2) heap.push({ size: size[list[next]!]!, path: list[next]!, draft });
  };
  drafts.forEach((_, index) => offer(index));
  const out: Draft[] = [];
  for (;;) {
    const entry = heap.pop();
    if (!entry) break;
    const list = users[entry.draft]!;
    if (list.some((image) => room[image]! <= 0)) continue;
    for (const image of list) room[image]!--;
    out.push({ paths: [entry.path], users: drafts[entry.draft]!.users });
    cut[entry.draft]!++;
    offer(entry.draft);
  }
  drafts.forEach((draft, index) => {
    out.push(cut[index] === 0 ? draft : { paths: bySize[index]!.slice(cut[index]).sort((a, b) => a - b), users: draft.users });
  });
  return out;
}
