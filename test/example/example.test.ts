// The example monorepo (examples/x) as Nix sees it: every service built with the real
// nix in one call, closures read with `nix path-info --json --recursive`, and every
// program run in a root file system that holds nothing but its closure.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadWorkspace } from '@planner/workspace';
import { tempDir } from '../helpers/cli.js';
import { nix, pathInfo } from '../helpers/nix.js';
import {
  C_SERVICES,
  GEODB_USERS,
  GO_SERVICES,
  PYTHON_SERVICES,
  SHELL_SERVICES,
  buildExample,
  checkService,
  closureOf,
  closureRootfs,
  elfInterpreter,
  exampleDir,
  exampleServices,
  isRoot,
  readLayout,
  runInRoot,
  storePathsIn,
  unpack,
  type ExampleService,
} from './x.js';

const SHARED = ['glibc', 'openssl', 'python3', 'busybox', 'geodb', 'cacert', 'tzdata'];
const MiB = 1024 * 1024;

let services: ExampleService[];
let built: Map<string, string>;
let narSize: Map<string, number>;
let references: Map<string, string[]>;
/** service name -> closure of its image's roots */
let closures: Map<string, Set<string>>;
const scratch: string[] = [];

beforeAll(() => {
  return (async () => {
    services = await exampleServices();
    // One `nix build` for every root of every image plus the shared packages by name.
    built = buildExample([...services.flatMap((s) => s.attrs), ...SHARED]);
    const infos = pathInfo([...built.values()]);
    narSize = new Map(infos.map((i) => [i.path, i.narSize]));
    references = new Map(infos.map((i) => [i.path, i.references.filter((r) => r !== i.path)]));
    closures = new Map(services.map((s) => [s.name, closureOf(s.attrs.map((a) => built.get(a)!), references)]));
  })();
});

