/**
 * Authentication and transport security against real registries: htpasswd Basic auth,
 * token auth (docker-registry trusting JWTs from a test token server), TLS verification,
 * and redirects that must not carry credentials to another host. Credentials come from
 * --creds, the environment and auth files; none may ever be printed.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blobExists, RegistrySession } from '@planner/registry';
import { json, plannerAsync, tempDir } from '../helpers/cli.js';
import { monorepoImages, writeLayout, type WrittenLayout } from './helpers/layout.js';
import { selfSignedCert, startRegistry, type TestRegistry } from './helpers/registry.js';
import { startTokenServer, type TokenServer } from './helpers/token-server.js';
import { copyBack, remoteDigest } from './helpers/verify.js';

const PASSWORD = 'pl4nner-S3CRET-pw';
const WRONG = 'wr0ng-S3CRET-guess';
let work: string;
let layout: WrittenLayout;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(() => {
  work = tempDir('planner-auth-');
  layout = writeLayout(path.join(work, 'oci'), monorepoImages({ images: 3, baseSize: 600_000, appSize: 50_000 }));
});

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

function noSecrets(...texts: string[]): void {
  for (const text of texts) {
    expect(text).not.toContain(PASSWORD);
    expect(text).not.toContain(WRONG);
    expect(text).not.toContain(Buffer.from(`alice:${PASSWORD}`).toString('base64'));
  }
}

describe('htpasswd Basic auth', () => {
  let registry: TestRegistry;
  beforeAll(async () => {
    registry = await startRegistry(path.join(work, 'basic'), { kind: 'htpasswd', users: { alice: PASSWORD } });
    cleanups.push(() => registry.stop());
  });

  it('without credentials: exit 1, says how to give them', async () => {
    const run = await plannerAsync(['push', '--out', layout.dir, '--registry', `${registry.host}/team`], {
      env: { HOME: work, XDG_RUNTIME_DIR: undefined, REGISTRY_AUTH_FILE: undefined, DOCKER_CONFIG: undefined },
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('[E_REGISTRY_AUTH]');
    expect(run.stderr).toMatch(/needs credentials/);
    expect(run.stderr).toContain('PLANNER_REGISTRY_USER');
  });

  it('with a wrong password: exit 1, a clear message, no secret anywhere', async () => {
    const run = await plannerAsync(['push', '--out', layout.dir, '--registry', `${registry.host}/team`, '--creds', `alice:${WRONG}`, '--json', '--verbose']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('[E_REGISTRY_AUTH]');
    expect(run.stderr).toContain('credentials from --creds');
    expect(json(run).error.code).toBe('E_REGISTRY_AUTH');
    noSecrets(run.stdout, run.stderr);
  });

  it('pushes with --creds, with the environment, with REGISTRY_AUTH_FILE and with ~/.docker/config.json', async () => {
    const authJson = path.join(work, 'auth.json');
    writeFileSync(authJson, JSON.stringify({ auths: { [registry.host]: { auth: Buffer.from(`alice:${PASSWORD}`).toString('base64') } } }));
    const home = path.join(work, 'home');
    mkdirSync(path.join(home, '.docker'), { recursive: true });
    writeFileSync(path.join(home, '.docker/config.json'), JSON.stringify({ auths: { [`http://${registry.host}`]: { auth: Buffer.from(`alice:${PASSWORD}`).toString('base64') } } }));
    const clean = { HOME: home, XDG_RUNTIME_DIR: undefined, REGISTRY_AUTH_FILE: undefined, DOCKER_CONFIG: undefined, PLANNER_REGISTRY_USER: undefined, PLANNER_REGISTRY_PASSWORD: undefined };
    const ways: [string, string[], Record<string, string | undefined>][] = [
      ['flag', ['--creds', `alice:${PASSWORD}`], {}],
      ['env', [], { PLANNER_REGISTRY_USER: 'alice', PLANNER_REGISTRY_PASSWORD: PASSWORD }],
      ['authfile', [], { REGISTRY_AUTH_FILE: authJson }],
      ['docker', [], {}],
    ];
    for (const [name, args, env] of ways) {
      const run = await plannerAsync(['push', '--out', layout.dir, '--registry', `${registry.host}/${name}`, '--json', ...args], { env: { ...clean, ...env } });
      expect(run.code, `${name}: ${run.stderr}`).toBe(0);
      noSecrets(run.stdout, run.stderr);
      for (const image of layout.images) {
        expect(await remoteDigest(`${registry.host}/${name}/${image.ref}`, `alice:${PASSWORD}`)).toBe(image.manifestDigest);
      }
    }
    expect(registry.blobDigests()).toEqual([...layout.blobs.keys()].sort());
  });
});

describe('token auth', () => {
  let registry: TestRegistry;
  let tokens: TokenServer;
  beforeAll(async () => {
    const dir = path.join(work, 'token');
    mkdirSync(dir, { recursive: true });
    tokens = await startTokenServer(dir, { users: { alice: PASSWORD, bob: PASSWORD }, expiresIn: 300 });
    cleanups.push(() => tokens.close());
    registry = await startRegistry(dir, { kind: 'token', realm: tokens.realm, service: tokens.service, issuer: tokens.issuer, rootCertBundle: tokens.rootCertBundle });
    cleanups.push(() => registry.stop());
  });

  it('pushes with bearer tokens scoped to the target, and pull on the mount source', async () => {
    const run = await plannerAsync(['push', '--out', layout.dir, '--registry', `${registry.host}/team`, '--creds', `alice:${PASSWORD}`, '--json']);
    expect(run.code, run.stderr).toBe(0);
    const data = json(run);
    expect(data.totals.blobsMounted).toBeGreaterThan(0);
    for (const image of layout.images) {
      const reference = `${registry.host}/team/${image.ref}`;
      expect(await remoteDigest(reference, `alice:${PASSWORD}`)).toBe(image.manifestDigest);
      expect(await copyBack(reference, path.join(work, 'token-back', image.ref.replace(':', '-')), `alice:${PASSWORD}`)).toBe(image.manifestDigest);
    }
    // planner's token requests (skopeo's, from the checks above, ask for pull only).
    const ours = tokens.requests.filter((r) => r.user === 'alice' && r.scopes.some((s) => /^repository:team\/.*:pull,push$/.test(s)));
    expect(ours.every((r) => r.service === tokens.service)).toBe(true);
    // A mount asks for push on the target and pull (only) on the source, in one token.
    const mount = ours.find((r) => r.scopes.length === 2);
    expect(mount?.scopes).toEqual(expect.arrayContaining([expect.stringMatching(/^repository:team\/svc\d:pull,push$/), expect.stringMatching(/^repository:team\/svc\d:pull$/)]));
    // Tokens are cached: one per distinct scope set, not one per request.
    const distinct = new Set(ours.map((r) => [...r.scopes].sort().join(' ')));
    expect(ours.length).toBe(distinct.size);
    noSecrets(run.stdout, run.stderr);
  });

  it("pushes each repository with its own login from an auth file, never another's", async () => {
    const authJson = path.join(work, 'per-repo-auth.json');
    const login = (user: string) => ({ auth: Buffer.from(`${user}:${PASSWORD}`).toString('base64') });
    // The most specific key wins (containers-auth.json(5)): bob for split/svc1, alice for the rest.
    writeFileSync(authJson, JSON.stringify({ auths: { [`${registry.host}/split`]: login('alice'), [`${registry.host}/split/svc1`]: login('bob') } }));
    const before = tokens.requests.length;
    const env = { HOME: work, XDG_RUNTIME_DIR: undefined, REGISTRY_AUTH_FILE: authJson, DOCKER_CONFIG: undefined, PLANNER_REGISTRY_USER: undefined, PLANNER_REGISTRY_PASSWORD: undefined };
    const run = await plannerAsync(['push', '--out', layout.dir, '--registry', `${registry.host}/split`, '--json'], { env });
    expect(run.code, run.stderr).toBe(0);
    for (const image of layout.images) expect(await remoteDigest(`${registry.host}/split/${image.ref}`, `alice:${PASSWORD}`)).toBe(image.manifestDigest);
    // Who asked to push where: svc1 by bob only, every other repository by alice only.
    const pushers = new Map<string, Set<string>>();
    for (const r of tokens.requests.slice(before)) {
      for (const scope of r.scopes.filter((s) => s.endsWith(':pull,push'))) {
        const repo = scope.split(':')[1]!;
        if (!pushers.has(repo)) pushers.set(repo, new Set());
        pushers.get(repo)!.add(r.user ?? '');
      }
    }
    expect([...pushers.keys()].sort()).toEqual(['split/svc0', 'split/svc1', 'split/svc2']);
    for (const [repo, users] of pushers) expect([...users], repo).toEqual([repo === 'split/svc1' ? 'bob' : 'alice']);
    noSecrets(run.stdout, run.stderr);
  });

  it('refuses a wrong password with exit 1 and no secret', async () => {
    const run = await plannerAsync(['push', '--out', layout.dir, '--registry', `${registry.host}/team2`, '--creds', `alice:${WRONG}`]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('[E_REGISTRY_AUTH]');
    expect(run.stderr).toContain('credentials from --creds');
    noSecrets(run.stdout, run.stderr);
  });

  it('fetches a new token when the cached one expires', async () => {
    const dir = path.join(work, 'token-short');
    mkdirSync(dir, { recursive: true });
    const short = await startTokenServer(dir, { users: { alice: PASSWORD }, expiresIn: 300 });
    cleanups.push(() => short.close());
    const reg = await startRegistry(dir, { kind: 'token', realm: short.realm, service: short.service, issuer: short.issuer, rootCertBundle: short.rootCertBundle });
    cleanups.push(() => reg.stop());
    // The session's clock is moved by hand, so the test does not depend on how fast it runs.
    let clock = Date.now();
    const session = new RegistrySession({ registry: reg.host, credentials: { username: 'alice', password: PASSWORD, source: 'test' }, now: () => clock });
    await session.connect();
    expect(session.authScheme).toBe('bearer');
    const digest = layout.images[0]!.config.digest;
    expect(await blobExists(session, 'x/y', digest)).toBe(false);
    clock += 250_000;
    expect(await blobExists(session, 'x/y', digest)).toBe(false);
    expect(short.requests.length).toBe(1);
    // 300 s tokens are refreshed 30 s early, never in flight.
    clock += 25_000;
    expect(await blobExists(session, 'x/y', digest)).toBe(false);
    expect(short.requests.length).toBe(2);
  });
});

describe('transport', () => {
  it('verifies TLS: a self-signed registry fails clearly, and works once its CA is trusted', async () => {
    const dir = path.join(work, 'tls');
    mkdirSync(dir, { recursive: true });
    const cert = selfSignedCert(dir);
    const registry = await startRegistry(dir, { kind: 'none' }, cert);
    cleanups.push(() => registry.stop());
    const refused = await plannerAsync(['push', '--out', layout.dir, '--registry', `${registry.host}/tls`]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('[E_REGISTRY_UNREACHABLE] TLS verification failed');
    expect(refused.stderr).toContain('NODE_EXTRA_CA_CERTS');
    const trusted = await plannerAsync(['push', '--out', layout.dir, '--registry', `${registry.host}/tls`, '--json'], { env: { NODE_EXTRA_CA_CERTS: cert.cert } });
    expect(trusted.code, trusted.stderr).toBe(0);
    expect(json(trusted).images[0].manifestDigest).toBe(layout.images[0]!.manifestDigest);
  });

  // A hand-written registry: docker-registry's filesystem storage never redirects blob
  // reads (only cloud storage drivers do), so the redirect is played by a small HTTP server.
  it('never sends Authorization to another host on a redirect', async () => {
    const seen: { server: string; path: string; auth: string | undefined }[] = [];
    const listen = (name: string, handler: http.RequestListener): Promise<{ port: number; server: http.Server }> =>
      new Promise((resolve) => {
        const server = http.createServer((req, res) => {
          seen.push({ server: name, path: req.url ?? '', auth: req.headers.authorization });
          handler(req, res);
        });
        server.listen(0, '127.0.0.1', () => resolve({ port: (server.address() as net.AddressInfo).port, server }));
      });
    const storage = await listen('storage', (_req, res) => res.writeHead(200, { 'content-length': '0' }).end());
    const registry = await listen('registry', (req, res) => {
      if (!req.headers.authorization) return res.writeHead(401, { 'www-authenticate': 'Basic realm="r"' }).end();
      if (req.url?.startsWith('/v2/x/blobs/')) return res.writeHead(307, { location: `http://127.0.0.1:${storage.port}/data/blob` }).end();
      if (req.url?.startsWith('/v2/same/blobs/')) return res.writeHead(307, { location: '/v2/x-moved/blob' }).end();
      res.writeHead(req.url === '/v2/x-moved/blob' ? 200 : req.url === '/v2/' ? 200 : 404, { 'content-length': '0' }).end();
    });
    cleanups.push(async () => {
      storage.server.close();
      registry.server.close();
    });
    const session = new RegistrySession({ registry: `127.0.0.1:${registry.port}`, credentials: { username: 'alice', password: PASSWORD, source: 'test' } });
    await session.connect();
    const digest = `sha256:${'0'.repeat(64)}`;
    expect(await blobExists(session, 'x', digest)).toBe(true);
    expect(await blobExists(session, 'same', digest)).toBe(true);
    expect(seen.filter((s) => s.server === 'storage')).toEqual([{ server: 'storage', path: '/data/blob', auth: undefined }]);
    expect(seen.find((s) => s.path === '/v2/x-moved/blob')?.auth).toMatch(/^Basic /);
  });
});
