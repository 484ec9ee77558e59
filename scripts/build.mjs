// Bundles the CLI into apps/planner/dist/planner.js: workspace packages are inlined, npm
// dependencies stay external (they are dependencies of @planner/cli, so an installed
// package resolves them). Fails when a workspace package uses a dependency the CLI lacks.
import { build } from 'esbuild';
import { chmodSync, cpSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const app = path.join(root, 'apps/planner');
const cli = JSON.parse(readFileSync(path.join(app, 'package.json'), 'utf8'));
const cliDeps = new Set(Object.keys(cli.dependencies ?? {}));

const external = new Set();
const missing = [];
for (const dir of readdirSync(path.join(root, 'packages'))) {
  const pkg = JSON.parse(readFileSync(path.join(root, 'packages', dir, 'package.json'), 'utf8'));
  for (const dep of Object.keys(pkg.dependencies ?? {})) {
    if (dep.startsWith('@planner/') || dep.startsWith('@types/') || dep.endsWith('-types')) continue;
    external.add(dep);
    if (!cliDeps.has(dep)) missing.push(`${dep} (used by ${pkg.name})`);
  }
}
for (const dep of cliDeps) if (!dep.startsWith('@planner/')) external.add(dep);
if (missing.length > 0) {
  console.error(`apps/planner/package.json must list these dependencies too:\n  ${missing.join('\n  ')}`);
  process.exit(1);
}

await build({
  entryPoints: [path.join(app, 'src/bin.ts')],
  outfile: path.join(app, 'dist/planner.js'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: 'linked',
  external: [...external].flatMap((d) => [d, `${d}/*`]),
  logLevel: process.argv.includes('--quiet') ? 'warning' : 'info',
  // Workers and other files next to the bundle are copied below.
});
chmodSync(path.join(app, 'dist/planner.js'), 0o755);
mkdirSync(path.join(app, 'schemas'), { recursive: true });
cpSync(path.join(root, 'packages/workspace/schemas'), path.join(app, 'schemas'), { recursive: true });
cpSync(path.join(root, 'packages/layering/schemas'), path.join(app, 'schemas'), { recursive: true });
