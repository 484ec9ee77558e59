// Bundles the CLI into apps/planner/dist/planner.js: workspace packages and npm dependencies
// alike, so a run loads one file instead of resolving a few hundred (`planner --version`:
// 0.30 s with the dependencies external, 0.17 s bundled; every command pays it, a no-op
// rebuild most visibly). The dependencies stay listed in @planner/cli (the source entry
// runs on them under tsx); this fails when a workspace package uses one the CLI lacks.
import { build } from 'esbuild';
import { chmodSync, cpSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const app = path.join(root, 'apps/planner');
const cli = JSON.parse(readFileSync(path.join(app, 'package.json'), 'utf8'));
const cliDeps = new Set(Object.keys(cli.dependencies ?? {}));

const missing = [];
for (const dir of readdirSync(path.join(root, 'packages'))) {
  const pkg = JSON.parse(readFileSync(path.join(root, 'packages', dir, 'package.json'), 'utf8'));
  for (const dep of Object.keys(pkg.dependencies ?? {})) {
    if (dep.startsWith('@planner/') || dep.startsWith('@types/') || dep.endsWith('-types')) continue;
    if (!cliDeps.has(dep)) missing.push(`${dep} (used by ${pkg.name})`);
  }
}
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
  // CommonJS dependencies bundled into an ES module still call require() and read
  // __filename (write-file-atomic names its temp files with it).
  banner: {
    js: [
      "import { createRequire as __plannerRequire } from 'node:module';",
      "import { fileURLToPath as __plannerPath } from 'node:url';",
      'const require = __plannerRequire(import.meta.url);',
      'const __filename = __plannerPath(import.meta.url);',
    ].join(' '),
  },
  logLevel: process.argv.includes('--quiet') ? 'warning' : 'info',
});
chmodSync(path.join(app, 'dist/planner.js'), 0o755);
// The JSON Schemas ship beside the bundle (the compression worker is inlined as source).
mkdirSync(path.join(app, 'schemas'), { recursive: true });
cpSync(path.join(root, 'packages/workspace/schemas'), path.join(app, 'schemas'), { recursive: true });
cpSync(path.join(root, 'packages/layering/schemas'), path.join(app, 'schemas'), { recursive: true });
