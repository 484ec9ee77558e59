import { execFileSync } from 'node:child_process';
import { cpSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { json, planner, sharedData, tempDir } from '../helpers/cli.js';
import { bumpPath, commitAll, copyTree, initRepo, writeLock } from './fixtures.js';

/**
 * report, check and explain on debian-120 (120 images, real Debian dependency graphs as
 * closure files). The base commit is the data set as shipped; the head commit rebuilds
 * libssl3 (new hash, 123,456 bytes larger) and adds a service with svc000's closure.
 */

const BUMP = 123_456;
const SSL = 'libssl3-3.0.20-1_deb12u2';

interface Entry {
  path: string;
  narSize: number;
  references: string[];
}

let dir: string;
let oldSsl: Entry;
let newSsl: string;
let baseReport: any;
let baseClosures: Map<string, Entry[]>;
let baseLock: { layers: { id: string; paths: string[]; narSize: number }[] };
const closures = new Map<string, Entry[]>();

function readClosures(root: string): Map<string, Entry[]> {
  const out = new Map<string, Entry[]>();
  for (const name of readdirSync(path.join(root, 'services')).sort()) {
    const manifest = JSON.parse(readFileSync(path.join(root, 'services', name, 'image.json'), 'utf8')) as { name: string; tag?: string };
    out.set(`${manifest.name}:${manifest.tag ?? 'latest'}`, JSON.parse(readFileSync(path.join(root, 'services', name, 'closure.json'), 'utf8')) as Entry[]);
  }
  return out;
}

const sum = (entries: Entry[]): number => entries.reduce((s, e) => s + e.narSize, 0);

beforeAll(async () => {
  dir = path.join(tempDir('planner-debian-'), 'debian-120');
  copyTree(path.join(sharedData, 'debian-120'), dir);
  initRepo(dir);
  await writeLock(dir);
  commitAll(dir, 'debian-120 as shipped');
  const r = planner(['report', '--json'], { cwd: dir });
  expect(r.code, r.stderr).toBe(0);
  baseReport = json(r);
  baseClosures = readClosures(dir);
  baseLock = JSON.parse(readFileSync(path.join(dir, 'planner.lock.json'), 'utf8')) as typeof baseLock;
  oldSsl = readClosures(dir)
    .get('svc000-python3-flask:latest')!
    .find((e) => e.path.endsWith(`-${SSL}`))!;
  newSsl = bumpPath(dir, SSL, oldSsl.narSize + BUMP).to;
  const copy = path.join(dir, 'services/svc120-flask-copy');
  cpSync(path.join(dir, 'services/svc000-python3-flask'), copy, { recursive: true });
  const manifest = JSON.parse(readFileSync(path.join(copy, 'image.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(path.join(copy, 'image.json'), `${JSON.stringify({ ...manifest, name: 'svc120-flask-copy' }, null, 1)}\n`);
  await writeLock(dir);
  commitAll(dir, 'rebuild libssl3, add svc120');
  for (const [ref, entries] of readClosures(dir)) closures.set(ref, entries);
}, 120_000);

describe('debian-120', () => {
  it("report: the data set's figures and the savings against every baseline", () => {
    const r = baseReport;
    expect(r.totals).toEqual({ images: 120, uniquePaths: 1463, uniqueBytes: 4_589_608_960, closureBytes: 24_178_763_776, layers: r.layers.length });
    const by = (id: string) => r.strategies.find((s: { id: string }) => s.id === id);
    expect(by('single').registryBytes).toBe(24_178_763_776);
    expect(by('lower-bound').registryBytes).toBe(4_589_608_960);
    const planned = by('planner').registryBytes;
    expect(planned).toBeGreaterThanOrEqual(4_589_608_960);
    expect(planned).toBeLessThan(by('auto-layer').registryBytes);
    expect(planned).toBeLessThan(by('popularity').registryBytes);
    for (const s of r.savings) expect(s.registry.ratio).toBe(s.registry.baselineBytes / planned);
    for (const image of r.images) {
      expect(image.sharedBytes + image.privateBytes).toBe(image.closureBytes);
      expect(image.layers).toBeLessThanOrEqual(image.storeBudget);
    }
    expect(r.layers.reduce((s: number, l: { narSize: number }) => s + l.narSize, 0)).toBe(planned);
    expect(r.sharedLayers).toHaveLength(10);
  });

  it('report: what a bump of the most widely used libraries pushes again, per strategy', () => {
    const bumps = baseReport.bumps as { path: string; images: number; changedPaths: number; changedBytes: number; push: { id: string; bytes: number; ratioToChanged: number }[] }[];
    expect(bumps).toHaveLength(3);
    // zlib is in 113 of the 120 images: the most widely used library short of all of them.
    expect(bumps[0]!.path).toMatch(/-zlib1g-1_1\.2\.13\.dfsg-1$/);
    // Recomputed from the closure files, the manifests and the committed lock, not from planner's graph.
    const store = new Map<string, Entry>();
    for (const entries of baseClosures.values()) for (const e of entries) store.set(e.path, e);
    const users = new Map<string, string[]>();
    for (const e of store.values()) for (const ref of e.references) users.set(ref, [...(users.get(ref) ?? []), e.path]);
    const dependents = (path: string): Set<string> => {
      const out = new Set<string>();
      const stack = [path];
      while (stack.length > 0) {
        const x = stack.pop()!;
        if (out.has(x)) continue;
        out.add(x);
        stack.push(...(users.get(x) ?? []));
      }
      return out;
    };
    const roots = new Set(
      readdirSync(path.join(dir, 'services')).flatMap((name) => (JSON.parse(readFileSync(path.join(dir, 'services', name, 'image.json'), 'utf8')) as { contents: string[] }).contents),
    );
    const popularity = new Map<string, number>();
    for (const entries of baseClosures.values()) for (const e of entries) popularity.set(e.path, (popularity.get(e.path) ?? 0) + 1);
    const ranked = [...popularity]
      .filter(([p, n]) => !roots.has(p) && n < baseClosures.size)
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .slice(0, 60)
      .map(([p, n]) => ({ p, n, d: dependents(p).size }))
      .sort((a, b) => b.n - a.n || b.d - a.d || (a.p < b.p ? -1 : 1));
    expect(bumps.map((b) => b.path)).toEqual(ranked.slice(0, 3).map((r) => r.p));
    for (const bump of bumps) {
      const changed = dependents(bump.path);
      expect(bump.changedPaths).toBe(changed.size);
      expect(bump.changedBytes).toBe([...changed].reduce((sum, p) => sum + store.get(p)!.narSize, 0));
      expect(bump.images).toBe([...baseClosures.values()].filter((entries) => entries.some((e) => e.path === bump.path)).length);
      const touched = baseLock.layers.filter((layer) => layer.paths.some((p) => changed.has(p)));
      const by = (id: string) => bump.push.find((x) => x.id === id)!;
      expect(by('planner').bytes).toBe(touched.reduce((sum, layer) => sum + layer.narSize, 0));
      expect(by('lower-bound').ratioToChanged).toBe(1);
      // The target for a library bump (at most 1.10x the changed bytes), on the real graph.
      expect(by('planner').ratioToChanged).toBeLessThanOrEqual(1.1);
      for (const id of ['single', 'popularity', 'auto-layer']) expect(by(id).ratioToChanged).toBeGreaterThan(by('planner').ratioToChanged);
    }
  });

  it('report --html: with hundreds of layers the heatmap columns still follow the bytes', () => {
    const bare = planner(['report', '--html'], { cwd: dir });
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain('[E_USAGE] --html needs a value');
    const file = path.join(path.dirname(dir), 'report.html');
    const r = planner(['report', '--html', file], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const columns = [...readFileSync(file, 'utf8').matchAll(/<rect class="heat-col" x="[^"]*" y="0" width="([^"]+)"[^>]* data-bytes="(\d+)"/g)].map((m) => ({
      width: Number(m[1]),
      bytes: Number(m[2]),
    }));
    expect(columns.length).toBeGreaterThan(450);
    const byBytes = [...columns].sort((a, b) => a.bytes - b.bytes);
    // Monotone in bytes (to the SVG's 0.01 px rounding), and the largest far wider than the smallest.
    for (let k = 1; k < byBytes.length; k++) expect(byBytes[k]!.width).toBeGreaterThanOrEqual(byBytes[k - 1]!.width - 0.01);
    expect(byBytes.at(-1)!.width).toBeGreaterThan(20 * byBytes[0]!.width);
    expect(columns.reduce((s, c) => s + c.width, 0)).toBeCloseTo(900, -1);
  });

  it('report --bumps: how many libraries, 0 for none, a usage error for nonsense', () => {
    expect(json<{ bumps: unknown[] }>(planner(['report', '--json', '--bumps', '0', '--top', '0'], { cwd: dir })).bumps).toEqual([]);
    const bad = planner(['report', '--bumps', '-1'], { cwd: dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('[E_USAGE]');
  });

  it('check: a rebuilt dependency and an added service, against the base commit and its lock', () => {
    const r = planner(['check', '--base', 'HEAD~1', '--json'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const check = json(r);
    expect(check.lock.status).toBe('ok');
    const withSsl = [...closures].filter(([, entries]) => entries.some((e) => e.path === newSsl)).map(([ref]) => ref);
    expect(withSsl).toHaveLength(102);
    for (const image of check.images) {
      if (image.ref === 'svc120-flask-copy:latest') {
        expect(image).toMatchObject({ status: 'added', pullBytes: sum(closures.get(image.ref)!), closure: { baseBytes: null, growthBytes: null } });
      } else if (withSsl.includes(image.ref)) {
        expect(image.status).toBe('changed');
        expect(image.closure.growthBytes).toBe(BUMP);
        expect(image.closure.headBytes).toBe(sum(closures.get(image.ref)!));
        expect(image.pullBytes).toBeGreaterThanOrEqual(oldSsl.narSize + BUMP);
      } else {
        expect(image).toMatchObject({ status: 'unchanged', pullBytes: 0, closure: { growthBytes: 0 } });
      }
    }
    expect(check.pushBytes).toBe(check.layers.added.reduce((s: number, l: { narSize: number }) => s + l.narSize, 0));
    expect(check.pushBytes).toBeGreaterThanOrEqual(oldSsl.narSize + BUMP);
    // The same comparison from the base's lock alone.
    const lockFile = path.join(tempDir(), 'base.lock.json');
    writeFileSync(lockFile, execFileSync('git', ['show', 'HEAD~1:planner.lock.json'], { cwd: dir }));
    const viaLock = json(planner(['check', '--base-lock', lockFile, '--json'], { cwd: dir }));
    expect(viaLock.pushBytes).toBe(check.pushBytes);
    expect(viaLock.images).toEqual(check.images);
    // A growth limit below the bump fails for the 101 images that had libssl3 before; the bump itself passes.
    const tight = planner(['check', '--base', 'HEAD~1', '--max-closure-growth', String(BUMP - 1)], { cwd: dir });
    expect(tight.code).toBe(1);
    expect(tight.stdout).toContain(
      'FAIL  max-closure-growth [E_CHECK_FAILED]: 101 images grew by more than 120.6 KiB (123,455 bytes): svc000-python3-flask:latest 62.9 MiB -> 63.1 MiB (+120.6 KiB (123,456 bytes), +0.2%);',
    );
    expect(tight.stdout).toContain('; and 96 more\n');
    const failed = json(planner(['check', '--base', 'HEAD~1', '--json', '--max-closure-growth', String(BUMP - 1)], { cwd: dir }));
    expect(failed.checks.find((c: { name: string }) => c.name === 'max-closure-growth').images).toHaveLength(101);
    expect(planner(['check', '--base', 'HEAD~1', '--max-closure-growth', String(BUMP)], { cwd: dir }).code).toBe(0);
  });

  it('report --base: the lower bound pushes exactly the rebuilt path', () => {
    const r = json(planner(['report', '--base', 'HEAD~1', '--json'], { cwd: dir }));
    const by = (id: string) => r.strategies.find((s: { id: string }) => s.id === id);
    expect(by('lower-bound').pushBytes).toBe(oldSsl.narSize + BUMP);
    expect(by('planner').pushBytes).toBe(json(planner(['check', '--base', 'HEAD~1', '--json'], { cwd: dir })).pushBytes);
    for (const id of ['single', 'popularity', 'auto-layer']) expect(by(id).pushBytes).toBeGreaterThanOrEqual(by('lower-bound').pushBytes);
    expect(by('single').pushBytes).toBe(
      [...closures].filter(([ref, entries]) => (ref === 'svc120-flask-copy:latest' ? false : entries.some((e) => e.path === newSsl))).reduce((s, [, e]) => s + sum(e), 0),
    );
    const md = planner(['report', '--base', 'HEAD~1', '--markdown'], { cwd: dir });
    expect(md.code).toBe(0);
    expect(md.stdout).toContain('<details><summary>Images (121)</summary>');
  });

  it('explain: every chain is a path of references from a root of the image', () => {
    const r = planner(['explain', newSsl, '--json'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const data = json(r);
    expect(data.narSize).toBe(oldSsl.narSize + BUMP);
    expect(data.images).toHaveLength(102);
    for (const { ref, chain } of data.images as { ref: string; chain: string[] }[]) {
      const entries = new Map(closures.get(ref)!.map((e) => [e.path, e]));
      const manifest = readdirSync(path.join(dir, 'services')).find((n) => ref.startsWith(`${n}:`))!;
      const roots = (JSON.parse(readFileSync(path.join(dir, 'services', manifest, 'image.json'), 'utf8')) as { contents: string[] }).contents;
      expect(roots).toContain(chain[0]);
      expect(chain.at(-1)).toBe(newSsl);
      for (let k = 1; k < chain.length; k++) expect(entries.get(chain[k - 1]!)!.references).toContain(chain[k]);
    }
    // Layers partition each closure: the images using the path's layer are the images holding the path.
    expect(data.layer.images).toEqual(data.images.map((i: { ref: string }) => i.ref));
    const image = json(planner(['explain', 'svc003-python3-numpy:latest', '--json'], { cwd: dir }));
    expect(image.layers.reduce((s: number, l: { narSize: number }) => s + l.narSize, 0)).toBe(sum(closures.get('svc003-python3-numpy:latest')!));
    expect(image.layers.length).toBeLessThanOrEqual(image.storeBudget);
  });
});
