/** Installing the CLI as a package gives a working `planner` binary. */
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { repoRoot, sharedData, tempDir } from '../helpers/cli.js';

it('pnpm pack + npm install -g gives a planner binary', () => {
  const packDir = tempDir('planner-pack-');
  const prefix = tempDir('planner-prefix-');
  execFileSync('bash', [path.join(repoRoot, 'scripts/pnpm.sh'), 'pack', '--pack-destination', packDir], {
    cwd: path.join(repoRoot, 'apps/planner'),
    stdio: 'pipe',
  });
  const tarball = readdirSync(packDir).find((f) => f.endsWith('.tgz'))!;
  execFileSync('npm', ['install', '-g', '--prefix', prefix, '--no-audit', '--no-fund', path.join(packDir, tarball)], { stdio: 'pipe' });
  const bin = path.join(prefix, 'bin/planner');
  expect(execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim()).toMatch(/^\d+\.\d+\.\d+$/);
  const out = execFileSync(bin, ['ls', '--json', '-C', path.join(sharedData, 'debian-120')], { encoding: 'utf8', maxBuffer: 64 << 20 });
  expect(JSON.parse(out).totals).toMatchObject({ images: 120, uniquePaths: 1463, uniqueBytes: 4_589_608_960, closureBytes: 24_178_763_776 });
});

it('pnpm planner <args> runs the CLI from source in the directory it is called from', () => {
  const out = execFileSync('bash', [path.join(repoRoot, 'scripts/pnpm.sh'), '-s', 'planner', 'ls', '--json'], {
    cwd: path.join(repoRoot, 'examples/x/services'),
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
    maxBuffer: 64 << 20,
  });
  // Found examples/x/planner.config.json by walking up from examples/x/services.
  expect(JSON.parse(out).images.map((i: { ref: string }) => i.ref)).toContain('quotes:latest');
});
