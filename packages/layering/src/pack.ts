/**
 * The budget solver: turns items (path groups that each of their images needs whole) into
 * layers so that no image uses more layers than its budget, duplicating as few bytes as
 * possible.
 *
 * Start: one layer per item, used by exactly the item's images, so every byte is stored
 * once. While some image is over budget, apply the merge with the lowest cost per layer
 * saved. Merging layers A and B creates the layer A∪B for T = users(A) ∩ users(B); A keeps
 * serving users(A) \ T (likewise B), so the bytes stored twice are those of whichever of
 * A and B still has users of its own:
 *
 *   cost = size(A)·[users(A) ⊄ users(B)] + size(B)·[users(B) ⊄ users(A)]
 *   gain = |T ∩ over-budget images|        (each of them drops one layer)
 *
 * Cheap merges come in two kinds, and candidates are generated for exactly those, which
 * keeps the search near-linear instead of looking at every pair:
 *  - nested: users(A) ⊆ users(B) costs only size(B); every layer tracks its best (smallest)
 *    superset partner, found among the layers of one of its images;
 *  - small: any two among an over-budget image's `window` smallest layers.
 * A lazy priority queue re-scores candidates whose layers changed since they were queued.
 *
 * A merge retires a layer for all of its users, so some images end below budget; a last
 * pass spends that room where it saves bytes (see useSlack).
 *
 * With pivot weights (pivots.ts), bytes that updates would push count too. Items carry the
 * mask of pivots they depend on; a layer of size s and mask m costs s·(1 + W(m)): stored
 * once, pushed again on a bump of each of its pivots. The merge cost becomes the weighted
 * bytes of the copies kept, plus what the merged layer pushes needlessly on bumps of the
 * pivots only one side depends on: size(A)·W(m(B) \ m(A)) + size(B)·W(m(A) \ m(B)).
 * Parts of one group are twins (same users, different masks): they cost only that term.
 * When every image can hold one layer per group, only twins are merged: no byte is stored
 * twice to save churn where storage alone needs no copy at all.
 */
import { bits, countAnd, isEmpty, isSubset, popcount, popcount32, RowPool } from './bitset.js';
import { Heap } from './heap.js';
import { CandidateQueue } from './queue.js';

export interface PackItem {
  size: number;
  /** Images that need the item: a bitset `words` wide. */
  users: Uint32Array;
  /**
   * The users for which the item is their own root (a service's package): for such an
   * image the item may only share a layer with its other roots. A subset of `users`.
   */
  roots: Uint32Array;
  /** The pivots (pivots.ts) every path of the item depends on: bit k for pivot k. Default 0. */
  mask?: number;
}

export interface PackInput {
  words: number;
  /** Store-layer budget of each image, by image index. */
  budgets: ArrayLike<number>;
  items: readonly PackItem[];
  /**
   * How many of an over-budget image's smallest layers (of each kind) are paired up.
   * Default 4: wider windows store about the same (docs/design.md, "Packing") and score
   * more candidates (8: 1.6x on stress-1000).
   */
  window?: number;
  /**
   * What a byte pushed again on a bump of pivot k costs, in stored bytes (k < 32). A
   * layer of size s whose paths depend on the pivots of mask m then costs s·(1 + W(m)),
   * W(m) the sum of the weights of m's pivots: stored once, pushed on each bump. Default none.
   */
  weights?: ArrayLike<number>;
}

export interface PackedLayer {
  /** Item indexes, ascending. */
  items: number[];
  users: Uint32Array;
  /** The users for which the layer holds their roots. */
  roots: Uint32Array;
}

