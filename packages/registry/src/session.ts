import { PlannerError } from '@planner/errors';
import { parseChallenges, type Challenge } from './challenge.js';
import { apiHost, isLoopbackHost } from './reference.js';
import { backoffDelay, classifyNetworkError, DEFAULT_RETRY_POLICY, isRetryableStatus, parseRetryAfter, sleep, type RetryPolicy } from './retry.js';
import type { Credentials, PushEvent } from './types.js';

export interface SessionOptions {
  /** Registry as the user wrote it: `ghcr.io`, `127.0.0.1:5000`. */
  registry: string;
  credentials?: Credentials | undefined;
  /** Plain HTTP allowed (`--insecure` or the config's insecureRegistries). Loopback always is. */
  insecure?: boolean;
  /** The user wrote `http://`: try plain HTTP first. */
  plainHttp?: boolean;
  retry?: RetryPolicy;
  onEvent?: (event: PushEvent) => void;
  userAgent?: string;
  /** The clock token lifetimes are measured on (ms since the epoch). Default Date.now. */
  now?: () => number;
}

export interface RequestOptions {
  method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** A path under the registry (`/v2/...`) or a URL from a Location header (resolved against the registry). */
  url: string;
  /** Token scopes the request needs: `repository:acme/api:pull,push`. */
  scopes: readonly string[];
  headers?: Record<string, string>;
  /** A buffer, or a function returning a fresh stream (called again on each attempt). */
  body?: Buffer | (() => ReadableStream<Uint8Array>);
  /**
   * true: retry 429/5xx/network failures here. false: throw TransientFailure so the caller
   * can find out how far an upload got before trying again.
   */
  retry: boolean;
  /** What this request does, for messages: `upload of sha256:ab.. to acme/api`. */
  what: string;
}

/** A failure that may pass: a network error, 429 or 5xx. Carries no secrets. */
export class TransientFailure extends Error {
  readonly retryAfterMs: number | undefined;
  readonly status: number | undefined;
  readonly registryCode: string | undefined;
  constructor(message: string, options: { retryAfterMs?: number; status?: number; registryCode?: string; cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TransientFailure';
    this.retryAfterMs = options.retryAfterMs;
    this.status = options.status;
    this.registryCode = options.registryCode;
  }
}

/** A registry's error body: `{"errors":[{"code":"BLOB_UNKNOWN","message":"..."}]}`. */
export interface RegistryErrorBody {
  code: string | undefined;
  message: string | undefined;
}

export function parseErrorBody(text: string): RegistryErrorBody {
  try {
    const parsed = JSON.parse(text) as { errors?: { code?: unknown; message?: unknown }[] };
    const first = parsed.errors?.[0];
    return {
      code: typeof first?.code === 'string' ? first.code : undefined,
      message: typeof first?.message === 'string' ? first.message : undefined,
    };
  } catch {
    return { code: undefined, message: undefined };
  }
}

interface Token {
  value: string;
  expiresAt: number;
}

const MAX_REDIRECTS = 5;

/**
 * One registry: its base URL, how it authenticates, and the bearer tokens it handed out.
 * This is the one place that holds credentials; they leave it only in Authorization
 * headers to the registry itself or to the token realm the registry named.
 */
export class RegistrySession {
  readonly registry: string;
  private readonly credentials: Credentials | undefined;
  private readonly plainAllowed: boolean;
  private readonly preferPlain: boolean;
  private readonly policy: RetryPolicy;
  private readonly now: () => number;
  private readonly onEvent: (event: PushEvent) => void;
  private readonly userAgent: string;
  private base: URL | undefined;
  private scheme: 'anonymous' | 'basic' | 'bearer' = 'anonymous';
  private bearer: { realm: string; service: string | undefined } | undefined;
  private readonly tokens = new Map<string, Token>();
  private readonly pendingTokens = new Map<string, Promise<Token>>();
  /** Retries made so far, for the totals. */
  retries = 0;

  constructor(options: SessionOptions) {
    this.registry = options.registry;
    this.credentials = options.credentials;
    this.plainAllowed = options.insecure === true || isLoopbackHost(options.registry);
    this.preferPlain = options.plainHttp === true;
    this.policy = options.retry ?? DEFAULT_RETRY_POLICY;
    this.now = options.now ?? Date.now;
    this.onEvent = options.onEvent ?? (() => {});
    this.userAgent = options.userAgent ?? 'planner';
    if (options.plainHttp && !this.plainAllowed) {
      throw new PlannerError('E_REGISTRY_INSECURE', `registry ${options.registry} is given as http:// but is not allowed plain HTTP`, {
        hint: 'pass --insecure or list it in "insecureRegistries" in planner.config.json (loopback addresses need neither)',
      });
    }
  }

