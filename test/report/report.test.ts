import { describe, expect, it } from 'vitest';
import { json, planner, tempDir } from '../helpers/cli.js';
import { commitAll, repoWithBase, smallWorkspace, writeLock, writeWorkspace, type WorkspaceDef } from './fixtures.js';

/** `planner report` on the small closure-file fixture (figures worked out by hand below). */

// glibc 10 MB, zlib 0.3, openssl 6, python 40, nodejs 50, app-a 1, app-b 2, app-c 0.5.
const UNIQUE = 109_800_000;
const CLOSURES = { 'a:latest': 57_300_000, 'b:latest': 68_300_000, 'c:latest': 56_800_000 };

/** The documented top-level fields of `planner report --json` (docs/report.md). */
const REPORT_FIELDS = ['schemaVersion', 'workspace', 'base', 'totals', 'strategies', 'savings', 'images', 'sharedLayers', 'layers', 'bumps'];

interface Report {
  schemaVersion: number;
  base: unknown;
  totals: { images: number; uniquePaths: number; uniqueBytes: number; closureBytes: number; layers: number };
  strategies: { id: string; label: string; layers: number; registryBytes: number; coldPullBytes: number; pushBytes: number | null }[];
  savings: { baseline: string; registry: { baselineBytes: number; plannerBytes: number; savedBytes: number; ratio: number }; push: { ratio: number; baselineBytes: number } | null }[];
  images: { ref: string; paths: number; closureBytes: number; layers: number; storeBudget: number; sharedBytes: number; privateBytes: number; pullBytes: number | null }[];
  sharedLayers: { id: string; narSize: number; images: string[]; savedBytes: number; largestPaths: string[] }[];
  layers: { id: string; position: number; narSize: number; images: string[] }[];
}

function strategy(report: Report, id: string) {
  return report.strategies.find((s) => s.id === id)!;
}

async function addServiceRepo(): Promise<string> {
  const base = smallWorkspace();
  const dir = await repoWithBase(tempDir('planner-report-'), base);
  const head: WorkspaceDef = {
    ...base,
    pkgs: [...base.pkgs, { name: 'app-d-1.0', narSize: 700_000, deps: ['python3-3.11'] }],
    services: [...base.services, { name: 'd', roots: ['app-d-1.0'] }],
  };
  writeWorkspace(dir, head);
  await writeLock(dir);
  commitAll(dir, 'add d');
  return dir;
}

