import { describe, expect, it } from 'vitest';
import { backoffDelay, classifyNetworkError, DEFAULT_RETRY_POLICY, isRetryableStatus, parseChallenges, parseRetryAfter } from './index.js';

describe('parseChallenges', () => {
  it('reads a Bearer challenge with quoted parameters', () => {
    expect(parseChallenges('Bearer realm="https://auth.example.io/token",service="registry.example.io",scope="repository:acme/api:pull,push"')).toEqual([
      { scheme: 'bearer', params: { realm: 'https://auth.example.io/token', service: 'registry.example.io', scope: 'repository:acme/api:pull,push' } },
    ]);
  });
  it('reads Basic, several challenges, unquoted values and escapes', () => {
    expect(parseChallenges('Basic realm="a \\"b\\"", Bearer realm=https://x/t,error=insufficient_scope')).toEqual([
      { scheme: 'basic', params: { realm: 'a "b"' } },
      { scheme: 'bearer', params: { realm: 'https://x/t', error: 'insufficient_scope' } },
    ]);
  });
  it('returns nothing for an absent header', () => {
    expect(parseChallenges(null)).toEqual([]);
    expect(parseChallenges('')).toEqual([]);
  });
});

describe('retry policy', () => {
  it('retries 429 and server errors, not client errors', () => {
    expect([429, 500, 502, 503, 504].every(isRetryableStatus)).toBe(true);
    expect([400, 401, 403, 404, 416].some(isRetryableStatus)).toBe(false);
  });
  it('reads Retry-After as seconds or as a date', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('3', now)).toBe(3000);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });
  it('honours Retry-After up to the cap, else backs off exponentially within bounds', () => {
    expect(backoffDelay(DEFAULT_RETRY_POLICY, 1, 2000)).toBe(2000);
    expect(backoffDelay(DEFAULT_RETRY_POLICY, 1, 10 * 60_000)).toBe(DEFAULT_RETRY_POLICY.maxRetryAfterMs);
    for (let attempt = 1; attempt < 12; attempt++) {
      const ceiling = Math.min(DEFAULT_RETRY_POLICY.maxMs, DEFAULT_RETRY_POLICY.baseMs * 2 ** (attempt - 1));
      expect(backoffDelay(DEFAULT_RETRY_POLICY, attempt, undefined, () => 0)).toBe(ceiling / 2);
      expect(backoffDelay(DEFAULT_RETRY_POLICY, attempt, undefined, () => 1)).toBe(ceiling);
    }
  });
  it('tells TLS failures (never retried) from resets (retried)', () => {
    const wrap = (code: string) => Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error(code), { code }) });
    expect(classifyNetworkError(wrap('DEPTH_ZERO_SELF_SIGNED_CERT')).kind).toBe('tls');
    expect(classifyNetworkError(wrap('ECONNRESET'))).toEqual({ kind: 'transient', code: 'ECONNRESET' });
    expect(classifyNetworkError(new TypeError('fetch failed')).kind).toBe('transient');
  });
});
