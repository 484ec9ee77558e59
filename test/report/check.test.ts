import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { json, planner, tempDir } from '../helpers/cli.js';
import { closureBytes, commitAll, repoWithBase, smallWorkspace, writeLock, writeWorkspace, type WorkspaceDef } from './fixtures.js';

/** `planner check` on git fixtures: a base commit and a head commit of a closure-file workspace. */

interface Check {
  passed: boolean;
  pushBytes: number;
  checks: { name: string; status: string; message: string; limit: unknown; actual: number | null; images?: string[]; hint?: string; code?: string }[];
  layers: { added: { narSize: number }[]; removed: { narSize: number }[]; unchanged: number; addedBytes: number; removedBytes: number };
  images: {
    ref: string;
    status: string;
    pullBytes: number;
    layers: { base: number | null; head: number | null; lock: number | null; storeBudget: number | null };
    closure: { baseBytes: number | null; headBytes: number | null; growthBytes: number | null; growthRatio: number | null };
  }[];
  savings: { vsAutoLayer: { base: number | null; head: number; change: number | null } };
  lock: { status: string; imagesChanged: string[]; layersOnlyInLock: number; layersOnlyInPlan: number; differences: string[] };
  base: { ref: string | null; commit: string | null; lockFile: string | null; hasClosures: boolean };
}

function outcome(check: Check, name: string) {
  const found = check.checks.find((c) => c.name === name);
  if (!found) throw new Error(`no check ${name}`);
  return found;
}

function image(check: Check, ref: string) {
  const found = check.images.find((i) => i.ref === ref);
  if (!found) throw new Error(`no image ${ref}`);
  return found;
}

/** A repository with `base` committed (with its lock), then `head` committed on top. */
async function scenario(base: WorkspaceDef, head: WorkspaceDef, options: { relock?: boolean; subdir?: string } = {}): Promise<string> {
  const root = tempDir('planner-check-');
  const dir = await repoWithBase(root, base, options.subdir ? { subdir: options.subdir } : {});
  writeWorkspace(dir, head);
  if (options.relock !== false) await writeLock(dir);
  commitAll(root, 'head');
  return dir;
}

function addService(base: WorkspaceDef): WorkspaceDef {
  return {
    ...base,
    pkgs: [...base.pkgs, { name: 'app-d-1.0', narSize: 700_000, deps: ['python3-3.11'] }],
    services: [...base.services, { name: 'd', roots: ['app-d-1.0'] }],
  };
}

/** openssl 3.0 -> 3.1 (6.5 MB), and everything that depends on it rebuilt (new hashes, same sizes). */
function bumpOpenssl(base: WorkspaceDef): WorkspaceDef {
  const rebuilt = new Set(['python3-3.11', 'nodejs-20', 'app-a-1.0', 'app-b-1.0', 'app-c-1.0']);
  return {
    ...base,
    pkgs: base.pkgs.map((p) => {
      if (p.name === 'openssl-3.0') return { name: 'openssl-3.1', narSize: 6_500_000, deps: ['glibc-2.37'] };
      const deps = p.deps?.map((d) => (d === 'openssl-3.0' ? 'openssl-3.1' : d));
      return rebuilt.has(p.name) ? { ...p, ...(deps ? { deps } : {}), salt: 'openssl-3.1' } : p;
    }),
  };
}

/** app-a gains a 30 MB dependency. */
function growA(base: WorkspaceDef): WorkspaceDef {
  return {
    ...base,
    pkgs: [...base.pkgs.map((p) => (p.name === 'app-a-1.0' ? { ...p, deps: [...p.deps!, 'libbig-1.0'], salt: 'big' } : p)), { name: 'libbig-1.0', narSize: 30_000_000, deps: ['glibc-2.37'] }],
  };
}

const NEW_OPENSSL_PATHS = 6_500_000 + 40_000_000 + 50_000_000 + 1_000_000 + 2_000_000 + 500_000;