describe('planner report', () => {
  it('compares the plan with every baseline and the lower bound', async () => {
    const dir = await repoWithBase(tempDir('planner-report-'), smallWorkspace());
    const r = planner(['report', '--json'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const report = json<Report>(r);
    expect(Object.keys(report)).toEqual(REPORT_FIELDS);
    expect(report.schemaVersion).toBe(1);
    expect(report.base).toBeNull();
    expect(report.totals).toEqual({ images: 3, uniquePaths: 8, uniqueBytes: UNIQUE, closureBytes: 182_400_000, layers: 6 });
    expect(report.strategies.map((s) => s.id)).toEqual(['planner', 'single', 'popularity', 'auto-layer', 'lower-bound']);
    // The planner stores every path once: python (a, c) and the glibc/openssl/zlib layer (all) are shared.
    expect(strategy(report, 'planner')).toMatchObject({ layers: 6, registryBytes: UNIQUE, coldPullBytes: UNIQUE, pushBytes: null });
    expect(strategy(report, 'single')).toMatchObject({ layers: 3, registryBytes: 182_400_000, coldPullBytes: 182_400_000 });
    expect(strategy(report, 'lower-bound')).toMatchObject({ registryBytes: UNIQUE });
    // Per-image baselines with 3 store layers: popularity stores python (40 MB) and the
    // rest of one closure twice over; auto-layer stores openssl + zlib (6.3 MB) twice.
    expect(strategy(report, 'popularity').registryBytes).toBe(150_400_000);
    expect(strategy(report, 'auto-layer').registryBytes).toBe(116_100_000);
    const auto = report.savings.find((s) => s.baseline === 'auto-layer')!;
    expect(auto.registry).toEqual({ baselineBytes: 116_100_000, plannerBytes: UNIQUE, savedBytes: 6_300_000, ratio: 116_100_000 / UNIQUE });
    expect(auto.push).toBeNull();
    for (const image of report.images) {
      expect(image.closureBytes).toBe(CLOSURES[image.ref as keyof typeof CLOSURES]);
      expect(image.sharedBytes + image.privateBytes).toBe(image.closureBytes);
      expect(image).toMatchObject({ layers: 3, storeBudget: 3, pullBytes: null });
    }
    expect(report.images.map((i) => [i.ref, i.sharedBytes, i.privateBytes])).toEqual([
      ['a:latest', 56_300_000, 1_000_000],
      ['b:latest', 16_300_000, 52_000_000],
      ['c:latest', 56_300_000, 500_000],
    ]);
    expect(report.sharedLayers.map((l) => [l.narSize, l.images.length, l.savedBytes])).toEqual([
      [40_000_000, 2, 40_000_000],
      [16_300_000, 3, 32_600_000],
    ]);
    expect(report.layers.reduce((s, l) => s + l.narSize, 0)).toBe(UNIQUE);

    const table = planner(['report'], { cwd: dir });
    expect(table.code).toBe(0);
    expect(table.stdout).toContain(
      '104.7 MiB in the registry for 3 images: 1.06x less than per-image buildLayeredImage (auto-layer), 1.66x less than one layer per image, 0.0% above the lower bound.',
    );
    expect(table.stdout).toMatch(/per-image auto-layer\s+6\s+110\.7 MiB\s+1\.06x\s+110\.7 MiB/);
    // A titled block that names its unit (build prints compressed bytes); no layer count for
    // the lower bound (it has no budget); the budget column says what it counts.
    expect(table.stdout.split('\n').slice(0, 2)).toEqual(['Savings report (sizes: uncompressed NAR bytes)', '='.repeat(46)]);
    expect(table.stdout).toMatch(/lower bound: each path once\s+-\s+104\.7 MiB\s+1\.00x\s+104\.7 MiB/);
    expect(table.stdout).toMatch(/image\s+closure\s+layers used\/budget\s+shared\s+private\n/);
    expect(table.stdout).toMatch(/a:latest\s+\S+ MiB\s+3\/3\s/);
    expect(table.stdout).toContain('layers used/budget: store layers; the budget is maxLayers minus 1 customisation layer and any base image layers.');
  });

  it("--base measures the update push of every strategy and each image's pull", async () => {
    const dir = await addServiceRepo();
    const r = planner(['report', '--base', 'HEAD~1', '--json'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const report = json<Report>(r);
    expect(report.base).toMatchObject({ ref: 'HEAD~1', lockFile: 'planner.lock.json', hasClosures: true });
    // The lock keeps every old layer; d gets python and the base layer from it, plus its own.
    expect(strategy(report, 'planner').pushBytes).toBe(700_000);
    expect(strategy(report, 'lower-bound').pushBytes).toBe(700_000);
    // One layer per image: d's whole closure is new.
    expect(strategy(report, 'single').pushBytes).toBe(57_000_000);
    const single = report.savings.find((s) => s.baseline === 'single')!;
    expect(single.push).toMatchObject({ baselineBytes: 57_000_000, ratio: 57_000_000 / 700_000 });
    expect(report.images.map((i) => [i.ref, i.pullBytes])).toEqual([
      ['a:latest', 0],
      ['b:latest', 0],
      ['c:latest', 0],
      ['d:latest', 57_000_000],
    ]);
    const md = planner(['report', '--base', 'HEAD~1', '--markdown'], { cwd: dir });
    expect(md.code).toBe(0);
    await expect(md.stdout).toMatchFileSnapshot('__snapshots__/report-service-added.md');
  });

  it("--base-lock measures the planner's push; baselines need the base closures", async () => {
    const dir = await addServiceRepo();
    const r = planner(['report', '--base-lock', 'planner.lock.json', '--json'], { cwd: dir });
    const report = json<Report>(r);
    expect(strategy(report, 'planner').pushBytes).toBe(0);
    expect(strategy(report, 'lower-bound').pushBytes).toBe(0);
    expect(strategy(report, 'auto-layer').pushBytes).toBeNull();
  });

  it('bad arguments exit 2, a failed write 1', async () => {
    const dir = await repoWithBase(tempDir('planner-report-'), smallWorkspace());
    const top = planner(['report', '--top', '-1'], { cwd: dir });
    expect(top.code).toBe(2);
    expect(top.stderr).toContain('[E_USAGE] --top must be a whole number of at least 0, got "-1"');
    const html = planner(['report', '--html', 'README.md/x.html'], { cwd: dir });
    expect(html.code).toBe(1);
    expect(html.stderr).toContain(`[E_WRITE] cannot write ${dir}/README.md/x.html`);
  });
});
