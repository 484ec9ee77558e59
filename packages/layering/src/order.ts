import type { SharedGraph } from '@planner/graph';

/**
 * Height of every path in the reference graph: 0 for paths that refer to nothing,
 * else 1 + the highest of their references. Low paths change least often (a path changes
 * when anything below it does), so they belong at the bottom of images.
 */
export function pathHeights(graph: SharedGraph): Uint32Array {
  const n = graph.paths.length;
  const height = new Uint32Array(n);
  const state = new Uint8Array(n); // 0 new, 1 on stack, 2 done
  const stack: number[] = [];
  const cursor: number[] = [];
  for (let start = 0; start < n; start++) {
    if (state[start] !== 0) continue;
    stack.push(start);
    cursor.push(0);
    state[start] = 1;
    while (stack.length > 0) {
      const top = stack.length - 1;
      const id = stack[top]!;
      const refs = graph.references[id]!;
      const k = cursor[top]!;
      if (k < refs.length) {
        cursor[top] = k + 1;
        const ref = refs[k]!;
        if (state[ref] === 0) {
          state[ref] = 1;
          stack.push(ref);
          cursor.push(0);
        }
        continue;
      }
      let h = 0;
      for (const ref of refs) if (state[ref] === 2 && height[ref]! + 1 > h) h = height[ref]! + 1;
      height[id] = h;
      state[id] = 2;
      stack.pop();
      cursor.pop();
    }
  }
  return height;
}

/** What decides a layer's place: lower sorts nearer the bottom of every image. */
export interface OrderKey {
  volatile: boolean;
  users: number;
  height: number;
  id: string;
}

/**
 * Bottom to top: non-volatile before volatile (service roots on top), then most widely
 * shared first, then most stable (lowest in the reference graph) first, then by id.
 */
export function compareOrderKeys(a: OrderKey, b: OrderKey): number {
  if (a.volatile !== b.volatile) return a.volatile ? 1 : -1;
  if (a.users !== b.users) return b.users - a.users;
  if (a.height !== b.height) return a.height - b.height;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