describe('planner check', () => {
  it('a service added: only its own layer is pushed, the other images pull nothing', async () => {
    const base = smallWorkspace();
    const dir = await scenario(base, addService(base));
    const r = planner(['check', '--base', 'HEAD~1', '--json'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const check = json<Check>(r);
    expect(check.passed).toBe(true);
    expect(check.pushBytes).toBe(700_000);
    expect(check.layers.addedBytes).toBe(700_000);
    expect(check.layers.added).toHaveLength(1);
    expect(check.layers.removed).toHaveLength(0);
    expect(image(check, 'd:latest')).toMatchObject({
      status: 'added',
      pullBytes: closureBytes(addService(base), 'd'),
      layers: { base: null, head: 3, storeBudget: 3 },
      closure: { baseBytes: null, headBytes: 57_000_000, growthBytes: null, growthRatio: null },
    });
    for (const ref of ['a:latest', 'b:latest', 'c:latest']) {
      expect(image(check, ref)).toMatchObject({ status: 'unchanged', pullBytes: 0, closure: { growthBytes: 0 } });
    }
    expect(outcome(check, 'lock-drift').status).toBe('pass');
    expect(check.lock.status).toBe('ok');
    expect(check.base.ref).toBe('HEAD~1');
    expect(check.base.commit).toMatch(/^[0-9a-f]{40}$/);
    expect(check.base.hasClosures).toBe(true);
  });

  it('a dependency bumped: closures grow by the new size, the push is at least the new paths', async () => {
    const base = smallWorkspace();
    const head = bumpOpenssl(base);
    const dir = await scenario(base, head);
    const check = json<Check>(planner(['check', '--base', 'HEAD~1', '--json', '--max-closure-growth', '1%'], { cwd: dir }));
    expect(check.passed).toBe(true);
    for (const [ref, before] of [
      ['a:latest', 57_300_000],
      ['b:latest', 68_300_000],
      ['c:latest', 56_800_000],
    ] as const) {
      const i = image(check, ref);
      expect(i.status).toBe('changed');
      expect(i.closure).toEqual({ baseBytes: before, headBytes: before + 500_000, growthBytes: 500_000, growthRatio: 500_000 / before });
    }
    // Every rebuilt path is new; glibc and zlib did not change and sit in layers of their own.
    expect(check.pushBytes).toBeGreaterThanOrEqual(NEW_OPENSSL_PATHS);
    expect(check.pushBytes).toBe(check.layers.added.reduce((s, l) => s + l.narSize, 0));
    expect(outcome(check, 'max-closure-growth')).toMatchObject({ status: 'pass', limit: '1%', actual: 500_000 });

    const tight = planner(['check', '--base', 'HEAD~1', '--max-push-bytes', '50MB'], { cwd: dir });
    expect(tight.code).toBe(1);
    expect(tight.stdout).toContain(`FAIL  max-push-bytes [E_CHECK_FAILED]: this change uploads`);
    expect(tight.stdout).toContain(`over the limit of 47.7 MiB (50,000,000 bytes)`);
    const loose = json<Check>(planner(['check', '--base', 'HEAD~1', '--json', '--max-push-bytes', '1GiB'], { cwd: dir }));
    expect(outcome(loose, 'max-push-bytes')).toMatchObject({ status: 'pass', limit: 1024 ** 3, actual: check.pushBytes });
    // The limit is inclusive: exactly the push passes, a byte less fails.
    expect(planner(['check', '--base', 'HEAD~1', '--max-push-bytes', String(check.pushBytes)], { cwd: dir }).code).toBe(0);
    expect(planner(['check', '--base', 'HEAD~1', '--max-push-bytes', String(check.pushBytes - 1)], { cwd: dir }).code).toBe(1);
  });

  it('a closure growing past its threshold fails and names the image and the numbers', async () => {
    const base = { ...smallWorkspace(), config: { maxLayers: 4, check: { maxClosureGrowth: '10%' } } };
    const dir = await scenario(base, growA(base));
    const r = planner(['check', '--base', 'HEAD~1'], { cwd: dir });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toContain('FAIL  max-closure-growth [E_CHECK_FAILED]: 1 image grew by more than 10%: a:latest 54.6 MiB -> 83.3 MiB (+28.6 MiB (30,000,000 bytes), +52.4%)');
    expect(r.stdout).toContain('planner check failed: max-closure-growth');
    const check = json<Check>(planner(['check', '--base', 'HEAD~1', '--json'], { cwd: dir }));
    expect(outcome(check, 'max-closure-growth')).toMatchObject({ status: 'fail', limit: '10%', actual: 30_000_000, images: ['a:latest'], code: 'E_CHECK_FAILED' });
    expect(image(check, 'a:latest').closure).toEqual({ baseBytes: 57_300_000, headBytes: 87_300_000, growthBytes: 30_000_000, growthRatio: 30_000_000 / 57_300_000 });
    expect(image(check, 'c:latest').closure.growthBytes).toBe(0);
    // Flags override the config: a percentage, then bytes (equal to the growth is within).
    expect(planner(['check', '--base', 'HEAD~1', '--max-closure-growth', '60%'], { cwd: dir }).code).toBe(0);
    // A percentage is of the base closure: +52% of the base (34% of the head) is over 40%.
    expect(planner(['check', '--base', 'HEAD~1', '--max-closure-growth', '40%'], { cwd: dir }).code).toBe(1);
    expect(planner(['check', '--base', 'HEAD~1', '--max-closure-growth', '29999999'], { cwd: dir }).code).toBe(1);
    expect(planner(['check', '--base', 'HEAD~1', '--max-closure-growth', '30MB'], { cwd: dir }).code).toBe(0);
  });

  it('an image over its layer budget fails the budget check', async () => {
    const base = smallWorkspace();
    const head: WorkspaceDef = { ...base, services: base.services.map((s) => (s.name === 'a' ? { ...s, maxLayers: 3 } : s)) };
    // The lock is not re-planned: it still gives a:latest 3 store layers, the budget is now 2.
    const dir = await scenario(base, head, { relock: false });
    const r = planner(['check', '--base', 'HEAD~1', '--no-lock-check'], { cwd: dir });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toContain('FAIL  budget [E_CHECK_FAILED]: 1 image over its layer budget: a:latest has 3 store layers in the lock, budget 2');
    expect(r.stdout).toContain('skip  lock-drift: not checked (--no-lock-check)');
    const check = json<Check>(planner(['check', '--base', 'HEAD~1', '--json'], { cwd: dir }));
    expect(image(check, 'a:latest').layers).toEqual({ base: 3, head: 2, lock: 3, storeBudget: 2 });
    expect(outcome(check, 'budget')).toMatchObject({ status: 'fail', images: ['a:latest'], actual: 1 });
    expect(outcome(check, 'lock-drift')).toMatchObject({ status: 'fail', code: 'E_LOCK_DRIFT' });
    expect(check.lock.imagesChanged).toContain('a:latest');
    const off = planner(['check', '--base', 'HEAD~1', '--no-lock-check', '--no-fail-on-budget-exceeded', '--json'], { cwd: dir });
    expect(off.code).toBe(0);
    expect(outcome(json<Check>(off), 'budget').status).toBe('skip');
    // The same from planner.config.json's check section.
    const configFile = path.join(dir, 'planner.config.json');
    const config = readFileSync(configFile, 'utf8');
    writeFileSync(configFile, JSON.stringify({ ...JSON.parse(config), check: { failOnBudgetExceeded: false } }));
    const fromConfig = planner(['check', '--base', 'HEAD~1', '--no-lock-check', '--json'], { cwd: dir });
    expect(fromConfig.code, fromConfig.stderr).toBe(0);
    expect(outcome(json<Check>(fromConfig), 'budget').status).toBe('skip');
    writeFileSync(configFile, config);
    // planner plan re-plans within the budget.
    await writeLock(dir);
    const fixed = json<Check>(planner(['check', '--base', 'HEAD~1', '--json'], { cwd: dir }));
    expect(fixed.passed).toBe(true);
    expect(image(fixed, 'a:latest').layers).toEqual({ base: 3, head: 2, lock: 2, storeBudget: 2 });
  });

  it('lock drift fails like a frozen lockfile and names the fixing command', async () => {
    const base = smallWorkspace();
    const head: WorkspaceDef = { ...base, pkgs: base.pkgs.map((p) => (p.name === 'app-c-1.0' ? { ...p, salt: 'rebuilt' } : p)) };
    const dir = await scenario(base, head, { relock: false });
    const r = planner(['check', '--base', 'HEAD~1'], { cwd: dir });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toContain(
      'FAIL  lock-drift [E_LOCK_DRIFT]: planner.lock.json differs from what planner plan writes: 1 image laid out differently (c:latest), 1 layer only in the lock, 1 only in the plan',
    );
    expect(r.stdout).toContain('hint: run planner plan, then commit planner.lock.json');
    const check = json<Check>(planner(['check', '--base', 'HEAD~1', '--json'], { cwd: dir }));
    expect(check.lock).toEqual({ file: 'planner.lock.json', status: 'drift', imagesChanged: ['c:latest'], layersOnlyInLock: 1, layersOnlyInPlan: 1, differences: [] });
    expect(check.pushBytes).toBe(500_000);
    await writeLock(dir);
    expect(planner(['check', '--base', 'HEAD~1'], { cwd: dir }).code).toBe(0);
  });

  it('lock drift counts each side apart: a removed service leaves layers only in the lock', async () => {
    const base = smallWorkspace();
    const head: WorkspaceDef = { ...base, services: base.services.filter((s) => s.name !== 'c') };
    const dir = await scenario(base, head, { relock: false });
    const check = json<Check>(planner(['check', '--base', 'HEAD~1', '--json'], { cwd: dir }));
    // c's own package had a layer of its own; nothing new is planned.
    expect(check.lock).toMatchObject({ status: 'drift', layersOnlyInLock: 1, layersOnlyInPlan: 0 });
  });

  it('lock drift that changes no layout says what differs: a one-off --max-layers, an edited layer size', async () => {
    const base = smallWorkspace();
    const dir = await scenario(base, base, { relock: false });
    // The lock keeps every layer at a larger one-off budget; only its maxLayers differs.
    const planned = planner(['plan', '--max-layers', '9'], { cwd: dir });
    expect(planned.code, planned.stderr).toBe(0);
    const r = planner(['check', '--base', 'HEAD~1'], { cwd: dir });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toContain("lock-drift [E_LOCK_DRIFT]: planner.lock.json differs from what planner plan writes: it was planned with maxLayers 9, this tree's config and manifests give 4");
    expect(r.stdout).toContain('hint: planner check plans with the budgets of planner.config.json and the manifests (planner plan --max-layers is a one-off)');
    const check = json<Check>(planner(['check', '--base', 'HEAD~1', '--json'], { cwd: dir }));
    expect(check.lock).toMatchObject({ status: 'drift', imagesChanged: [], layersOnlyInLock: 0, layersOnlyInPlan: 0 });
    expect(check.lock.differences).toHaveLength(1);
    // Back to the config's budget, then one layer's recorded size edited by hand.
    await writeLock(dir);
    expect(planner(['check', '--base', 'HEAD~1'], { cwd: dir }).code).toBe(0);
    const file = path.join(dir, 'planner.lock.json');
    const lock = JSON.parse(readFileSync(file, 'utf8')) as { layers: { narSize: number }[] };
    lock.layers[0]!.narSize += 1;
    writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);
    const edited = json<Check>(planner(['check', '--base', 'HEAD~1', '--json'], { cwd: dir }));
    expect(edited.passed).toBe(false);
    expect(edited.lock.differences).toEqual(['1 layer recorded with other paths or sizes than the same id has in the plan']);
  });

  it('deleting the lock that the base has fails the drift check; a base without one passes', async () => {
    const base = smallWorkspace();
    const dir = await scenario(base, base);
    execFileSync('git', ['rm', '-q', 'planner.lock.json'], { cwd: dir });
    commitAll(dir, 'drop the lock');
    const r = planner(['check', '--base', 'HEAD~1'], { cwd: dir });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toContain('FAIL  lock-drift [E_LOCK_DRIFT]: this change deletes planner.lock.json, which the base has');
    expect(r.stdout).toContain('hint: to re-plan from scratch, run planner plan --no-lock and commit the planner.lock.json it writes');
    expect(json<Check>(planner(['check', '--base', 'HEAD~1', '--json'], { cwd: dir })).lock.status).toBe('deleted');
    // Neither side has a lock: nothing is lost, the check passes with a hint.
    const root = tempDir('planner-check-');
    const none = await repoWithBase(root, base, { lock: false });
    const n = json<Check>(planner(['check', '--base', 'HEAD', '--json'], { cwd: none }));
    expect(n.lock.status).toBe('missing');
    expect(outcome(n, 'lock-drift').status).toBe('pass');
  });

  it('the savings threshold compares against per-image auto-layer', async () => {
    const base = smallWorkspace();
    const dir = await scenario(base, addService(base));
    const check = json<Check>(planner(['check', '--base', 'HEAD~1', '--json'], { cwd: dir }));
    const ratio = check.savings.vsAutoLayer.head;
    expect(ratio).toBeGreaterThan(1);
    expect(check.savings.vsAutoLayer.base).not.toBeNull();
    expect(check.savings.vsAutoLayer.change).toBeCloseTo(ratio - check.savings.vsAutoLayer.base!, 12);
    const r = planner(['check', '--base', 'HEAD~1', '--min-savings-vs-auto-layer', '2'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`FAIL  min-savings-vs-auto-layer [E_CHECK_FAILED]: registry storage ${ratio.toFixed(2)}x less than per-image auto-layer (buildLayeredImage), below the minimum 2.00x`);
    expect(planner(['check', '--base', 'HEAD~1', '--min-savings-vs-auto-layer', '1'], { cwd: dir }).code).toBe(0);
    // The minimum is inclusive: exactly the ratio passes.
    expect(planner(['check', '--base', 'HEAD~1', '--min-savings-vs-auto-layer', String(ratio)], { cwd: dir }).code).toBe(0);
  });

  it('--base-lock gives the same push as --base, without base closures', async () => {
    const base = smallWorkspace();
    const dir = await scenario(base, bumpOpenssl(base), { subdir: 'infra/images' });
    const root = path.resolve(dir, '../..');
    const viaGit = json<Check>(planner(['check', '--base', 'HEAD~1', '--json'], { cwd: dir }));
    expect(viaGit.base.lockFile).toBe('infra/images/planner.lock.json');
    const lockFile = path.join(tempDir(), 'base.lock.json');
    writeFileSync(lockFile, execFileSync('git', ['show', 'HEAD~1:infra/images/planner.lock.json'], { cwd: root }));
    const viaLock = json<Check>(planner(['check', '--base-lock', lockFile, '--json', '-C', dir]));
    expect(viaLock.pushBytes).toBe(viaGit.pushBytes);
    expect(viaLock.images).toEqual(viaGit.images);
    expect(viaLock.base).toEqual({ ref: null, commit: null, lockFile, hasClosures: false });
    expect(viaLock.savings.vsAutoLayer.base).toBeNull();
  });

  it("measures against the base's committed lock, what the base built, even when it is stale", async () => {
    const base = smallWorkspace();
    const root = tempDir('planner-check-');
    const dir = await repoWithBase(root, base);
    // The base adds service d without re-planning: its lock does not know d.
    writeWorkspace(dir, addService(base));
    commitAll(root, 'base: d, lock not re-planned');
    await writeLock(dir);
    commitAll(root, 'head: re-planned');
    const viaGit = json<Check>(planner(['check', '--base', 'HEAD~1', '--json', '--no-lock-check'], { cwd: dir }));
    const lockFile = path.join(tempDir(), 'base.lock.json');
    writeFileSync(lockFile, execFileSync('git', ['show', 'HEAD~1:planner.lock.json'], { cwd: root }));
    const viaLock = json<Check>(planner(['check', '--base-lock', lockFile, '--json', '--no-lock-check', '-C', dir]));
    expect(viaGit.pushBytes).toBe(viaLock.pushBytes);
    expect(viaGit.images.map((i) => [i.ref, i.status])).toEqual(viaLock.images.map((i) => [i.ref, i.status]));
    // d's own layer was never built from the base's lock: it is pushed now.
    expect(image(viaGit, 'd:latest').status).toBe('added');
    expect(viaGit.pushBytes).toBeGreaterThanOrEqual(700_000);
  });

  it('a base without planner counts every layer as new', async () => {
    const root = tempDir('planner-check-');
    execFileSync('git', ['init', '-q', '-b', 'main'], { cwd: root });
    writeFileSync(path.join(root, 'README.md'), 'before planner\n');
    commitAll(root, 'base');
    writeWorkspace(root, smallWorkspace());
    await writeLock(root);
    commitAll(root, 'adopt planner');
    const r = planner(['check', '--base', 'HEAD~1', '--json'], { cwd: root });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('HEAD~1 has no planner.config.json; every layer counts as new');
    const check = json<Check>(r);
    expect(check.pushBytes).toBe(109_800_000);
    expect(check.images.every((i) => i.status === 'added')).toBe(true);
  });

  it('appends the Markdown summary to $GITHUB_STEP_SUMMARY', async () => {
    const base = smallWorkspace();
    const dir = await scenario(base, growA(base));
    const summary = path.join(tempDir(), 'summary.md');
    writeFileSync(summary, '# earlier step\n');
    const r = planner(['check', '--base', 'HEAD~1', '--max-closure-growth', '10%', '--json'], { cwd: dir, env: { GITHUB_STEP_SUMMARY: summary } });
    expect(r.code).toBe(1);
    const md = planner(['check', '--base', 'HEAD~1', '--max-closure-growth', '10%', '--markdown'], { cwd: dir });
    expect(md.code).toBe(1);
    expect(readFileSync(summary, 'utf8')).toBe(`# earlier step\n${md.stdout}\n`);
    // A summary file that cannot be written costs a warning, not the verdict.
    const unwritable = path.join(tempDir(), 'no-such-dir', 'summary.md');
    const warned = planner(['check', '--base', 'HEAD~1', '--json'], { cwd: dir, env: { GITHUB_STEP_SUMMARY: unwritable } });
    expect(warned.code).toBe(0);
    expect(json<Check>(warned).passed).toBe(true);
    expect(warned.stderr).toContain(`warning: cannot append the summary to $GITHUB_STEP_SUMMARY (${unwritable})`);
    await expect(md.stdout).toMatchFileSnapshot('__snapshots__/check-closure-growth.md');
  });

  it('Markdown of a failing drift check', async () => {
    const base = smallWorkspace();
    const head: WorkspaceDef = { ...base, pkgs: base.pkgs.map((p) => (p.name === 'app-c-1.0' ? { ...p, salt: 'rebuilt' } : p)) };
    const dir = await scenario(base, head, { relock: false });
    const md = planner(['check', '--base', 'HEAD~1', '--markdown'], { cwd: dir });
    expect(md.code).toBe(1);
    await expect(md.stdout).toMatchFileSnapshot('__snapshots__/check-lock-drift.md');
  });

  it('usage and input errors exit 2', async () => {
    const base = smallWorkspace();
    const dir = await scenario(base, addService(base));
    const cases: [string[], string][] = [
      [['check'], '[E_USAGE] planner check needs a base: --base <git-ref> or --base-lock FILE'],
      [['check', '--base', 'no-such-branch'], '[E_GIT] --base no-such-branch: no such commit in'],
      [['check', '--base', 'HEAD~1', '--base-lock', 'x.json'], '[E_USAGE] --base and --base-lock are mutually exclusive'],
      [['check', '--base', 'HEAD~1', '--max-push-bytes', 'lots'], '[E_USAGE] --max-push-bytes "lots": expected a size'],
      [['check', '--base', 'HEAD~1', '--max-closure-growth', '-5%'], '[E_USAGE] --max-closure-growth "-5%": expected a size such as 50MiB or a share of the base closure such as 10%'],
      [['check', '--base-lock', 'missing.lock.json'], '[E_USAGE] --base-lock missing.lock.json: no such file'],
    ];
    for (const [args, message] of cases) {
      const r = planner(args, { cwd: dir });
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toContain(message);
    }
    const notRepo = tempDir();
    writeWorkspace(notRepo, base);
    const r = planner(['check', '--base', 'HEAD~1'], { cwd: notRepo });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('is not inside a git repository');
    // A broken manifest at the base is named as <ref>:<path>.
    const broken = await scenario(base, base);
    writeFileSync(path.join(broken, 'services/a/image.json'), '{ "name": ');
    commitAll(broken, 'break a');
    writeWorkspace(broken, base);
    commitAll(broken, 'fix a');
    const b = planner(['check', '--base', 'HEAD~1'], { cwd: broken });
    expect(b.code).toBe(2);
    expect(b.stderr).toContain('in --base HEAD~1: ');
    expect(b.stderr).toContain('HEAD~1:services/a/image.json');
  });
});