  get url(): URL {
    if (!this.base) throw new Error('RegistrySession used before connect()');
    return this.base;
  }

  get authScheme(): 'anonymous' | 'basic' | 'bearer' {
    return this.scheme;
  }

  get retryPolicy(): RetryPolicy {
    return this.policy;
  }

  /** Pings `/v2/`: picks https (or plain http where allowed) and learns the auth scheme. */
  async connect(): Promise<void> {
    const host = apiHost(this.registry);
    const schemes = this.plainAllowed ? (this.preferPlain ? ['http:', 'https:'] : ['https:', 'http:']) : ['https:'];
    let lastError: unknown;
    for (let attempt = 0; attempt <= this.policy.retries; attempt++) {
      let tlsError: unknown;
      for (const scheme of schemes) {
        const base = new URL(`${scheme}//${host}/`);
        let res: Response;
        try {
          res = await fetch(new URL('/v2/', base), { method: 'GET', headers: { 'user-agent': this.userAgent }, redirect: 'manual' });
        } catch (error) {
          lastError = error;
          const { kind, code } = classifyNetworkError(error);
          // A plain-HTTP server answered the TLS handshake: retrying will not change that.
          if (kind === 'protocol' && scheme === 'https:' && !this.plainAllowed) {
            throw new PlannerError('E_REGISTRY_INSECURE', `registry ${this.registry} speaks plain HTTP, not HTTPS (${code}), and is not allowed plain HTTP`, {
              hint: 'pass --insecure or list it in "insecureRegistries" in planner.config.json, only if you trust this network',
              details: { registry: this.registry, code },
            });
          }
          // A TLS server that fails verification is there: never fall back to plain HTTP.
          if (kind === 'tls' || kind === 'dns') {
            tlsError = error;
            break;
          }
          continue;
        }
        const text = await res.text();
        if (isRetryableStatus(res.status)) {
          lastError = new TransientFailure(`GET /v2/ answered ${res.status}`, { status: res.status });
          break;
        }
        this.base = base;
        if (res.status === 200) {
          this.scheme = 'anonymous';
        } else if (res.status === 401) {
          this.adoptChallenge(parseChallenges(res.headers.get('www-authenticate')), '/v2/');
        } else {
          const body = parseErrorBody(text);
          throw new PlannerError('E_REGISTRY_UNREACHABLE', `${this.registry} does not look like an OCI registry: GET /v2/ answered ${res.status}${body.code ? ` ${body.code}` : ''}`, {
            exitCode: 1,
            hint: 'check the registry address (host[:port], no path after the host for the API)',
            details: { registry: this.registry, status: res.status },
          });
        }
        this.onEvent({ type: 'registry', registry: this.registry, url: base.origin, auth: this.scheme });
        return;
      }
      if (tlsError !== undefined) {
        const failure = classifyNetworkError(tlsError);
        if (failure.kind === 'dns') {
          throw new PlannerError('E_REGISTRY_UNREACHABLE', `cannot resolve the registry host ${this.registry} (${failure.code})`, {
            exitCode: 1,
            hint: 'check the registry name in --registry, planner.config.json or the image manifest',
            details: { registry: this.registry, code: failure.code },
          });
        }
        throw new PlannerError('E_REGISTRY_UNREACHABLE', `TLS verification failed for ${this.registry} (${failure.code})`, {
          exitCode: 1,
          hint: 'fix the registry certificate or trust its CA with NODE_EXTRA_CA_CERTS=/path/ca.pem; planner never skips TLS verification',
          details: { registry: this.registry, code: failure.code },
        });
      }
      if (attempt < this.policy.retries) {
        const retryAfter = lastError instanceof TransientFailure ? lastError.retryAfterMs : undefined;
        const delay = backoffDelay(this.policy, attempt + 1, retryAfter);
        this.retries++;
        this.onEvent({ type: 'retry', registry: this.registry, what: 'GET /v2/', attempt: attempt + 1, delayMs: delay, reason: describeFailure(lastError) });
        await sleep(delay);
      }
    }
    throw new PlannerError('E_REGISTRY_UNREACHABLE', `cannot reach registry ${this.registry}: ${describeFailure(lastError)}`, {
      exitCode: 1,
      hint: this.plainAllowed
        ? 'is the registry running and listening on that address?'
        : 'is the registry running? A registry without TLS needs --insecure or "insecureRegistries" in planner.config.json',
      details: { registry: this.registry },
    });
  }

