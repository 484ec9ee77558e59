/**
 * The merge candidates' priority queue, in typed arrays: planning a large workspace queues
 * hundreds of thousands of candidates, and one object each would mostly feed the GC.
 * Order: score, then cost, then larger gain, then layer ids, then superset entries first;
 * a strict total order, so pops are deterministic.
 */
export class CandidateQueue {
  score = new Float64Array(1024);
  cost = new Float64Array(1024);
  gain = new Int32Array(1024);
  a = new Int32Array(1024);
  b = new Int32Array(1024);
  verA = new Int32Array(1024);
  verB = new Int32Array(1024);
  overVer = new Int32Array(1024);
  sup = new Uint8Array(1024);
  private heap = new Int32Array(1024);
  private free: number[] = [];
  private slots = 0;
  size = 0;

  /** True when slot x sorts before slot y. */
  less(x: number, y: number): boolean {
    const sx = this.score[x]!;
    const sy = this.score[y]!;
    if (sx !== sy) return sx < sy;
    if (this.cost[x] !== this.cost[y]) return this.cost[x]! < this.cost[y]!;
    if (this.gain[x] !== this.gain[y]) return this.gain[x]! > this.gain[y]!;
    if (this.a[x] !== this.a[y]) return this.a[x]! < this.a[y]!;
    if (this.b[x] !== this.b[y]) return this.b[x]! < this.b[y]!;
    return this.sup[x]! > this.sup[y]!;
  }

  /** A slot to fill; pass it to push() or release(). */
  alloc(): number {
    const reused = this.free.pop();
    if (reused !== undefined) return reused;
    if (this.slots === this.score.length) this.grow();
    return this.slots++;
  }

  release(slot: number): void {
    this.free.push(slot);
  }

  push(slot: number): void {
    if (this.size === this.heap.length) {
      const next = new Int32Array(this.heap.length * 2);
      next.set(this.heap);
      this.heap = next;
    }
    const heap = this.heap;
    let i = this.size++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = heap[parent]!;
      if (!this.less(slot, p)) break;
      heap[i] = p;
      i = parent;
    }
    heap[i] = slot;
  }

  /** The best slot without removing it, or -1. */
  peek(): number {
    return this.size > 0 ? this.heap[0]! : -1;
  }

  /** Removes and returns the best slot (the caller releases it), or -1. */
  pop(): number {
    if (this.size === 0) return -1;
    const heap = this.heap;
    const top = heap[0]!;
    const last = heap[--this.size]!;
    const n = this.size;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && this.less(heap[r]!, heap[l]!) ? r : l;
        if (!this.less(heap[c]!, last)) break;
        heap[i] = heap[c]!;
        i = c;
      }
      heap[i] = last;
    }
    return top;
  }

  private grow(): void {
    const n = this.score.length * 2;
    const f64 = (old: Float64Array): Float64Array<ArrayBuffer> => {
      const next = new Float64Array(n);
      next.set(old);
      return next;
    };
    const i32 = (old: Int32Array): Int32Array<ArrayBuffer> => {
      const next = new Int32Array(n);
      next.set(old);
      return next;
    };
    this.score = f64(this.score);
    this.cost = f64(this.cost);
    this.gain = i32(this.gain);
    this.a = i32(this.a);
    this.b = i32(this.b);
    this.verA = i32(this.verA);
    this.verB = i32(this.verB);
    this.overVer = i32(this.overVer);
    const sup = new Uint8Array(n);
    sup.set(this.sup);
    this.sup = sup;
  }
}
