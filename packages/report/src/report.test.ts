import { describe, expect, it } from 'vitest';
import { buildSharedGraph } from '@planner/graph';
import { baselinePlan, layerId, plan, type Plan, type PlanLayer } from '@planner/layering';
import {
  buildCheck,
  buildReport,
  checkMarkdown,
  diffLayers,
  imagePullBytes,
  libraryBumps,
  parseBytes,
  parseGrowth,
  pushBytes,
  registryBytes,
  reportHtml,
  reportMarkdown,
  strategyPlans,
} from './index.js';

const p = (name: string): string => `/nix/store/${name.padEnd(32, '0').slice(0, 32)}-${name}`;

function layer(names: string[], sizes: Record<string, number>, images: string[]): PlanLayer {
  const paths = names.map(p).sort();
  return { id: layerId(paths), paths, narSize: names.reduce((s, n) => s + sizes[n]!, 0), images };
}

const SIZES = { libc: 100, ssl: 50, ssl2: 80, py: 400, app: 10, app2: 20 };

/** Two images: x = libc, ssl, app; y = libc, ssl, py, app2 (`ssl2` when bumped: a new path, 80 bytes). */
function graph(extra: { bump?: boolean } = {}) {
  const ssl = extra.bump ? 'ssl2' : 'ssl';
  const info = (name: string, refs: string[] = []) => ({ path: p(name), narHash: `sha256-${name}`, narSize: SIZES[name as keyof typeof SIZES], references: refs.map(p) });
  const x = new Map([info('libc'), info(ssl, ['libc']), info('app', [ssl])].map((e) => [e.path, e]));
  const y = new Map([info('libc'), info(ssl, ['libc']), info('py', [ssl]), info('app2', ['py'])].map((e) => [e.path, e]));
  return buildSharedGraph(
    new Map([
      ['x:1', x],
      ['y:1', y],
    ]),
    [
      { ref: 'x:1', name: 'x', tag: '1', roots: [p('app')], maxLayers: 3, baseLayers: 0 },
      { ref: 'y:1', name: 'y', tag: '1', roots: [p('app2')], maxLayers: 3, baseLayers: 0 },
    ],
  );
}

describe('measures', () => {
  it('counts identical layers once in storage, pushes and pulls', () => {
    const shared = layer(['libc', 'ssl'], SIZES, ['x:1', 'y:1']);
    const a = layer(['app'], SIZES, ['x:1']);
    const b = layer(['py', 'app2'], SIZES, ['y:1']);
    const head: Plan = {
      maxLayers: 3,
      storeDir: '/nix/store',
      layers: [shared, a, b],
      images: [
        { name: 'x:1', layers: [shared.id, a.id] },
        { name: 'y:1', layers: [shared.id, b.id] },
      ],
    };
    expect(registryBytes(head)).toBe(580);
    const base: Plan = { ...head, layers: [shared, a], images: [{ name: 'x:1', layers: [shared.id, a.id] }] };
    expect(pushBytes(head, base)).toBe(420);
    expect(pushBytes(head, undefined)).toBe(580);
    expect(imagePullBytes(head, base, 'y:1')).toBe(570);
    expect(imagePullBytes(head, base, 'x:1')).toBe(0);
    const diff = diffLayers(head, base);
    expect([diff.added.length, diff.removed.length, diff.unchanged.length]).toEqual([1, 0, 2]);
  });

  it('parses sizes and growth limits', () => {
    expect(parseBytes('104857600', '--x')).toBe(104_857_600);
    expect(parseBytes('100MiB', '--x')).toBe(104_857_600);
    expect(parseBytes('1.5 GB', '--x')).toBe(1_500_000_000);
    expect(parseGrowth('10 %', '--x')).toBe('10%');
    expect(parseGrowth('2kb', '--x')).toBe(2000);
    expect(() => parseBytes('lots', '--max-push-bytes')).toThrow(/--max-push-bytes "lots"/);
  });
});

describe('report', () => {
  it('ranks shared layers by the bytes sharing saves, not by size', () => {
    // big (10 bytes) is in 2 images: sharing saves 10; small (6 bytes) is in all 4: saves 18.
    const sizes = { big: 10, small: 6, a: 1, b: 1, c: 1, d: 1 };
    const info = (name: string) => ({ path: p(name), narHash: `sha256-${name}`, narSize: sizes[name as keyof typeof sizes], references: [] });
    const refs = ['a', 'b', 'c', 'd'];
    const closures = new Map(refs.map((r) => [`${r}:1`, new Map([info(r), info('small'), ...(r === 'a' || r === 'b' ? [info('big')] : [])].map((e) => [e.path, e]))]));
    const g = buildSharedGraph(
      closures,
      refs.map((r) => ({ ref: `${r}:1`, name: r, tag: '1', roots: [p(r)], maxLayers: 10, baseLayers: 0 })),
    );
    const report = buildReport({ workspace: '/w', graph: g, plans: strategyPlans(g) });
    expect(report.sharedLayers.map((l) => [l.narSize, l.images.length, l.savedBytes])).toEqual([
      [6, 4, 18],
      [10, 2, 10],
    ]);
  });

  it('is deterministic and agrees across its three renderings', () => {
    const g = graph();
    const plans = strategyPlans(g);
    const one = buildReport({ workspace: '/w', graph: g, plans });
    const two = buildReport({ workspace: '/w', graph: graph(), plans: strategyPlans(graph()) });
    expect(JSON.stringify(one)).toBe(JSON.stringify(two));
    expect(one.strategies.find((s) => s.id === 'lower-bound')!.registryBytes).toBe(580);
    expect(one.strategies.find((s) => s.id === 'single')!.registryBytes).toBe(160 + 570);
    expect(reportMarkdown(one)).toBe(reportMarkdown(two));
    expect(reportHtml(one)).toContain(`data-figure="planner.registryBytes" data-bytes="${one.strategies[0]!.registryBytes}"`);
  });
});