  private adoptChallenge(challenges: Challenge[], what: string): void {
    const bearer = challenges.find((c) => c.scheme === 'bearer');
    const basic = challenges.find((c) => c.scheme === 'basic');
    if (bearer && bearer.params.realm) {
      const realm = new URL(bearer.params.realm, this.url);
      if (realm.protocol !== 'https:' && !(this.plainAllowed || isLoopbackHost(realm.host))) {
        throw new PlannerError('E_REGISTRY_INSECURE', `${this.registry} sends token requests to a plain-HTTP realm (${realm.origin})`, {
          exitCode: 1,
          hint: 'planner does not send credentials over plain HTTP; pass --insecure only if you trust this network',
        });
      }
      this.scheme = 'bearer';
      this.bearer = { realm: realm.href, service: bearer.params.service };
      return;
    }
    if (basic) {
      if (this.url.protocol !== 'https:' && !this.plainAllowed) {
        throw new PlannerError('E_REGISTRY_INSECURE', `${this.registry} asks for Basic credentials over plain HTTP`, { exitCode: 1 });
      }
      this.scheme = 'basic';
      return;
    }
    throw new PlannerError('E_REGISTRY_AUTH', `${this.registry} asks for authentication planner does not speak (${challenges.map((c) => c.scheme).join(', ') || 'no challenge'}) on ${what}`, {
      exitCode: 1,
      hint: 'planner speaks Basic and Bearer token authentication',
    });
  }

