/**
 * planner ls against the real Nix: tiny derivations with references, named in manifests both
 * as store paths and as installables (Nix file and flake); figures checked against nix itself.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { json, planner, tempDir } from '../helpers/cli.js';
import { buildAttrs, pathInfo, writeFixtureLib } from '../helpers/nix.js';

let dir: string;
let out: Record<string, string>;

beforeAll(() => {
  dir = tempDir('planner-nix-ls-');
  const salt = `${process.pid}-${Date.now()}`;
  writeFixtureLib(dir);
  writeFileSync(
    path.join(dir, 'default.nix'),
    `let lib = import ./lib.nix; salt = "${salt}"; in rec {
  libbase = lib.run "libbase" "mkdir -p $out/lib; echo base \${salt} > $out/lib/base.txt; head -c 20000 /dev/zero > $out/lib/blob" [];
  libssl = lib.run "libssl" "mkdir -p $out/lib; echo \${libbase} > $out/lib/deps; head -c 5000 /dev/zero > $out/lib/ssl" [];
  cacert = lib.run "cacert" "mkdir -p $out/etc/ssl/certs; echo certs \${salt} > $out/etc/ssl/certs/ca-bundle.crt" [];
  quotes = lib.run "quotes" "mkdir -p $out/bin; echo '#!\${libssl}/lib' > $out/bin/quotes" [];
  api = lib.run "api" "mkdir -p $out/bin; echo '\${libbase}' > $out/bin/api" [];
}
`,
  );
  writeFileSync(path.join(dir, 'flake.nix'), `{ outputs = { self }: { packages.${'${builtins.currentSystem or "x86_64-linux"}'} = {}; legacyPackages.x86_64-linux = import ./default.nix; }; }\n`);
  const [libbase, libssl, cacert, quotes, api] = buildAttrs(path.join(dir, 'default.nix'), ['libbase', 'libssl', 'cacert', 'quotes', 'api']);
  out = { libbase: libbase!, libssl: libssl!, cacert: cacert!, quotes: quotes!, api: api! };
  const write = (name: string, value: unknown) => {
    const file = path.join(dir, name);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, JSON.stringify(value, null, 2));
  };
  write('planner.config.json', {});
  // quotes: a Nix-file installable and a store path
  write('services/quotes/image.json', { name: 'quotes', tag: 'latest', contents: ['../../default.nix#quotes', out.cacert] });
  // api: a flake installable (legacyPackages) and a Nix-file installable
  write('services/api/image.json', { name: 'api', tag: 'latest', contents: ['.#api', '../../default.nix#cacert'] });
  // base: a plain store path
  write('services/base/image.json', { name: 'base', tag: '1', contents: [out.libbase] });
  // flakes must be tracked by git
  execFileSync('git', ['init', '-q'], { cwd: dir });
  execFileSync('git', ['add', '-A'], { cwd: dir });
});

describe('planner ls with the real nix', () => {
  it('realises installables and matches nix path-info figures', () => {
    const result = planner(['ls', '--json'], { cwd: path.join(dir, 'services/quotes') });
    const data = json(result);
    expect(result.code, result.stderr).toBe(0);
    const byRef = Object.fromEntries(data.images.map((i: any) => [i.ref, i]));
    expect(Object.keys(byRef)).toEqual(['api:latest', 'base:1', 'quotes:latest']);
    expect(byRef['quotes:latest'].roots.sort()).toEqual([out.quotes, out.cacert].sort());
    expect(byRef['api:latest'].roots.sort()).toEqual([out.api, out.cacert].sort());

    for (const [ref, roots] of [
      ['quotes:latest', [out.quotes!, out.cacert!]],
      ['api:latest', [out.api!, out.cacert!]],
      ['base:1', [out.libbase!]],
    ] as const) {
      const infos = pathInfo([...roots]);
      expect(byRef[ref].paths, ref).toBe(infos.length);
      expect(byRef[ref].bytes, ref).toBe(infos.reduce((s, i) => s + i.narSize, 0));
    }
    // quotes -> libssl -> libbase; api -> libbase: libbase and cacert are shared
    const size = (p: string) => pathInfo([p]).find((i) => i.path === p)!.narSize;
    expect(byRef['quotes:latest'].privateBytes).toBe(size(out.quotes!) + size(out.libssl!));
    expect(byRef['quotes:latest'].sharedBytes).toBe(size(out.libbase!) + size(out.cacert!));
    const all = pathInfo(Object.values(out));
    expect(data.totals.uniquePaths).toBe(all.length);
    expect(data.totals.uniqueBytes).toBe(all.reduce((s, i) => s + i.narSize, 0));
  });

  it('prints a human table', () => {
    const result = planner(['ls', '-C', dir]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('quotes:latest');
    expect(result.stdout).toContain('unique bytes');
  });
});
