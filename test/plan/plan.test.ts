/**
 * planner plan on the real debian-120 data set (closure files, no Nix needed): the plan,
 * its comparison with nixpkgs' strategies, and planner.lock.json across runs and updates.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CHURN_WEIGHT, layerId, parseLock, serializeLock, type Plan } from '@planner/layering';
import { json, planner, plannerBin, sharedData, tempDir } from '../helpers/cli.js';

interface PlanJson extends Plan {
  lockFile: string;
  lock: { read: boolean; changed: boolean; mode: string; newLayers: number; newLayerBytes: number; reusedLayers: number };
  summary: {
    images: number;
    layers: number;
    registryBytes: number;
    uniqueBytes: number;
    maxImageLayers: number;
    minBudget: number;
    maxBudget: number;
    imagesAtBudget: number;
    churnWeight: number;
    baselines: { kind: string; label: string; registryBytes: number; ratio: number }[];
  };
}

let dir: string;
const lockOf = (): string => readFileSync(path.join(dir, 'planner.lock.json'), 'utf8');

beforeAll(() => {
  dir = path.join(tempDir('planner-plan-'), 'ws');
  cpSync(path.join(sharedData, 'debian-120'), dir, { recursive: true });
});

describe('planner plan on debian-120', () => {
  let first: PlanJson;

  beforeAll(() => {
    first = json<PlanJson>(planner(['plan', '-C', dir, '--json']));
  });

  it('plans every image within budget, storing every path once at 100 layers', () => {
    expect(first.maxLayers).toBe(100);
    expect(first.images).toHaveLength(120);
    expect(first.summary.maxImageLayers).toBeLessThanOrEqual(99);
    for (const image of first.images) expect(image.layers.length).toBeLessThanOrEqual(99);
    // The data set's README: every unique path once is 4,589,608,960 bytes.
    expect(first.summary.uniqueBytes).toBe(4_589_608_960);
    expect(first.summary.registryBytes).toBe(4_589_608_960);
    expect(first.layers.reduce((sum, layer) => sum + layer.narSize, 0)).toBe(first.summary.registryBytes);
  });

  it('stores less than every per-image nixpkgs strategy', () => {
    const auto = first.summary.baselines.find((b) => b.kind === 'auto-layer')!;
    const popularity = first.summary.baselines.find((b) => b.kind === 'popularity')!;
    const single = first.summary.baselines.find((b) => b.kind === 'single')!;
    // Sum of every image's closure (the data set's README): what one layer per image stores at most.
    expect(single.registryBytes).toBeLessThanOrEqual(24_178_763_776);
    expect(auto.ratio).toBeGreaterThan(1.35);
    expect(popularity.ratio).toBeGreaterThan(auto.ratio);
    expect(single.ratio).toBeGreaterThan(popularity.ratio);
  });

  it('writes the plan as planner.lock.json, which reads back to the same plan', () => {
    const lock = parseLock(lockOf(), 'planner.lock.json');
    expect(lock.layers).toEqual(first.layers);
    expect(lock.images).toEqual(first.images);
    expect(first.lock).toMatchObject({ read: false, changed: true, mode: 'fresh' });
  });

  it('prints a summary naming each baseline', () => {
    const r = planner(['plan', '-C', dir]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/120 images, \d+ layers, 4\.3 GiB in the registry \(1\.00x the lower bound/);
    expect(r.stdout).toMatch(/1\.4\dx less than per-image auto-layer/);
    expect(r.stdout).toContain('every layer kept from the lock');
  });

  it('leaves the lock byte for byte unchanged when nothing changed', () => {
    const before = lockOf();
    const again = json<PlanJson>(planner(['plan', '-C', dir, '--json']));
    expect(again.lock).toMatchObject({ read: true, changed: false, mode: 'lock', newLayers: 0 });
    expect(lockOf()).toBe(before);
  });

  it('--no-lock still compares with the lock on disk: what it pushes, and no rewrite when equal', () => {
    const file = path.join(dir, 'planner.lock.json');
    const before = lockOf();
    const mtime = statSync(file).mtimeMs;
    // The lock was planned afresh and nothing changed: a fresh plan is the same file.
    const same = json<PlanJson>(planner(['plan', '-C', dir, '--json', '--no-lock']));
    expect(same.lock).toMatchObject({ read: false, changed: false, mode: 'fresh', newLayers: 0, newLayerBytes: 0, reusedLayers: same.layers.length });
    expect(statSync(file).mtimeMs).toBe(mtime);
    // Another budget: the layers not in the lock on disk are what would be pushed.
    const onDisk = new Set(parseLock(before, 'lock').layers.map((layer) => layer.id));
    const other = json<PlanJson>(planner(['plan', '-C', dir, '--json', '--no-lock', '--max-layers', '20']));
    const fresh = other.layers.filter((layer) => !onDisk.has(layer.id));
    expect(fresh.length).toBeGreaterThan(0);
    expect(other.lock).toMatchObject({ changed: true, newLayers: fresh.length, newLayerBytes: fresh.reduce((sum, layer) => sum + layer.narSize, 0) });
    expect(other.lock.reusedLayers).toBe(other.layers.length - fresh.length);
    writeFileSync(file, before);
  });

  it('pushes only the rebuilt package when one service is rebuilt', () => {
    const before = json<PlanJson>(planner(['plan', '-C', dir, '--json']));
    // svc009-nginx-light's root: no other path or image refers to it.
    const service = path.join(dir, 'services/svc009-nginx-light');
    const manifest = JSON.parse(readFileSync(path.join(service, 'image.json'), 'utf8')) as { contents: string[] };
    const old = manifest.contents[0]!;
    const rebuilt = old.replace(/\/nix\/store\/[0-9a-z]{32}-/, `/nix/store/${'0123456789abcdfghijklmnpqrsvwxy'.padEnd(32, 'z')}-`);
    writeFileSync(path.join(service, 'image.json'), JSON.stringify({ ...manifest, contents: [rebuilt] }, null, 1));
    const closureFile = path.join(service, 'closure.json');
    writeFileSync(closureFile, readFileSync(closureFile, 'utf8').split(old).join(rebuilt));
    const after = json<PlanJson>(planner(['plan', '-C', dir, '--json']));
    expect(after.lock.mode).toBe('lock');
    expect(after.lock.newLayers).toBe(1);
    const layer = after.layers.find((l) => l.paths.includes(rebuilt))!;
    expect(layer.paths).toEqual([rebuilt]);
    expect(after.lock.newLayerBytes).toBe(layer.narSize);
    for (const image of before.images) {
      const now = after.images.find((i) => i.name === image.name)!;
      if (image.name !== 'svc009-nginx-light:latest') expect(now.layers).toEqual(image.layers);
      else expect(now.layers.at(-1)).toBe(layer.id);
    }
  });

  it("names the range of the images' budgets when they differ", () => {
    const ws = path.join(tempDir('planner-plan-budgets-'), 'ws');
    cpSync(path.join(sharedData, 'debian-120'), ws, { recursive: true });
    const manifest = path.join(ws, 'services/svc000-python3-flask/image.json');
    writeFileSync(manifest, JSON.stringify({ ...JSON.parse(readFileSync(manifest, 'utf8')), maxLayers: 20 }));
    const data = json<PlanJson>(planner(['plan', '-C', ws, '--json', '--no-lock']));
    expect([data.summary.minBudget, data.summary.maxBudget]).toEqual([19, 99]);
    expect(data.images.find((i) => i.name === 'svc000-python3-flask:latest')!.layers.length).toBeLessThanOrEqual(19);
    const text = planner(['plan', '-C', ws, '--no-lock']);
    expect(text.stdout).toContain('(store-layer budget 19-99, maxLayers 100, churnWeight 0.02)');
    expect(planner(['plan', '-C', ws, '--no-lock', '--max-layers', '20']).stdout).toContain('(store-layer budget 19, maxLayers 20, churnWeight 0.02)');
  });

  it('honours --max-layers for every image', () => {
    const small = json<PlanJson>(planner(['plan', '-C', dir, '--json', '--max-layers', '20', '--no-lock']));
    expect(small.maxLayers).toBe(20);
    for (const image of small.images) expect(image.layers.length).toBeLessThanOrEqual(19);
    expect(small.summary.registryBytes / small.summary.uniqueBytes).toBeLessThan(1.25);
    // The summary says how many images fill their budget: those the budget binds.
    const full = small.images.filter((image) => image.layers.length === 19).length;
    expect(full).toBeGreaterThan(0);
    expect(small.summary.imagesAtBudget).toBe(full);
    const roomy = json<PlanJson>(planner(['plan', '-C', dir, '--json', '--max-layers', '125', '--no-lock']));
    expect(roomy.summary.imagesAtBudget).toBe(roomy.images.filter((image) => image.layers.length === 124).length);
    expect(roomy.summary.imagesAtBudget).toBeLessThan(full);
    expect(small.lock.read).toBe(false);
    // Two store layers: each service's package shares a layer rather than leave the rest of
    // its closure one layer nobody shares; planner still stores less than auto-layer.
    const tiny = json<PlanJson>(planner(['plan', '-C', dir, '--json', '--max-layers', '3', '--no-lock']));
    for (const image of tiny.images) expect(image.layers.length).toBeLessThanOrEqual(2);
    expect(tiny.summary.baselines.find((b) => b.kind === 'auto-layer')!.ratio).toBeGreaterThan(1.2);
  });

  it('rejects a damaged lock, naming it, unless told to ignore it', () => {
    writeFileSync(path.join(dir, 'planner.lock.json'), '{"lockVersion": 1, "layers": [');
    const bad = planner(['plan', '-C', dir]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('[E_LOCK_PARSE]');
    expect(bad.stderr).toContain(path.join(dir, 'planner.lock.json'));
    const fresh = planner(['plan', '-C', dir, '--no-lock']);
    expect(fresh.code).toBe(0);
    expect(parseLock(lockOf(), 'planner.lock.json').images).toHaveLength(120);
  });

  it('plans afresh from a lock for another store directory, and says so', () => {
    const lock = parseLock(lockOf(), 'planner.lock.json');
    const ids = new Map<string, string>();
    const layers = lock.layers.map((layer) => {
      const paths = layer.paths.map((p) => p.replace('/nix/store/', '/gnu/store/'));
      ids.set(layer.id, layerId(paths));
      return { ...layer, id: layerId(paths), paths };
    });
    const images = lock.images.map((image) => ({ ...image, layers: image.layers.map((id) => ids.get(id)!) }));
    writeFileSync(path.join(dir, 'planner.lock.json'), serializeLock({ ...lock, storeDir: '/gnu/store', layers, images }));
    const r = planner(['plan', '-C', dir]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("planned afresh: the lock is for another store directory than this workspace's /nix/store");
    const again = json<PlanJson>(planner(['plan', '-C', dir, '--json']));
    expect(again.lock).toMatchObject({ read: true, changed: false, mode: 'lock' });
    expect(again.storeDir).toBe('/nix/store');
  });

  it('tells a lock from a newer planner apart from a damaged one, and keeps it', () => {
    const file = path.join(dir, 'planner.lock.json');
    const newer = lockOf().replace('"lockVersion": 1', '"lockVersion": 2');
    writeFileSync(file, newer);
    const r = planner(['plan', '-C', dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('[E_LOCK_PARSE]');
    expect(r.stderr).toContain('lockVersion 2 is not supported (this planner reads 1): it was written by a newer planner');
    expect(r.stderr).toContain('hint: upgrade planner');
    expect(readFileSync(file, 'utf8')).toBe(newer);
    writeFileSync(file, newer.replace('"lockVersion": 2', '"lockVersion": 1'));
  });

  it('stops quietly when the reader of --json goes away (| head)', () => {
    const r = spawnSync('bash', ['-c', `node ${plannerBin} plan -C ${dir} --json | head -c 10 >/dev/null; exit \${PIPESTATUS[0]}`], { encoding: 'utf8' });
    expect(r.stderr).not.toContain('EPIPE');
    expect(r.status, r.stderr).toBe(0);
  });

  it('refuses a budget with no room for store layers', () => {
    const r = planner(['plan', '-C', dir, '--max-layers', '1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('[E_BUDGET]');
  });
});

describe('churnWeight in planner.config.json', () => {
  let ws: string;
  const setWeight = (weight: unknown): void => {
    const config = { services: ['services/*/image.json'], ...(weight === undefined ? {} : { churnWeight: weight }) };
    writeFileSync(path.join(ws, 'planner.config.json'), JSON.stringify(config));
  };
  const bytesAt20 = (): number => json<PlanJson>(planner(['plan', '-C', ws, '--json', '--max-layers', '20', '--no-lock'])).summary.registryBytes;

  beforeAll(() => {
    ws = path.join(tempDir('planner-churn-'), 'ws');
    cpSync(path.join(sharedData, 'debian-120'), ws, { recursive: true });
  });

  it('0 plans for storage alone: fewer registry bytes at a tight budget than the default', () => {
    setWeight(undefined);
    const byDefault = bytesAt20();
    setWeight(0);
    const storageAlone = bytesAt20();
    expect(json<PlanJson>(planner(['plan', '-C', ws, '--json', '--no-lock'])).summary.churnWeight).toBe(0);
    expect(storageAlone).toBeLessThan(byDefault);
    setWeight(DEFAULT_CHURN_WEIGHT);
    expect(bytesAt20()).toBe(byDefault);
  });

  it('plan, report and check all plan with it', () => {
    const lock = path.join(ws, 'planner.lock.json');
    const saved = path.join(path.dirname(ws), 'storage-alone.lock.json');
    const config = (weight?: number): void =>
      writeFileSync(path.join(ws, 'planner.config.json'), JSON.stringify({ services: ['services/*/image.json'], maxLayers: 20, ...(weight === undefined ? {} : { churnWeight: weight }) }));
    const reported = (): number => json<{ strategies: { id: string; registryBytes: number }[] }>(planner(['report', '-C', ws, '--json'])).strategies.find((s) => s.id === 'planner')!.registryBytes;
    config(0);
    const planned = json<PlanJson>(planner(['plan', '-C', ws, '--json', '--no-lock']));
    const auto = planned.summary.baselines.find((b) => b.kind === 'auto-layer')!.registryBytes;
    cpSync(lock, saved);
    rmSync(lock);
    // No lock to keep: report and check plan afresh, under the configured weight.
    expect(reported()).toBe(planned.summary.registryBytes);
    const check = json<{ savings: { vsAutoLayer: { head: number } } }>(planner(['check', '-C', ws, '--base-lock', saved, '--no-lock-check', '--json']));
    expect(check.savings.vsAutoLayer.head).toBeCloseTo(auto / planned.summary.registryBytes, 6);
    config(undefined);
    expect(reported()).toBeGreaterThan(planned.summary.registryBytes);
  });

  it('rejects a negative weight, naming the file and the field', () => {
    setWeight(-1);
    const r = planner(['plan', '-C', ws]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('[E_CONFIG_INVALID]');
    expect(r.stderr).toContain('churnWeight');
  });
});