describe('library bumps', () => {
  // x, y, z all have libc; zlib is in x and y (and zdev, which depends on it), tls in y and
  // z, xlib in x alone.
  const info = (name: string, size: number, refs: string[] = []) => ({ path: p(name), narHash: `sha256-${name}`, narSize: size, references: refs.map(p) });
  const all = { libc: info('libc', 100), zlib: info('zlib', 10, ['libc']), zdev: info('zdev', 30, ['zlib']), tls: info('tls', 20, ['libc']), xlib: info('xlib', 7) };
  const app = (name: string, refs: string[]) => info(name, 5, refs);
  const closure = (...entries: ReturnType<typeof info>[]) => new Map(entries.map((e) => [e.path, e]));
  const g = buildSharedGraph(
    new Map([
      ['x:1', closure(all.libc, all.zlib, all.zdev, all.xlib, app('ax', ['zdev', 'xlib']))],
      ['y:1', closure(all.libc, all.zlib, all.zdev, all.tls, app('ay', ['zdev', 'tls']))],
      ['z:1', closure(all.libc, all.tls, app('az', ['tls']))],
    ]),
    ['x', 'y', 'z'].map((n) => ({ ref: `${n}:1`, name: n, tag: '1', roots: [p(`a${n}`)], maxLayers: 10, baseLayers: 0 })),
  );

  it('picks the paths in the most images short of all, most dependents first, and measures each strategy', () => {
    const plans = strategyPlans(g);
    const bumps = libraryBumps(g, plans, 5);
    // libc is in every image and the apps are roots. In two images: zlib (4 dependents with
    // itself), then tls and zdev (3 each: by path); then xlib, in one image.
    expect(bumps.map((b) => [b.path, b.images, b.changedPaths, b.changedBytes])).toEqual([
      [p('zlib'), 2, 4, 10 + 30 + 5 + 5],
      [p('tls'), 2, 3, 20 + 5 + 5],
      [p('zdev'), 2, 3, 30 + 5 + 5],
      [p('xlib'), 1, 2, 7 + 5],
    ]);
    const zlib = bumps[0]!;
    const by = (id: string) => zlib.push.find((x) => x.id === id)!;
    expect(zlib.push.map((x) => x.id)).toEqual(['planner', 'single', 'popularity', 'auto-layer', 'lower-bound']);
    // One layer per image: x's and y's whole closures go again.
    expect(by('single')).toEqual({ id: 'single', bytes: 152 + 165, ratioToChanged: 317 / 50 });
    expect(by('lower-bound')).toEqual({ id: 'lower-bound', bytes: 50, ratioToChanged: 1 });
    // The others from their plans: every distinct layer that some image uses and that holds a changed path, once.
    const changed = new Set([p('zlib'), p('zdev'), p('ax'), p('ay')]);
    for (const id of ['planner', 'popularity', 'auto-layer'] as const) {
      const used = new Set(plans[id].images.flatMap((i) => i.layers));
      const touched = new Map(plans[id].layers.filter((l) => used.has(l.id) && l.paths.some((x) => changed.has(x))).map((l) => [l.id, l.narSize]));
      const bytes = [...touched.values()].reduce((sum, size) => sum + size, 0);
      expect(by(id)).toEqual({ id, bytes, ratioToChanged: bytes / 50 });
    }
    expect(libraryBumps(g, plans, 0)).toEqual([]);
    expect(libraryBumps(g, plans, 1).map((b) => b.path)).toEqual([p('zlib')]);
  });
});

describe('check', () => {
  it('applies each threshold and names the failing numbers', () => {
    const base = graph();
    const head = graph({ bump: true });
    const basePlan = plan(base);
    const headPlan = plan(head, { previous: basePlan });
    const input = {
      workspace: '/w',
      graph: head,
      plan: headPlan,
      autoLayer: baselinePlan(head, 'auto-layer'),
      base: { info: { ref: 'main', commit: null, lockFile: null, hasClosures: true }, plan: basePlan, autoLayer: baselinePlan(base, 'auto-layer') },
      lock: { file: 'planner.lock.json', committed: basePlan, equal: false },
    };
    const check = buildCheck({ ...input, thresholds: { maxPushBytes: 10, maxClosureGrowth: '10%', minSavingsVsAutoLayer: 1 } });
    expect(check.passed).toBe(false);
    const by = (name: string) => check.checks.find((c) => c.name === name)!;
    expect(by('lock-drift')).toMatchObject({ status: 'fail', code: 'E_LOCK_DRIFT' });
    expect(by('max-push-bytes')).toMatchObject({ status: 'fail', limit: 10, actual: check.pushBytes, code: 'E_CHECK_FAILED' });
    // ssl 50 -> 80: x 160 -> 190 (+18.75%), y 570 -> 600 (+5.3%).
    expect(by('max-closure-growth')).toMatchObject({ status: 'fail', images: ['x:1'], actual: 30 });
    expect(by('min-savings-vs-auto-layer').status).toBe('pass');
    expect(check.images.map((i) => [i.ref, i.closure.growthBytes])).toEqual([
      ['x:1', 30],
      ['y:1', 30],
    ]);
    const relaxed = buildCheck({ ...input, lock: { ...input.lock, committed: headPlan, equal: true }, thresholds: { maxClosureGrowth: 30 } });
    expect(relaxed.passed).toBe(true);
    expect(checkMarkdown(relaxed)).toContain('### planner check: passed');
  });
});