  private basicHeader(): string {
    const creds = this.credentials!;
    return `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
  }

  private needCredentials(what: string): PlannerError {
    return new PlannerError('E_REGISTRY_AUTH', `${this.registry} needs credentials for ${what}`, {
      exitCode: 1,
      hint: 'pass --creds USER:PASSWORD, set PLANNER_REGISTRY_USER and PLANNER_REGISTRY_PASSWORD, or log in with `skopeo login` / `docker login`',
      details: { registry: this.registry },
    });
  }

  private rejected(what: string, status: number, code: string | undefined): PlannerError {
    const by = this.credentials ? ` (credentials from ${this.credentials.source})` : ' (no credentials given)';
    return new PlannerError('E_REGISTRY_AUTH', `${this.registry} refused ${what}: ${status}${code ? ` ${code}` : ''}${by}`, {
      exitCode: 1,
      hint: this.credentials
        ? 'check the user name and password or token, and that the account may push to this repository'
        : 'pass --creds USER:PASSWORD, set PLANNER_REGISTRY_USER and PLANNER_REGISTRY_PASSWORD, or log in with `skopeo login`',
      details: { registry: this.registry, status, ...(code ? { registryCode: code } : {}) },
    });
  }

  /** A bearer token for exactly these scopes, from the cache while it is fresh. */
  private async token(scopes: readonly string[], force: boolean): Promise<string> {
    const key = [...scopes].sort().join(' ');
    const cached = this.tokens.get(key);
    if (!force && cached && cached.expiresAt > this.now()) return cached.value;
    const pending = this.pendingTokens.get(key);
    if (!force && pending) return (await pending).value;
    const promise = this.fetchToken(scopes);
    this.pendingTokens.set(key, promise);
    try {
      const token = await promise;
      this.tokens.set(key, token);
      return token.value;
    } finally {
      this.pendingTokens.delete(key);
    }
  }

  private async fetchToken(scopes: readonly string[]): Promise<Token> {
    const { realm, service } = this.bearer!;
    const url = new URL(realm);
    if (service !== undefined) url.searchParams.set('service', service);
    for (const scope of [...scopes].sort()) url.searchParams.append('scope', scope);
    const headers: Record<string, string> = { 'user-agent': this.userAgent, accept: 'application/json' };
    if (this.credentials) headers.authorization = this.basicHeader();
    const what = `a token for ${scopes.join(' ')}`;
    for (let attempt = 0; ; attempt++) {
      let res: Response;
      try {
        res = await fetch(url, { method: 'GET', headers, redirect: 'manual' });
      } catch (error) {
        const failure = classifyNetworkError(error);
        if (failure.kind === 'tls' || attempt >= this.policy.retries) {
          throw new PlannerError('E_REGISTRY_UNREACHABLE', `cannot reach the token service of ${this.registry} (${url.host}): ${failure.code}`, {
            exitCode: 1,
            details: { registry: this.registry, realm: url.origin },
          });
        }
        await this.pause(attempt + 1, undefined, 'token request', failure.code);
        continue;
      }
      const text = await res.text();
      if (isRetryableStatus(res.status) && attempt < this.policy.retries) {
        await this.pause(attempt + 1, parseRetryAfter(res.headers.get('retry-after'), Date.now()), 'token request', `${res.status}`);
        continue;
      }
      if (res.status === 401 || res.status === 403) {
        if (!this.credentials) throw this.needCredentials(what);
        throw this.rejected(what, res.status, parseErrorBody(text).code);
      }
      if (res.status !== 200) {
        throw new PlannerError('E_REGISTRY_AUTH', `the token service of ${this.registry} answered ${res.status} for ${what}`, {
          exitCode: 1,
          details: { registry: this.registry, status: res.status },
        });
      }
      let body: { token?: unknown; access_token?: unknown; expires_in?: unknown; issued_at?: unknown };
      try {
        body = JSON.parse(text) as typeof body;
      } catch {
        throw new PlannerError('E_REGISTRY_AUTH', `the token service of ${this.registry} sent a reply that is not JSON`, { exitCode: 1 });
      }
      const value = typeof body.token === 'string' ? body.token : typeof body.access_token === 'string' ? body.access_token : undefined;
      if (!value) throw new PlannerError('E_REGISTRY_AUTH', `the token service of ${this.registry} sent no token`, { exitCode: 1 });
      // The spec's default lifetime is 60 s; refresh a little early so a token never expires in flight.
      const lifetime = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : 60;
      const issued = typeof body.issued_at === 'string' && !Number.isNaN(Date.parse(body.issued_at)) ? Math.min(Date.parse(body.issued_at), this.now()) : this.now();
      return { value, expiresAt: issued + lifetime * 1000 - Math.min(30_000, (lifetime * 1000) / 4) };
    }
  }

  private async pause(attempt: number, retryAfterMs: number | undefined, what: string, reason: string): Promise<void> {
    const delay = backoffDelay(this.policy, attempt, retryAfterMs);
    this.retries++;
    this.onEvent({ type: 'retry', registry: this.registry, what, attempt, delayMs: delay, reason });
    await sleep(delay);
  }

  /** Waits before a caller-driven retry (uploads), emitting the retry event. */
  async backoff(attempt: number, failure: unknown, what: string): Promise<void> {
    const retryAfter = failure instanceof TransientFailure ? failure.retryAfterMs : undefined;
    await this.pause(attempt, retryAfter, what, describeFailure(failure));
  }

  private async authorization(scopes: readonly string[], force: boolean): Promise<string | undefined> {
    if (this.scheme === 'basic') {
      if (!this.credentials) throw this.needCredentials(`access to ${this.registry}`);
      return this.basicHeader();
    }
    if (this.scheme === 'bearer') return `Bearer ${await this.token(scopes, force)}`;
    return undefined;
  }

  /** Resolves a path or a Location against the registry; a Location on our host keeps our scheme. */
  resolve(url: string): URL {
    const resolved = new URL(url, this.url);
    if (resolved.host === this.url.host && resolved.protocol !== this.url.protocol) resolved.protocol = this.url.protocol;
    return resolved;
  }

  /**
   * Sends one request with auth, following redirects (Authorization only ever goes to the
   * registry's own origin), retrying what may pass when `retry` is set.
   */
  async request(options: RequestOptions): Promise<Response> {
    let scopes = options.scopes;
    let authRetried = false;
    for (let attempt = 0; ; attempt++) {
      let res: Response;
      try {
        const auth = await this.authorization(scopes, false);
        res = await this.send(options, auth);
      } catch (error) {
        if (error instanceof PlannerError) throw error;
        const failure = classifyNetworkError(error);
        if (failure.kind === 'tls' || failure.kind === 'dns') {
          throw new PlannerError(
            'E_REGISTRY_UNREACHABLE',
            failure.kind === 'dns' ? `cannot resolve ${this.url.host} during ${options.what}` : `TLS verification failed for ${this.registry} during ${options.what} (${failure.code})`,
            {
              exitCode: 1,
              details: { registry: this.registry, code: failure.code },
            },
          );
        }
        const transient = new TransientFailure(failure.code, { cause: error });
        if (!options.retry) throw transient;
        if (attempt >= this.policy.retries) throw this.exhausted(options.what, transient);
        await this.pause(attempt + 1, undefined, options.what, failure.code);
        continue;
      }
      if (res.status === 401 && !authRetried) {
        authRetried = true;
        await res.body?.cancel();
        const challenges = parseChallenges(res.headers.get('www-authenticate'));
        const before = this.scheme;
        this.adoptChallenge(challenges, options.what);
        if (this.scheme === 'bearer') {
          const extra = challenges.find((c) => c.scheme === 'bearer')?.params.scope;
          if (extra) scopes = [...new Set([...scopes, ...extra.split(' ')])];
          await this.token(scopes, true);
        } else if (before === 'basic' || !this.credentials) {
          throw before === 'basic' ? this.rejected(options.what, 401, undefined) : this.needCredentials(options.what);
        }
        attempt--;
        continue;
      }
      if (res.status === 401 || res.status === 403) {
        const body = parseErrorBody(await res.text());
        if (res.status === 401 && !this.credentials && this.scheme !== 'basic') throw this.needCredentials(options.what);
        throw this.rejected(options.what, res.status, body.code);
      }
      if (isRetryableStatus(res.status)) {
        const body = parseErrorBody(await res.text());
        const transient = new TransientFailure(`${res.status}${body.code ? ` ${body.code}` : ''}`, {
          status: res.status,
          ...(body.code ? { registryCode: body.code } : {}),
          ...(() => {
            const ms = parseRetryAfter(res.headers.get('retry-after'), Date.now());
            return ms === undefined ? {} : { retryAfterMs: ms };
          })(),
        });
        if (!options.retry) throw transient;
        if (attempt >= this.policy.retries) throw this.exhausted(options.what, transient);
        await this.pause(attempt + 1, transient.retryAfterMs, options.what, transient.message);
        continue;
      }
      return res;
    }
  }

  private async send(options: RequestOptions, auth: string | undefined): Promise<Response> {
    let url = this.resolve(options.url);
    let method: string = options.method;
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      const headers: Record<string, string> = { 'user-agent': this.userAgent, ...options.headers };
      if (auth && url.origin === this.url.origin) headers.authorization = auth;
      let body: Buffer | ReadableStream<Uint8Array> | undefined;
      if (options.body !== undefined && method !== 'GET' && method !== 'HEAD') {
        body = Buffer.isBuffer(options.body) ? options.body : options.body();
      }
      const init: RequestInit & { duplex?: 'half' } = { method, headers, redirect: 'manual' };
      if (body !== undefined) {
        init.body = body;
        if (!Buffer.isBuffer(body)) init.duplex = 'half';
      }
      const res = await fetch(url, init);
      if (res.status >= 300 && res.status < 400 && res.status !== 304 && res.headers.get('location')) {
        await res.body?.cancel();
        url = new URL(res.headers.get('location')!, url);
        if (res.status === 303) method = method === 'HEAD' ? 'HEAD' : 'GET';
        continue;
      }
      return res;
    }
    throw new PlannerError('E_REGISTRY', `${this.registry}: too many redirects during ${options.what}`, { exitCode: 1 });
  }

  /** The error once retries are exhausted: names what failed and the registry's own code. */
  exhausted(what: string, failure: unknown): PlannerError {
    if (failure instanceof TransientFailure && failure.status !== undefined) {
      return new PlannerError('E_REGISTRY', `${this.registry}: ${what} failed after ${this.policy.retries} retries: ${failure.status}${failure.registryCode ? ` ${failure.registryCode}` : ''}`, {
        exitCode: 1,
        hint: 'the registry keeps failing; rerun later: blobs already pushed are skipped',
        details: { registry: this.registry, status: failure.status, ...(failure.registryCode ? { registryCode: failure.registryCode } : {}) },
      });
    }
    return new PlannerError('E_REGISTRY_UNREACHABLE', `${this.registry}: ${what} failed after ${this.policy.retries} retries: ${describeFailure(failure)}`, {
      exitCode: 1,
      hint: 'is the registry up? Rerun when it is: blobs already pushed are skipped',
      details: { registry: this.registry },
    });
  }

  /** A non-retryable unexpected answer as a PlannerError naming the registry's error code. */
  async unexpected(res: Response, what: string): Promise<PlannerError> {
    const body = parseErrorBody(await res.text().catch(() => ''));
    return new PlannerError('E_REGISTRY', `${this.registry}: ${what} answered ${res.status}${body.code ? ` ${body.code}` : ''}${body.message ? ` (${body.message})` : ''}`, {
      exitCode: 1,
      details: { registry: this.registry, status: res.status, ...(body.code ? { registryCode: body.code } : {}) },
    });
  }
}

export function describeFailure(error: unknown): string {
  if (error instanceof TransientFailure) return error.message;
  if (error instanceof Error) {
    const failure = classifyNetworkError(error);
    return failure.code !== 'network error' ? failure.code : error.message;
  }
  return String(error);
}
