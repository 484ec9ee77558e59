/** Fixed-width bitsets over image indexes, as in SharedGraph.imageSets rows. */

export function popcount32(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

export function popcount(a: Uint32Array): number {
  let n = 0;
  for (let w = 0; w < a.length; w++) if (a[w] !== 0) n += popcount32(a[w]!);
  return n;
}

/** |a & b & c| */
export function countAnd3(a: Uint32Array, b: Uint32Array, c: Uint32Array): number {
  let n = 0;
  for (let w = 0; w < a.length; w++) {
    const x = a[w]! & b[w]! & c[w]!;
    if (x !== 0) n += popcount32(x);
  }
  return n;
}

/** |a & c| */
export function countAnd(a: Uint32Array, c: Uint32Array): number {
  let n = 0;
  for (let w = 0; w < a.length; w++) {
    const x = a[w]! & c[w]!;
    if (x !== 0) n += popcount32(x);
  }
  return n;
}

/** a ⊆ b */
export function isSubset(a: Uint32Array, b: Uint32Array): boolean {
  for (let w = 0; w < a.length; w++) if ((a[w]! & ~b[w]!) !== 0) return false;
  return true;
}

export function isEmpty(a: Uint32Array): boolean {
  for (let w = 0; w < a.length; w++) if (a[w] !== 0) return false;
  return true;
}

export function hasBit(a: Uint32Array, i: number): boolean {
  return (a[i >>> 5]! & (1 << (i & 31))) !== 0;
}

export function setBit(a: Uint32Array, i: number): void {
  a[i >>> 5]! |= 1 << (i & 31);
}

export function clearBit(a: Uint32Array, i: number): void {
  a[i >>> 5]! &= ~(1 << (i & 31));
}

/** Indexes of the set bits, ascending. */
export function bits(a: Uint32Array): number[] {
  const out: number[] = [];
  for (let w = 0; w < a.length; w++) {
    let x = a[w]!;
    while (x !== 0) {
      const low = x & -x;
      out.push(w * 32 + (31 - Math.clz32(low)));
      x ^= low;
    }
  }
  return out;
}

export function keyOf(a: Uint32Array): string {
  let key = '';
  for (let w = 0; w < a.length; w++) key += a[w]!.toString(36) + '.';
  return key;
}

/**
 * Hands out zeroed rows `words` wide, cut from shared chunks. Planning makes tens of
 * thousands of rows; as typed arrays of their own, each over 64 bytes would be an
 * ArrayBuffer allocated outside the heap and swept one by one by the GC.
 */
export class RowPool {
  private chunk = new Uint32Array(0);
  private used = 0;

  constructor(
    private readonly words: number,
    private readonly rowsPerChunk = 1024,
  ) {}

  row(): Uint32Array {
    if (this.used === this.chunk.length) {
      this.chunk = new Uint32Array(Math.max(1, this.words) * this.rowsPerChunk);
      this.used = 0;
    }
    const start = this.used;
    this.used += this.words;
    return this.chunk.subarray(start, this.used);
  }

  /** A pooled copy of `source`. */
  copy(source: Uint32Array): Uint32Array {
    const out = this.row();
    out.set(source);
    return out;
  }
}
