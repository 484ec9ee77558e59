import { describe, expect, it } from 'vitest';
import { formatLess } from './format.js';

describe('formatLess', () => {
  it('says less, more or the same, never "0.95x less" or "1.00x less"', () => {
    expect(formatLess(2.164, 'auto-layer')).toBe('2.16x less than auto-layer');
    expect(formatLess(1 / 1.05, 'auto-layer')).toBe('1.05x more than auto-layer');
    expect(formatLess(1.004, 'auto-layer')).toBe('the same as auto-layer');
    expect(formatLess(0.996)).toBe('the same');
    expect(formatLess(1.42)).toBe('1.42x less');
  });

  it('has a dash where there is no ratio', () => {
    expect(formatLess(null, 'x')).toBe('- vs x');
    expect(formatLess(Number.NaN)).toBe('-');
    expect(formatLess(0)).toBe('-');
  });
});
