/** How often and how long to retry requests that failed for a reason that may pass. */
export interface RetryPolicy {
  /** Retries after the first attempt. */
  retries: number;
  /** First backoff delay; doubles each attempt. */
  baseMs: number;
  /** Largest backoff delay. */
  maxMs: number;
  /** Largest Retry-After the client honours; longer waits are cut to this. */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { retries: 6, baseMs: 250, maxMs: 8_000, maxRetryAfterMs: 60_000 };

/** 429 and the server-side failures that a later attempt may not see. */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || status === 500 || status === 502 || status === 503 || status === 504 || status === 408;
}

/** Retry-After in milliseconds: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined, now: number): number | undefined {
  if (value === null || value === undefined || value.trim() === '') return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/**
 * Delay before retry number `attempt` (1-based): exponential with full jitter in its upper
 * half, or the server's Retry-After when it gave one.
 */
export function backoffDelay(policy: RetryPolicy, attempt: number, retryAfterMs: number | undefined, random: () => number = Math.random): number {
  if (retryAfterMs !== undefined) return Math.min(retryAfterMs, policy.maxRetryAfterMs);
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** (attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

const TLS_CODES = new Set([
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_SIGNATURE_FAILURE',
]);

/** Network failure kinds: TLS verification failures never pass by waiting; the rest may. */
export type NetworkFailure = { kind: 'tls' | 'protocol' | 'dns' | 'transient'; code: string };

/** Classifies an error thrown by fetch (undici wraps the socket error in `cause`). */
export function classifyNetworkError(error: unknown): NetworkFailure {
  let code = '';
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current && typeof current === 'object'; depth++) {
    const c = (current as { code?: unknown }).code;
    if (typeof c === 'string' && c !== '') {
      code = c;
      break;
    }
    current = (current as { cause?: unknown }).cause;
  }
  if (TLS_CODES.has(code)) return { kind: 'tls', code };
  // A name that does not resolve will not resolve in a second either (EAI_AGAIN may: transient).
  if (code === 'ENOTFOUND') return { kind: 'dns', code };
  // An HTTP client speaking TLS to a plain-HTTP port (or the reverse) sees these.
  if (code === 'ERR_SSL_WRONG_VERSION_NUMBER' || code === 'EPROTO' || code === 'HPE_INVALID_CONSTANT') {
    return { kind: 'protocol', code };
  }
  return { kind: 'transient', code: code || 'network error' };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