export function pack(input: PackInput): PackedLayer[] {
  const { words, budgets, items } = input;
  const window = input.window ?? 4;
  const imageCount = budgets.length;

  // The layer table grows with merges; dead layers stay as tombstones. A merged layer's
  // items are its two parents' (materialised only when needed); its content key is a
  // commutative hash of its items, so equal item sets find each other in O(1).
  const lList: (number[] | undefined)[] = [];
  const lLeft: number[] = [];
  const lRight: number[] = [];
  const lHash: number[] = [];
  const lSize: number[] = [];
  const lUsers: Uint32Array[] = [];
  const lCount: number[] = [];
  const lRoots: Uint32Array[] = [];
  const lAlive: boolean[] = [];
  const lVer: number[] = [];
  const lMask: number[] = [];
  const byContent = new Map<number, number>();
  const rows = new RowPool(words);
  const weigh = maskWeigher(input.weights);
  const weighted = input.weights !== undefined && Array.from(input.weights).some((w) => w > 0);
  /** Objective bytes of a layer of `size` bytes depending on the pivots of `mask`. */
  const cost1 = (size: number, mask: number): number => size * (1 + weigh(mask));

  const addLayer = (list: number[] | undefined, left: number, right: number, hash: number, size: number): number => {
    const id = lSize.length;
    lList.push(list);
    lLeft.push(left);
    lRight.push(right);
    lHash.push(hash);
    lSize.push(size);
    lUsers.push(rows.row());
    lCount.push(0);
    lRoots.push(rows.row());
    lAlive.push(true);
    lVer.push(0);
    lMask.push(0);
    byContent.set(hash, id);
    return id;
  };
  /** Item indexes of a layer, ascending. */
  const itemsOf = (id: number): number[] => {
    const cached = lList[id];
    if (cached) return cached;
    const out: number[] = [];
    const stack = [id];
    while (stack.length > 0) {
      const x = stack.pop()!;
      const list = lList[x];
      if (list) for (const v of list) out.push(v);
      else stack.push(lLeft[x]!, lRight[x]!);
    }
    return out.sort((a, b) => a - b);
  };
  const sameList = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((v, i) => v === b[i]);
  /** The live layer holding exactly these items (hash, then size, then items), if any. */
  const existing = (hash: number, size: number, items: () => number[]): number | undefined => {
    const id = byContent.get(hash);
    if (id === undefined || !lAlive[id] || lSize[id] !== size) return undefined;
    return sameList(itemsOf(id), items()) ? id : undefined;
  };

  // Each image's layers, its own roots apart from the rest, sorted by (size, id): windows
  // are prefixes, and the first superset found in a scan is the cheapest.
  const before = (x: number, y: number): boolean => lSize[x]! < lSize[y]! || (lSize[x] === lSize[y] && x < y);
  const imgDep: number[][] = Array.from({ length: imageCount }, () => []);
  const imgVol: number[][] = Array.from({ length: imageCount }, () => []);
  const listOf = (image: number, id: number): number[] => ((lRoots[id]![image >>> 5]! & (1 << (image & 31))) !== 0 ? imgVol : imgDep)[image]!;
  const layerCount = (image: number): number => imgDep[image]!.length + imgVol[image]!.length;
  const position = (list: readonly number[], id: number): number => {
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (before(list[mid]!, id)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const insert = (image: number, id: number): void => {
    const list = listOf(image, id);
    list.splice(position(list, id), 0, id);
  };
  const remove = (image: number, id: number): void => {
    const list = listOf(image, id);
    const at = position(list, id);
    if (list[at] === id) list.splice(at, 1);
  };

  // Layers by a hash of their users: two layers of one kind with equal users merge for free.
  const usersHash = (users: Uint32Array): number => {
    let h = 0x811c9dc5;
    for (let w = 0; w < words; w++) h = Math.imul(h ^ users[w]!, 0x01000193);
    return h >>> 0;
  };
  const lUsersHash: (number | undefined)[] = [];
  const byUsers = new Map<number, number[]>();
  const rehashUsers = (id: number): void => {
    const old = lUsersHash[id];
    if (old !== undefined) {
      const bucket = byUsers.get(old)!;
      bucket.splice(bucket.indexOf(id), 1);
      if (bucket.length === 0) byUsers.delete(old);
    }
    lUsersHash[id] = undefined;
    if (lCount[id] === 0) return;
    const h = usersHash(lUsers[id]!);
    lUsersHash[id] = h;
    const bucket = byUsers.get(h);
    if (bucket) bucket.push(id);
    else byUsers.set(h, [id]);
  };

  items.forEach((item, index) => {
    if (isEmpty(item.users)) return;
    const id = addLayer([index], -1, -1, itemHash(index), item.size);
    lMask[id] = item.mask ?? 0;
    lUsers[id]!.set(item.users);
    lRoots[id]!.set(item.roots);
    lCount[id] = popcount(item.users);
    rehashUsers(id);
    for (const image of bits(item.users)) listOf(image, id).push(id);
  });
  for (let i = 0; i < imageCount; i++) {
    imgDep[i]!.sort((x, y) => (before(x, y) ? -1 : 1));
    imgVol[i]!.sort((x, y) => (before(x, y) ? -1 : 1));
  }

  const excess = new Int32Array(imageCount);
  const over = new Uint32Array(words);
  let overVer = 0;
  let totalExcess = 0;
  for (let i = 0; i < imageCount; i++) {
    const e = layerCount(i) - budgets[i]!;
    if (e > 0) {
      excess[i] = e;
      over[i >>> 5]! |= 1 << (i & 31);
      totalExcess += e;
    }
  }

  const queue = new CandidateQueue();

  /** For every image of `within`, a and b are both its roots or both not. */
  const compatible = (a: number, b: number, within: Uint32Array): boolean => {
    const ra = lRoots[a]!;
    const rb = lRoots[b]!;
    for (let w = 0; w < words; w++) if (((ra[w]! ^ rb[w]!) & within[w]!) !== 0) return false;
    return true;
  };

  // Storage first where it is free: when every image has room for one layer per group
  // (items with equal users and roots, told apart only by pivots), no byte is stored
  // twice to save churn: only parts of a group are merged, and the pivots say which.
  const twinsOnly = weighted && groupsFit();

  /**
   * Scores merging a and b into a fresh queue slot; -1 when it would help no image. The
   * merge serves the images that have both and see both the same way (roots of theirs or
   * not); those that see them differently keep a and b apart.
   */
  const candidate = (a: number, b: number, sup: boolean): number => {
    const ua = lUsers[a]!;
    const ub = lUsers[b]!;
    const ra = lRoots[a]!;
    const rb = lRoots[b]!;
    let gain = 0;
    let aKept = false;
    let bKept = false;
    for (let w = 0; w < words; w++) {
      const x = ua[w]!;
      const y = ub[w]!;
      const t = x & y & ~(ra[w]! ^ rb[w]!);
      const g = t & over[w]!;
      if (g !== 0) gain += popcount32(g);
      if ((x & ~t) !== 0) aKept = true;
      if ((y & ~t) !== 0) bKept = true;
    }
    if (gain === 0 || (twinsOnly && (aKept || bKept))) return -1;
    const cost = mergeCost(a, b, aKept, bKept);
    const slot = queue.alloc();
    queue.score[slot] = cost / gain;
    queue.cost[slot] = cost;
    queue.gain[slot] = gain;
    queue.a[slot] = a;
    queue.b[slot] = b;
    queue.verA[slot] = lVer[a]!;
    queue.verB[slot] = lVer[b]!;
    queue.overVer[slot] = overVer;
    queue.sup[slot] = sup ? 1 : 0;
    return slot;
  };
  /**
   * What merging a and b adds to the objective: the copies of a and b kept for their other
   * users, and the bytes of each pushed again on bumps of the pivots only the other has.
   */
  const mergeCost = (a: number, b: number, aKept: boolean, bKept: boolean): number => {
    const ma = lMask[a]!;
    const mb = lMask[b]!;
    let cost = (aKept ? cost1(lSize[a]!, ma) : 0) + (bKept ? cost1(lSize[b]!, mb) : 0);
    if (ma !== mb) cost += lSize[a]! * weigh(mb & ~ma) + lSize[b]! * weigh(ma & ~mb);
    return cost;
  };
  const offer = (a: number, b: number, sup: boolean): void => {
    const slot = candidate(a, b, sup);
    if (slot >= 0) queue.push(slot);
  };
  // Windows of different images often hold the same two layers: offer a pair once per
  // pair of versions (a newer version re-scores it anyway).
  const offered = new PairStamps();
  const offerPair = (a: number, b: number): void => {
    if (offered.check(a, b, lVer[a]!, lVer[b]!)) offer(a, b, false);
  };

  /** Queues the cheapest nested merge of x into a layer whose users include all of x's. */
  const nonzero = new Int32Array(words);
  const offerBestSuperset = (x: number): void => {
    const ux = lUsers[x]!;
    const rx = lRoots[x]!;
    if (countAnd(ux, over) === 0) return;
    // Any superset of x is among the layers of each of x's images: scan the shortest list,
    // smallest first, so the first superset found is the cheapest (equal users, which
    // would cost nothing, are paired when they arise: see rehashUsers).
    let scan = -1;
    let fewest = Number.POSITIVE_INFINITY;
    // Only the words where x has users decide "superset" and "compatible".
    let nzCount = 0;
    for (let w = 0; w < words; w++) {
      let word = ux[w]!;
      if (word !== 0) nonzero[nzCount++] = w;
      while (word !== 0) {
        const low = word & -word;
        const image = w * 32 + (31 - Math.clz32(low));
        word ^= low;
        const n = listOf(image, x).length;
        if (n < fewest) {
          fewest = n;
          scan = image;
        }
      }
    }
    // With pivot weights a larger superset may cost less (it depends on the pivots x
    // depends on): scan on while a superset could still cost less than the best found
    // (one with more users costs at least its own weighted bytes; one with the same users,
    // a twin, is offered apart, see merge()).
    let best = -1;
    let bestCost = Number.POSITIVE_INFINITY;
    const count = lCount[x]!;
    for (const h of listOf(scan, x)) {
      if (best >= 0 && lSize[h]! >= bestCost) break;
      if (h === x || lCount[h]! < count) continue;
      if (best >= 0 && cost1(lSize[h]!, lMask[h]!) >= bestCost) continue;
      const uh = lUsers[h]!;
      const rh = lRoots[h]!;
      let fits = true;
      for (let k = 0; k < nzCount; k++) {
        const w = nonzero[k]!;
        const u = ux[w]!;
        if ((u & ~uh[w]!) !== 0 || ((rx[w]! ^ rh[w]!) & u) !== 0) {
          fits = false;
          break;
        }
      }
      if (!fits) continue;
      const c = mergeCost(x, h, false, lCount[h]! > count);
      if (c < bestCost) {
        best = h;
        bestCost = c;
      }
      if (!weighted) break;
    }
    if (best >= 0) offer(x, best, true);
  };

  // Each over-budget image's window: its smallest layers, of each kind (roots or not).
  const windows: number[][] = Array.from({ length: imageCount }, () => []);
  const refreshWindow = (image: number): void => {
    const previous = windows[image]!;
    const dep = imgDep[image]!;
    const vol = imgVol[image]!;
    const current: number[] = [];
    for (let k = 0; k < window && k < dep.length; k++) current.push(dep[k]!);
    for (let k = 0; k < window && k < vol.length; k++) current.push(vol[k]!);
    for (const id of current) {
      if (previous.includes(id)) continue;
      // Pair each newcomer with every other member (newcomer pairs once).
      for (const other of current) {
        if (other === id || (other < id && !previous.includes(other))) continue;
        offerPair(Math.min(id, other), Math.max(id, other));
      }
    }
    windows[image] = current;
  };

  const t = new Uint32Array(words);
  const merge = (a: number, b: number): void => {
    const ua = lUsers[a]!;
    const ub = lUsers[b]!;
    for (let w = 0; w < words; w++) t[w] = ua[w]! & ub[w]! & ~(lRoots[a]![w]! ^ lRoots[b]![w]!);
    const hash = (lHash[a]! + lHash[b]!) % HASH_MOD;
    const size = lSize[a]! + lSize[b]!;
    const c = existing(hash, size, () => mergeSorted(itemsOf(a), itemsOf(b))) ?? addLayer(undefined, a, b, hash, size);
    lMask[c] = lMask[a]! | lMask[b]!;
    const touched = bits(t);
    // Out of the images' (root/non-root) lists before the root bits change.
    for (const image of touched) {
      remove(image, a);
      remove(image, b);
    }
    const uc = lUsers[c]!;
    const rc = lRoots[c]!;
    const ra = lRoots[a]!;
    const rb = lRoots[b]!;
    for (let w = 0; w < words; w++) {
      uc[w]! |= t[w]!;
      rc[w]! |= ra[w]! & t[w]!;
      ua[w]! &= ~t[w]!;
      ub[w]! &= ~t[w]!;
      ra[w]! &= ua[w]!;
      rb[w]! &= ub[w]!;
    }
    lCount[a] = popcount(ua);
    lCount[b] = popcount(ub);
    lCount[c] = popcount(uc);
    for (const image of touched) {
      insert(image, c);
      if (excess[image]! > 0) {
        excess[image]!--;
        totalExcess--;
        if (excess[image] === 0) {
          over[image >>> 5]! &= ~(1 << (image & 31));
          overVer++;
        }
      }
    }
    for (const id of [a, b]) {
      lVer[id]!++;
      if (lCount[id] === 0) {
        lAlive[id] = false;
        if (byContent.get(lHash[id]!) === id) byContent.delete(lHash[id]!);
      }
    }
    lVer[c]!++;
    if (totalExcess === 0) return;
    for (const id of [a, b, c]) {
      rehashUsers(id);
      if (lCount[id] === 0) continue;
      for (const twin of byUsers.get(lUsersHash[id]!)!) {
        if (twin !== id && lCount[twin] === lCount[id] && isSubset(lUsers[twin]!, lUsers[id]!) && compatible(twin, id, lUsers[id]!)) {
          offer(Math.min(id, twin), Math.max(id, twin), false);
        }
      }
    }
    offerBestSuperset(c);
    if (lAlive[a]) offerBestSuperset(a);
    if (lAlive[b]) offerBestSuperset(b);
    // c is larger than a and b, so only windows that held a or b change.
    for (const image of touched) {
      if ((over[image >>> 5]! & (1 << (image & 31))) === 0) continue;
      const win = windows[image]!;
      if (win.includes(a) || win.includes(b)) refreshWindow(image);
    }
  };

  if (totalExcess > 0) {
    // Parts of one group (split by pivots) start as twins: pair them up front.
    if (weighted) {
      for (const bucket of byUsers.values()) {
        for (let p = 0; p < bucket.length; p++) {
          for (let q = p + 1; q < bucket.length; q++) {
            const x = bucket[p]!;
            const y = bucket[q]!;
            if (lCount[x] === lCount[y] && isSubset(lUsers[x]!, lUsers[y]!) && compatible(x, y, lUsers[x]!)) offer(Math.min(x, y), Math.max(x, y), false);
          }
        }
      }
    }
    for (let id = 0; id < lSize.length; id++) offerBestSuperset(id);
    for (let i = 0; i < imageCount; i++) if (excess[i]! > 0) refreshWindow(i);
  }

  while (totalExcess > 0) {
    const slot = queue.pop();
    if (slot < 0) {
      fallback();
      continue;
    }
    const a = queue.a[slot]!;
    const b = queue.b[slot]!;
    const sup = queue.sup[slot] === 1;
    const fresh = lVer[a] === queue.verA[slot] && lVer[b] === queue.verB[slot] && queue.overVer[slot] === overVer;
    const staleA = lVer[a] !== queue.verA[slot];
    queue.release(slot);
    if (!lAlive[a] || !lAlive[b]) {
      if (sup && lAlive[a] && !staleA) offerBestSuperset(a);
      continue;
    }
    if (!fresh) {
      // Every change to a layer queues a fresh best-superset entry for it, so an entry for
      // an older version is dropped, and one whose superset no longer covers it is looked up
      // again. Anything else is re-scored: if it is still the best (lazy greedy) it is
      // applied now, else queued again.
      if (sup && staleA) continue;
      if (sup && !isSubset(lUsers[a]!, lUsers[b]!)) {
        offerBestSuperset(a);
        continue;
      }
      const again = candidate(a, b, sup);
      if (again < 0) continue;
      const top = queue.peek();
      if (top >= 0 && queue.less(top, again)) {
        queue.push(again);
        continue;
      }
      queue.release(again);
    }
    merge(a, b);
  }
  useSlack();
  return collect();

  /** Candidates ran out (rare): offer every same-kind pair of each over-budget image. */
  function fallback(): void {
    let offered = queue.size;
    for (let i = 0; i < imageCount; i++) {
      if (excess[i]! <= 0) continue;
      const list = imgDep[i]!.concat(imgVol[i]!);
      for (let p = 0; p < list.length; p++) for (let q = p + 1; q < list.length; q++) offer(list[p]!, list[q]!, false);
    }
    offered = queue.size - offered;
    if (offered === 0) throw new Error('layer packing cannot meet the budgets (an image needs more layers than it may have)');
  }

  /**
   * Spends the room merges left below budget where it saves bytes: when a merged layer C
   * contains an existing layer X whole, C's users can use X plus C \ X instead (one layer
   * more each) and X's bytes are no longer stored twice. Best savings per layer spent first.
   */
  function useSlack(): void {
    const slack = new Int32Array(imageCount);
    for (let i = 0; i < imageCount; i++) slack[i] = budgets[i]! - layerCount(i);
    const layersOfItem = new Map<number, Set<number>>();
    const index = (id: number): void => {
      lList[id] = itemsOf(id);
      for (const item of lList[id]!) {
        const set = layersOfItem.get(item);
        if (set) set.add(id);
        else layersOfItem.set(item, new Set([id]));
      }
    };
    for (let id = 0; id < lSize.length; id++) if (lAlive[id]) index(id);
    const roomFor = (c: number): boolean => {
      for (const image of bits(lUsers[c]!)) if (slack[image]! <= 0) return false;
      return true;
    };
    interface Split {
      score: number;
      saved: number;
      c: number;
      x: number;
      verC: number;
    }
    const splits = new Heap<Split>((p, q) => (p.score !== q.score ? p.score > q.score : p.saved !== q.saved ? p.saved > q.saved : p.c !== q.c ? p.c < q.c : p.x < q.x));
    const restOf = (c: number, x: number): number[] => {
      const inX = new Set(lList[x]!);
      return lList[c]!.filter((i) => !inX.has(i));
    };
    const consider = (c: number): void => {
      const list = lList[c]!;
      if (list.length < 2 || !roomFor(c)) return;
      const inC = new Set(list);
      const tried = new Set<number>();
      for (const item of list) {
        for (const x of layersOfItem.get(item) ?? []) {
          if (x === c || tried.has(x)) continue;
          tried.add(x);
          const xs = lList[x]!;
          if (xs.length >= list.length || !xs.every((i) => inC.has(i))) continue;
          const other = existing((lHash[c]! - lHash[x]! + HASH_MOD) % HASH_MOD, lSize[c]! - lSize[x]!, () => restOf(c, x));
          const saved = cost1(lSize[c]!, lMask[c]!) - (other !== undefined ? 0 : cost1(lSize[c]! - lSize[x]!, maskOfItems(restOf(c, x))));
          if (saved <= 0) continue;
          splits.push({ score: saved / lCount[c]!, saved, c, x, verC: lVer[c]! });
        }
      }
    };
    for (let id = 0; id < lSize.length; id++) if (lAlive[id]) consider(id);
    for (;;) {
      const s = splits.pop();
      if (!s) break;
      const { c, x } = s;
      if (!lAlive[c] || !lAlive[x] || lVer[c] !== s.verC || !roomFor(c)) continue;
      const rest = restOf(c, x);
      const hash = (lHash[c]! - lHash[x]! + HASH_MOD) % HASH_MOD;
      let r = existing(hash, lSize[c]! - lSize[x]!, () => rest);
      if (r === undefined) {
        r = addLayer(rest, -1, -1, hash, lSize[c]! - lSize[x]!);
        lMask[r] = maskOfItems(rest);
        index(r);
      }
      const uc = lUsers[c]!;
      const rc = lRoots[c]!;
      for (let w = 0; w < words; w++) {
        lUsers[x]![w]! |= uc[w]!;
        lUsers[r]![w]! |= uc[w]!;
        lRoots[x]![w]! |= rc[w]!;
        lRoots[r]![w]! |= rc[w]!;
      }
      lCount[x] = popcount(lUsers[x]!);
      lCount[r] = popcount(lUsers[r]!);
      for (const image of bits(uc)) {
        remove(image, c);
        insert(image, x);
        insert(image, r);
        slack[image]!--;
      }
      lAlive[c] = false;
      if (byContent.get(lHash[c]!) === c) byContent.delete(lHash[c]!);
      for (const item of lList[c]!) layersOfItem.get(item)!.delete(c);
      lVer[c]!++;
      lVer[x]!++;
      lVer[r]!++;
      consider(r);
    }
  }

  /** Whether every image's groups (layers with equal users and roots) fit its budget. */
  function groupsFit(): boolean {
    const groups = new Int32Array(imageCount);
    for (const bucket of byUsers.values()) {
      const firsts: number[] = [];
      for (const id of bucket) {
        const u = lUsers[id]!;
        if (firsts.some((f) => lCount[f] === lCount[id] && isSubset(u, lUsers[f]!) && compatible(f, id, u))) continue;
        firsts.push(id);
        for (const image of bits(u)) groups[image]!++;
      }
    }
    for (let i = 0; i < imageCount; i++) if (groups[i]! > budgets[i]!) return false;
    return true;
  }

  function maskOfItems(list: readonly number[]): number {
    let mask = 0;
    for (const item of list) mask |= items[item]!.mask ?? 0;
    return mask;
  }

  function collect(): PackedLayer[] {
    const out: PackedLayer[] = [];
    for (let id = 0; id < lSize.length; id++) {
      if (lAlive[id]) out.push({ items: itemsOf(id), users: lUsers[id]!, roots: lRoots[id]! });
    }
    return out;
  }
}

/**
 * Which (pair, versions) have been offered: an open-addressing table in typed arrays (a
 * Map keyed by doubles allocated one heap number per entry).
 */
class PairStamps {
  private keysA = new Int32Array(1 << 16).fill(-1);
  private keysB = new Int32Array(1 << 16);
  private verA = new Int32Array(1 << 16);
  private verB = new Int32Array(1 << 16);
  private used = 0;

  /** True (and remembered) unless this pair was already seen at these versions. */
  check(a: number, b: number, va: number, vb: number): boolean {
    const mask = this.keysA.length - 1;
    let i = (Math.imul(a, 0x9e3779b1) ^ Math.imul(b, 0x85ebca6b)) & mask;
    for (;;) {
      const k = this.keysA[i]!;
      if (k === -1) break;
      if (k === a && this.keysB[i] === b) {
        if (this.verA[i] === va && this.verB[i] === vb) return false;
        this.verA[i] = va;
        this.verB[i] = vb;
        return true;
      }
      i = (i + 1) & mask;
    }
    this.keysA[i] = a;
    this.keysB[i] = b;
    this.verA[i] = va;
    this.verB[i] = vb;
    if (++this.used * 2 > this.keysA.length) this.grow();
    return true;
  }

  private grow(): void {
    const { keysA, keysB, verA, verB } = this;
    const size = keysA.length * 2;
    this.keysA = new Int32Array(size).fill(-1);
    this.keysB = new Int32Array(size);
    this.verA = new Int32Array(size);
    this.verB = new Int32Array(size);
    this.used = 0;
    for (let i = 0; i < keysA.length; i++) {
      if (keysA[i] !== -1) this.check(keysA[i]!, keysB[i]!, verA[i]!, verB[i]!);
    }
  }
}

/** W(mask): the sum of the weights of the mask's bits, by four byte-indexed tables. */
function maskWeigher(weights: ArrayLike<number> | undefined): (mask: number) => number {
  if (!weights || weights.length === 0) return () => 0;
  const tables = [0, 1, 2, 3].map((byte) => {
    const table = new Float64Array(256);
    for (let v = 1; v < 256; v++) {
      const low = 31 - Math.clz32(v & -v);
      table[v] = table[v & (v - 1)]! + (weights[byte * 8 + low] ?? 0);
    }
    return table;
  });
  const [t0, t1, t2, t3] = tables as [Float64Array, Float64Array, Float64Array, Float64Array];
  return (mask) => (mask === 0 ? 0 : t0[mask & 255]! + t1[(mask >>> 8) & 255]! + t2[(mask >>> 16) & 255]! + t3[mask >>> 24]!);
}

/** Item hashes are summed modulo 2^52: sums of two stay exact in a double. */
const HASH_MOD = 2 ** 52;

/** A fixed pseudo-random 52-bit value per item index (splitmix32 twice). */
function itemHash(index: number): number {
  const mix = (x: number): number => {
    x = (x + 0x9e3779b9) | 0;
    x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
    x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
    return (x ^ (x >>> 16)) >>> 0;
  };
  return (mix(2 * index) & 0xfffff) * 2 ** 32 + mix(2 * index + 1);
}

function mergeSorted(a: readonly number[], b: readonly number[]): number[] {
  const out: number[] = new Array<number>(a.length + b.length);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < a.length && j < b.length) out[k++] = a[i]! < b[j]! ? a[i++]! : b[j++]!;
  while (i < a.length) out[k++] = a[i++]!;
  while (j < b.length) out[k++] = b[j++]!;
  return out;
}
