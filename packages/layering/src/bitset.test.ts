import { describe, expect, it } from 'vitest';
import { RowPool } from './bitset.js';

describe('RowPool', () => {
  it('hands out zeroed rows of the given width that do not overlap, across chunks', () => {
    const pool = new RowPool(3, 4);
    const rows = Array.from({ length: 10 }, () => pool.row());
    rows.forEach((row, i) => {
      expect(row.length).toBe(3);
      expect([...row]).toEqual([0, 0, 0]);
      row.fill(i + 1);
    });
    // Writing every row after all were handed out: each still holds only its own value.
    rows.forEach((row, i) => expect([...row]).toEqual([i + 1, i + 1, i + 1]));
  });

  it('copies a row without sharing it with the source', () => {
    const pool = new RowPool(2);
    const source = Uint32Array.of(7, 0x80000001);
    const copy = pool.copy(source);
    source[0] = 1;
    expect([...copy]).toEqual([7, 0x80000001]);
  });

  it('allows rows of no words (no images)', () => {
    const pool = new RowPool(0, 2);
    expect(pool.row().length).toBe(0);
    expect(pool.row().length).toBe(0);
  });
});
