import { spawn, spawnSync } from 'node:child_process';
import { closeSync, copyFileSync, cpSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, symlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { repoRoot } from '../helpers/cli.js';
import { nix } from '../helpers/nix.js';

/** The example monorepo. */
export const exampleDir = path.join(repoRoot, 'examples/x');
export const defaultNix = path.join(exampleDir, 'default.nix');

/** The example's services by shape; the manifests are the source of truth for roots. */
export const GO_SERVICES = ['atlas', 'clock', 'gateway', 'geoip', 'quotes', 'relay'];
export const C_SERVICES = ['certinfo', 'digest'];
export const PYTHON_SERVICES = ['feeds', 'ledger', 'report'];
export const SHELL_SERVICES = ['backup', 'janitor'];
export const GEODB_USERS = ['atlas', 'geoip'];

export interface ExampleService {
  name: string;
  manifestPath: string;
  manifest: {
    name: string;
    tag: string;
    contents: string[];
    config?: Record<string, unknown>;
    fromImage?: string;
    maxLayers?: number;
  };
  /** Attributes of default.nix named by `contents` (`../../default.nix#attr`). */
  attrs: string[];
}

/** Reads every services/<name>/image.json of the example. */
export async function exampleServices(): Promise<ExampleService[]> {
  const { readFile } = await import('node:fs/promises');
  const dir = path.join(exampleDir, 'services');
  const out: ExampleService[] = [];
  for (const name of readdirSync(dir).sort()) {
    const manifestPath = path.join(dir, name, 'image.json');
    if (!existsSync(manifestPath)) continue;
    const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as ExampleService['manifest'];
    const attrs = manifest.contents.map((c) => {
      const m = /^\.\.\/\.\.\/default\.nix#([A-Za-z0-9_-]+)$/.exec(c);
      if (!m) throw new Error(`${manifestPath}: root ${c} is not ../../default.nix#<attr>`);
      return m[1]!;
    });
    out.push({ name, manifestPath, manifest, attrs });
  }
  return out;
}

/**
 * Builds attributes of the example's default.nix in ONE `nix build` and returns attr ->
 * output path. Nix 2.8's `--json` lists results in its own order, and store names need
 * not be attribute names (`python3` is `python3.11`), so the output paths are read back
 * with one `nix eval` of the same attributes.
 */
export function buildExample(attrs: string[], file = defaultNix): Map<string, string> {
  const unique = [...new Set(attrs)].sort();
  nix(['build', '--no-link', '-f', file, ...unique]);
  const list = unique.map((a) => `(d.${JSON.stringify(a)}).outPath`).join(' ');
  const outs = JSON.parse(nix(['eval', '--impure', '--json', '--expr', `let d = import ${JSON.stringify(file)} { }; in [ ${list} ]`])) as string[];
  return new Map(unique.map((attr, i) => [attr, outs[i]!]));
}

/** `/nix/store/<hash>-quotes` -> `quotes`. */
export function storeName(storePath: string): string {
  return path.basename(storePath).slice(33);
}

/** Every path reachable from `roots` through `references`. */
export function closureOf(roots: readonly string[], references: ReadonlyMap<string, readonly string[]>): Set<string> {
  const seen = new Set<string>();
  const stack = [...roots];
  while (stack.length > 0) {
    const p = stack.pop()!;
    if (seen.has(p)) continue;
    seen.add(p);
    for (const r of references.get(p) ?? []) stack.push(r);
  }
  return seen;
}

/** Whether an ELF file has a PT_INTERP program header (asks for a dynamic linker). */
export function elfInterpreter(file: string): boolean {
  const fd = openSync(file, 'r');
  try {
    const head = Buffer.alloc(64);
    readSync(fd, head, 0, 64, 0);
    if (head.readUInt32BE(0) !== 0x7f454c46) throw new Error(`${file}: not an ELF file`);
    const phoff = Number(head.readBigUInt64LE(0x20));
    const phentsize = head.readUInt16LE(0x36);
    const phnum = head.readUInt16LE(0x38);
    const table = Buffer.alloc(phentsize * phnum);
    readSync(fd, table, 0, table.length, phoff);
    for (let i = 0; i < phnum; i++) if (table.readUInt32LE(i * phentsize) === 3) return true;
    return false;
  } finally {
    closeSync(fd);
  }
}

/**
 * A root file system holding exactly `closure` under /nix/store (hard links into the
 * store, so it is cheap), with each root's top-level directories linked into `/` the way
 * dockerTools' `contents` (and planner's customisation layer) do it.
 */
export function closureRootfs(dir: string, closure: Iterable<string>, roots: readonly string[]): string {
  mkdirSync(path.join(dir, 'nix/store'), { recursive: true });
  mkdirSync(path.join(dir, 'tmp'), { recursive: true });
  for (const p of closure) {
    const target = path.join(dir, p);
    const r = spawnSync('cp', ['-a', '--link', p, target]);
    if (r.status !== 0) cpSync(p, target, { recursive: true, verbatimSymlinks: true });
  }
  const link = (from: string, to: string): void => {
    for (const name of readdirSync(from, { withFileTypes: true })) {
      const src = path.join(from, name.name);
      const dst = path.join(to, name.name);
      if (name.isDirectory()) {
        mkdirSync(dst, { recursive: true });
        link(src, dst);
      } else if (!existsSync(dst)) {
        symlinkSync(src, dst);
      }
    }
  };
  for (const root of roots) link(root, dir);
  return dir;
}

export const isRoot = process.getuid?.() === 0;
export const CHROOT = existsSync('/usr/sbin/chroot') ? '/usr/sbin/chroot' : 'chroot';

/** Runs argv (argv[0] absolute, no shell needed in the image) inside `rootfs` with exactly `env`. */
export function runInRoot(rootfs: string, argv: string[], env: string[] = []): { code: number; stdout: string; stderr: string } {
  const r = spawnSync('/usr/bin/env', ['-i', ...env, CHROOT, rootfs, ...argv], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status ?? 128, stdout: r.stdout, stderr: r.stderr };
}

/** A TCP port free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * Starts a server inside `rootfs` bound to 127.0.0.1:<port>, waits until it answers GET
 * `probe`, hands the base URL to `use`, and always stops the server. Bounded: 100
 * attempts, 100 ms apart.
 */
export async function withServer<T>(options: { rootfs: string; argv: string[]; env: string[]; probe?: string }, use: (baseUrl: string) => Promise<T>): Promise<T> {
  const port = await freePort();
  const env = [...options.env.filter((e) => !e.startsWith('LISTEN_ADDR=')), `LISTEN_ADDR=127.0.0.1:${port}`];
  const child = spawn('/usr/bin/env', ['-i', ...env, CHROOT, options.rootfs, ...options.argv], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const base = `http://127.0.0.1:${port}`;
  try {
    let ready = false;
    for (let i = 0; i < 100 && !ready; i++) {
      if (child.exitCode !== null) break;
      try {
        ready = (await fetch(base + (options.probe ?? '/healthz'))).ok;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    if (!ready) throw new Error(`${options.argv.join(' ')} did not answer on ${base} (exit ${child.exitCode}): ${stderr}`);
    return await use(base);
  } finally {
    if (child.exitCode === null) child.kill('SIGTERM');
    await exited;
  }
}

export interface RunConfig {
  Entrypoint?: string[];
  Cmd?: string[];
  Env?: string[];
}

const sha256 = async (text: string): Promise<string> => (await import('node:crypto')).createHash('sha256').update(text).digest('hex');

/**
 * Runs one of the example's services inside `rootfs` the way a container runtime would
 * (Entrypoint + Cmd, exactly the image's Env) and checks what it answers or prints.
 * Throws (via expect) with the service's own output when something is off.
 */
export async function checkService(name: string, rootfs: string, config: RunConfig, expect: typeof import('vitest').expect): Promise<void> {
  const argv = [...(config.Entrypoint ?? []), ...(config.Cmd ?? [])];
  const env = config.Env ?? [];
  const get = async (base: string, p: string): Promise<string> => {
    const res = await fetch(base + p);
    expect(res.status, `${name} GET ${p}`).toBe(200);
    return res.text();
  };
  const run = (extraEnv: string[] = []) => {
    const r = runInRoot(rootfs, argv, [...env, ...extraEnv]);
    expect(r.code, `${name} exited ${r.code}: ${r.stderr}`).toBe(0);
    return r.stdout;
  };

  switch (name) {
    case 'quotes':
      await withServer({ rootfs, argv, env }, async (base) => {
        const first = await get(base, '/');
        const second = await get(base, '/');
        expect(first).toContain('-- Douglas Adams');
        expect(first).toContain("Don't Panic.");
        expect(second).not.toBe(first);
        expect(JSON.parse(await get(base, '/quotes'))).toHaveLength(12);
      });
      return;
    case 'geoip':
      await withServer({ rootfs, argv, env }, async (base) => {
        const city = JSON.parse(await get(base, '/lookup?ip=8.8.8.8')) as Record<string, unknown>;
        expect(city.ip).toBe('8.8.8.8');
        expect(city.country).toMatch(/^[A-Z]{2}$/);
        expect(city.city).toMatch(/^[A-Z][a-z]+$/);
      });
      return;
    case 'atlas':
      await withServer({ rootfs, argv, env }, async (base) => {
        const perCountry = JSON.parse(await get(base, '/countries')) as Record<string, number>;
        expect(Object.values(perCountry).reduce((a, b) => a + b, 0)).toBe(1 << 19);
        const cities = JSON.parse(await get(base, '/cities?country=GB&n=3')) as unknown[];
        expect(cities).toHaveLength(3);
      });
      return;
    case 'clock':
      await withServer({ rootfs, argv, env }, async (base) => {
        expect((await get(base, '/at?tz=Asia/Tokyo&unix=0')).trim()).toBe('1970-01-01T09:00:00+09:00');
        expect((await get(base, '/at?tz=America/New_York&unix=1700000000')).trim()).toBe('2023-11-14T17:13:20-05:00');
      });
      return;
    case 'relay':
      await withServer({ rootfs, argv, env }, async (base) => {
        const trust = JSON.parse(await get(base, '/trust')) as { certificates: number };
        expect(trust.certificates).toBeGreaterThan(50);
      });
      return;
    case 'gateway':
      await withServer({ rootfs, argv, env }, async (base) => {
        const routes = JSON.parse(await get(base, '/routes')) as { prefix: string }[];
        expect(routes.map((r) => r.prefix).sort()).toEqual(['/atlas', '/clock', '/geo', '/quotes']);
      });
      return;
    case 'digest': {
      const out = run();
      expect(out).toMatch(/^openssl=OpenSSL 3\.\d+\.\d+/m);
      expect(out).toContain(`sha256(planner)=${await sha256('planner')}`);
      return;
    }
    case 'certinfo': {
      const out = run();
      expect(out).toMatch(/^bundle=\/etc\/ssl\/certs\/ca-bundle\.crt$/m);
      expect(Number(/^certificates=(\d+)$/m.exec(out)?.[1])).toBeGreaterThan(50);
      return;
    }
    case 'report': {
      const report = JSON.parse(run()) as Record<string, any>;
      expect(report.python).toMatch(/^3\.11\./);
      expect(report.openssl).toMatch(/^OpenSSL 3\./);
      expect(report.sha256).toEqual({ planner: await sha256('planner') });
      expect(report.epoch).toBe('1970-01-01T01:00:00+01:00'); // British Standard Time, 1968-71
      expect(report.certificates).toBeGreaterThan(50);
      return;
    }
    case 'feeds':
      await withServer({ rootfs, argv, env }, async (base) => {
        expect(JSON.parse(await get(base, '/feeds'))).toEqual({ incidents: 2, releases: 4 });
        const feed = JSON.parse(await get(base, '/feeds/releases.json')) as { version: string; items: { id: string; date_published: string }[] };
        expect(feed.version).toBe('https://jsonfeed.org/version/1.1');
        expect(feed.items.map((i) => i.id)).toEqual(['v1.0.0', 'v1.1.0', 'v1.2.0', 'v1.3.0']);
        expect(feed.items[0]!.date_published).toBe('2023-11-14T22:13:20Z');
        const atom = await get(base, '/feeds/incidents.atom');
        expect(atom).toMatch(/^<\?xml [^>]*\?>\n<feed xmlns="http:\/\/www\.w3\.org\/2005\/Atom">/);
        expect(atom.match(/<id>urn:uuid:[0-9a-f-]{36}<\/id>/g)).toHaveLength(2);
        // gzip on request (fetch undoes it), ETag = SHA-256 of the uncompressed body.
        const res = await fetch(`${base}/feeds/incidents.csv`, { headers: { 'accept-encoding': 'gzip' } });
        const csv = await res.text();
        expect(res.headers.get('content-encoding')).toBe('gzip');
        expect(csv.split('\n')[0]).toBe('id,time,title');
        expect(res.headers.get('etag')).toBe(`"${await sha256(csv)}"`);
      });
      return;
    case 'ledger': {
      const { existsSync: exists, readFileSync: read } = await import('node:fs');
      const summary = JSON.parse(run()) as Record<string, any>;
      expect(summary.sqlite).toMatch(/^3\.\d+\.\d+$/);
      expect(summary.transactions).toBe(10);
      expect(summary.total).toBe('0.00'); // double entry: every transaction balances
      expect(summary.balances['assets:bank']).toBe('10649.69');
      expect(summary.median_expense).toBe('107.18');
      expect(summary.ids['assets:bank']).toBe('e8cd6579-173e-55d6-95ef-b42f83e28883'); // uuid5(NAMESPACE_URL, ...)
      expect(summary.closing).toBe('2024-01-31T23:59:59-05:00'); // $LEDGER_TZ=America/New_York, from tzdata
      // The xz export (liblzma through the _lzma shim) lands where $LEDGER_EXPORT says.
      const exported = path.join(rootfs, summary.export.path as string);
      expect(exists(exported)).toBe(true);
      expect(
        read(exported)
          .subarray(0, 6)
          .equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])),
      ).toBe(true);
      return;
    }
    case 'backup': {
      const { mkdirSync: mk, writeFileSync, existsSync: exists } = await import('node:fs');
      mk(path.join(rootfs, 'data/sub'), { recursive: true });
      writeFileSync(path.join(rootfs, 'data/a.txt'), 'a\n');
      writeFileSync(path.join(rootfs, 'data/sub/b.txt'), 'b\n');
      const out = run();
      const m = /^archive=(\/backup\/backup-\d{8}T\d{6}Z\.tar\.gz) files=2 sha256=([0-9a-f]{64})$/m.exec(out);
      expect(m, out).not.toBeNull();
      expect(exists(path.join(rootfs, m![1]!))).toBe(true);
      return;
    }
    case 'janitor': {
      const { mkdirSync: mk, writeFileSync, utimesSync, existsSync: exists } = await import('node:fs');
      mk(path.join(rootfs, 'scratch'), { recursive: true });
      writeFileSync(path.join(rootfs, 'scratch/old.log'), 'old\n');
      writeFileSync(path.join(rootfs, 'scratch/new.log'), 'new\n');
      const monthAgo = Date.now() / 1000 - 30 * 86400;
      utimesSync(path.join(rootfs, 'scratch/old.log'), monthAgo, monthAgo);
      const out = run();
      expect(out).toContain('removed /scratch/old.log');
      expect(out).toMatch(/^removed=1$/m);
      expect(exists(path.join(rootfs, 'scratch/old.log'))).toBe(false);
      expect(exists(path.join(rootfs, 'scratch/new.log'))).toBe(true);
      return;
    }
    default:
      throw new Error(`no check for service ${name}`);
  }
}

// ---- reading OCI layouts -----------------------------------------------------------------

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

export interface LayoutImage {
  ref: string;
  manifestDigest: string;
  layers: string[];
  config: {
    config: { Cmd?: string[]; Entrypoint?: string[]; Env?: string[]; ExposedPorts?: Record<string, object>; WorkingDir?: string };
    rootfs: { diff_ids: string[] };
  };
}

export const blobPath = (layout: string, digest: string): string => path.join(layout, 'blobs', ...digest.split(':'));
export const readJson = <T>(file: string): T => JSON.parse(readFileSync(file, 'utf8')) as T;

/**
 * The images of an OCI layout by `name:tag`. The ref comes from the build's --json
 * summary when it has `images[].ref` + `manifestDigest`, else from index.json's
 * org.opencontainers.image.ref.name annotations (`name:tag` or `<registry>/name:tag`).
 */
export function readLayout(layout: string, summary: unknown, refs: readonly string[]): Map<string, LayoutImage> {
  const index = readJson<{ manifests: Descriptor[] }>(path.join(layout, 'index.json'));
  const digestOf = new Map<string, string>();
  const images = (summary as { images?: { ref?: string; manifestDigest?: string }[] } | null)?.images ?? [];
  for (const i of images) if (i.ref && i.manifestDigest) digestOf.set(i.ref, i.manifestDigest);
  for (const d of index.manifests) {
    const name = d.annotations?.['org.opencontainers.image.ref.name'] ?? '';
    const ref = refs.find((r) => name === r || name.endsWith(`/${r}`));
    if (ref && !digestOf.has(ref)) digestOf.set(ref, d.digest);
  }
  const out = new Map<string, LayoutImage>();
  for (const ref of refs) {
    const manifestDigest = digestOf.get(ref);
    if (!manifestDigest) continue;
    const manifest = readJson<{ config: Descriptor; layers: Descriptor[] }>(blobPath(layout, manifestDigest));
    out.set(ref, {
      ref,
      manifestDigest,
      layers: manifest.layers.map((l) => l.digest),
      config: readJson(blobPath(layout, manifest.config.digest)),
    });
  }
  return out;
}

/** Store paths (`/nix/store/<hash>-<name>`) with entries in a layer blob (any compression GNU tar reads). */
const layerPathsCache = new Map<string, Set<string>>();
export function storePathsIn(layout: string, digest: string): Set<string> {
  const cached = layerPathsCache.get(digest);
  if (cached) return cached;
  const r = spawnSync('tar', ['-tf', blobPath(layout, digest)], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`tar -tf ${digest}: ${r.stderr}`);
  const paths = new Set<string>();
  for (const line of r.stdout.split('\n')) {
    const m = /(?:^|\/)nix\/store\/([0-9a-z]{32}-[^/]+)/.exec(line);
    if (m) paths.add(`/nix/store/${m[1]}`);
  }
  layerPathsCache.set(digest, paths);
  return paths;
}

/** Unpacks one image of a multi-image layout with umoci (through a one-image view of it). */
export function unpack(layout: string, image: LayoutImage, dir: string): string {
  const view = path.join(dir, 'layout');
  mkdirSync(view, { recursive: true });
  copyFileSync(path.join(layout, 'oci-layout'), path.join(view, 'oci-layout'));
  symlinkSync(path.join(layout, 'blobs'), path.join(view, 'blobs'));
  const manifestSize = readFileSync(blobPath(layout, image.manifestDigest)).length;
  writeFileSync(
    path.join(view, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          digest: image.manifestDigest,
          size: manifestSize,
          annotations: { 'org.opencontainers.image.ref.name': 'image' },
        },
      ],
    }),
  );
  const bundle = path.join(dir, 'bundle');
  const r = spawnSync('umoci', ['unpack', ...(isRoot ? [] : ['--rootless']), '--image', `${view}:image`, bundle], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`umoci unpack ${image.ref}: ${r.stderr}`);
  return path.join(bundle, 'rootfs');
}