afterAll(() => {
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

const out = (attr: string): string => built.get(attr)!;
const holding = (attr: string): string[] => services.filter((s) => closures.get(s.name)!.has(out(attr))).map((s) => s.name);

describe('examples/x', () => {
  it('has at least 10 services, found by planner.config.json and by the default **/image.json glob', async () => {
    const names = services.map((s) => s.name);
    expect(names.length).toBeGreaterThanOrEqual(10);
    expect([...GO_SERVICES, ...C_SERVICES, ...PYTHON_SERVICES, ...SHELL_SERVICES].sort()).toEqual(names);
    expect(GO_SERVICES.length).toBeGreaterThanOrEqual(4);

    const workspace = await loadWorkspace({ cwd: exampleDir });
    expect(workspace.services.map((s) => s.name)).toEqual(names);
    // What planner's default `**/image.json` would find (no other image.json anywhere).
    const everyImageJson = (readdirSync(exampleDir, { recursive: true }) as string[])
      .filter((f) => path.basename(f) === 'image.json' && !/(^|\/)(node_modules|\.planner|result[^/]*)\//.test(f))
      .sort();
    expect(everyImageJson).toEqual(names.map((n) => `services/${n}/image.json`));

    for (const s of workspace.services) {
      const config = s.manifest.config ?? {};
      expect(config.Cmd, s.ref).toBeDefined();
      expect(config.Env, s.ref).toBeDefined();
      expect(config.WorkingDir, s.ref).toBeDefined();
      if (GO_SERVICES.includes(s.name)) expect(config.ExposedPorts, s.ref).toEqual({ '8080/tcp': {} });
    }
    expect(workspace.services.find((s) => s.name === 'gateway')?.fromImage).toBe(path.join(exampleDir, 'base/busybox-base.tar'));
  });

  it('links the C and Python services against glibc and OpenSSL store paths', () => {
    for (const name of [...C_SERVICES, ...PYTHON_SERVICES]) {
      const closure = closures.get(name)!;
      expect(closure.has(out('glibc')), `${name} has glibc`).toBe(true);
      expect(closure.has(out('openssl')), `${name} has openssl`).toBe(true);
    }
    expect(closures.get('report')!.has(out('python3'))).toBe(true);
    for (const name of SHELL_SERVICES) expect(closures.get(name)!.has(out('busybox'))).toBe(true);
  });

  it('puts cacert in most closures', () => {
    expect(holding('cacert').length).toBeGreaterThan(services.length / 2);
  });

  it('shares the tens-of-MB geo database between exactly two services', () => {
    expect(narSize.get(out('geodb'))).toBeGreaterThanOrEqual(30 * MiB);
    expect(holding('geodb')).toEqual(GEODB_USERS);
  });

  it('links every Go service statically: no dynamic linker, no glibc in its closure', () => {
    for (const name of GO_SERVICES) {
      expect(closures.get(name)!.has(out('glibc')), `${name} has glibc`).toBe(false);
      expect(elfInterpreter(path.join(out(name), 'bin', name)), `${name} asks for a dynamic linker`).toBe(false);
    }
    // ... while the C programs do ask for one, in the store.
    expect(elfInterpreter(path.join(out('digest'), 'bin/digest'))).toBe(true);
  });

  it('gives the same store paths through flake.nix as through default.nix', () => {
    // A `path:` flake is copied whole into the store; copy just the Nix side, so a
    // .planner/ left in examples/x by a user's build is not copied along.
    const flakeDir = tempDir('planner-x-flake-');
    scratch.push(flakeDir);
    for (const entry of ['flake.nix', 'default.nix', 'nix', 'cmd']) cpSync(path.join(exampleDir, entry), path.join(flakeDir, entry), { recursive: true });
    const viaFlake = JSON.parse(
      nix(['eval', '--json', `path:${flakeDir}#packages.x86_64-linux`, '--apply', 'ps: builtins.mapAttrs (n: p: p.outPath) ps']),
    ) as Record<string, string>;
    for (const [attr, storePath] of built) expect(viaFlake[attr], attr).toBe(storePath);
    for (const s of services) expect(Object.keys(viaFlake)).toContain(s.name);
  });

  it('changes only the quotes store path when cmd/quotes changes', () => {
    const copy = tempDir('planner-x-copy-');
    scratch.push(copy);
    for (const entry of ['default.nix', 'nix', 'cmd']) cpSync(path.join(exampleDir, entry), path.join(copy, entry), { recursive: true });
    const outPaths = (dir: string): Record<string, string> =>
      JSON.parse(
        nix(['eval', '--json', '--impure', '--expr', `builtins.mapAttrs (n: p: p.outPath) (import ${dir}/default.nix {})`]),
      ) as Record<string, string>;
    const before = outPaths(copy);
    const main = path.join(copy, 'cmd/quotes/main.go');
    writeFileSync(main, readFileSync(main, 'utf8').replace('"Don\'t Panic."', '"Don\'t Panic!"'));
    const after = outPaths(copy);
    const changed = Object.keys(before).filter((k) => before[k] !== after[k]);
    expect(changed).toEqual(['quotes']);
    expect(before.quotes).toBe(out('quotes'));
  });

  it('ships a reproducible one-layer busybox base image for gateway', () => {
    const dir = tempDir('planner-x-base-');
    scratch.push(dir);
    const make = path.join(exampleDir, 'base/make-base.sh');
    execFileSync(make, [path.join(dir, 'a.tar')], { stdio: 'pipe' });
    execFileSync(make, [path.join(dir, 'b.tar')], { stdio: 'pipe' });
    expect(readFileSync(path.join(dir, 'a.tar')).equals(readFileSync(path.join(dir, 'b.tar')))).toBe(true);
    for (const tarball of [path.join(dir, 'a.tar'), path.join(exampleDir, 'base/busybox-base.tar')]) {
      const r = spawnSync('skopeo', ['inspect', `oci-archive:${tarball}:latest`], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      const inspected = JSON.parse(r.stdout) as { Layers: string[]; Os: string; Architecture: string };
      expect(inspected.Layers).toHaveLength(1);
      expect([inspected.Os, inspected.Architecture]).toEqual(['linux', 'amd64']);
    }
  });

  it.skipIf(!isRoot)('unpacks the base image with umoci into a rootfs where busybox runs', () => {
    const dir = tempDir('planner-x-base-unpack-');
    scratch.push(dir);
    const layout = path.join(dir, 'layout');
    execFileSync('mkdir', ['-p', layout]);
    execFileSync('tar', ['-xf', path.join(exampleDir, 'base/busybox-base.tar'), '-C', layout]);
    const image = readLayout(layout, null, ['latest']).get('latest')!;
    expect(image.layers).toHaveLength(1);
    expect(image.config.config.Cmd).toEqual(['/bin/sh']);
    expect(storePathsIn(layout, image.layers[0]!).size).toBe(0);
    const rootfs = unpack(layout, image, path.join(dir, 'unpacked'));
    const r = runInRoot(rootfs, ['/bin/sh', '-c', 'echo "$(id -u) $(cat /etc/passwd | wc -l)"'], ['PATH=/bin']);
    expect(r.stdout.trim(), r.stderr).toBe('0 2');
  });

  describe.skipIf(!isRoot)('each program runs in a root that holds only its closure (chroot, as root)', () => {
    it.each([...GO_SERVICES, ...C_SERVICES, ...PYTHON_SERVICES, ...SHELL_SERVICES].sort())('%s', async (name) => {
      const service = services.find((s) => s.name === name)!;
      const rootfs = closureRootfs(tempDir(`planner-x-${name}-`), closures.get(name)!, service.attrs.map(out));
      scratch.push(rootfs);
      await checkService(name, rootfs, service.manifest.config ?? {}, expect);
    });
  });
});
