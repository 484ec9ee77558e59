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
  storeName,
  runInRoot,
  storePathsIn,
  unpack,
  type ExampleService,
} from './x.js';

const SHARED = ['glibc', 'openssl', 'python3', 'busybox', 'geodb', 'cacert', 'tzdata', 'sqlite', 'xz', 'zlib', 'expat'];
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
    closures = new Map(
      services.map((s) => [
        s.name,
        closureOf(
          s.attrs.map((a) => built.get(a)!),
          references,
        ),
      ]),
    );
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
    for (const name of PYTHON_SERVICES) expect(closures.get(name)!.has(out('python3')), `${name} has python3.11`).toBe(true);
    for (const name of SHELL_SERVICES) expect(closures.get(name)!.has(out('busybox'))).toBe(true);
  });

  describe('Python closures, split the way nixpkgs builds them', () => {
    const named = (name: string, prefix: string): string[] => [...closures.get(name)!].filter((p) => storeName(p).startsWith(prefix)).sort();
    const modules = (name: string): Set<string> =>
      new Set(
        named(name, 'python3.11-')
          .filter((p) => storeName(p) !== 'python3.11-env')
          .map(storeName),
      );
    const pathNamed = (name: string, storeNameWanted: string): string => {
      const hit = [...closures.get(name)!].find((p) => storeName(p) === storeNameWanted);
      expect(hit, `${storeNameWanted} in ${name}`).toBeDefined();
      return hit!;
    };

    it('gives every Python service more store paths than the 100-layer budget', async () => {
      const budget = (await loadWorkspace({ cwd: exampleDir })).config.maxLayers;
      expect(budget).toBe(100); // nixpkgs' buildLayeredImage default
      for (const name of PYTHON_SERVICES) expect(closures.get(name)!.size, name).toBeGreaterThan(budget);
      // Go, C and shell closures stay small: the planner's choices are in the Python images.
      for (const name of [...GO_SERVICES, ...C_SERVICES, ...SHELL_SERVICES]) expect(closures.get(name)!.size, name).toBeLessThan(10);
    });

    it('has one python3.11-env per service, referencing every standard-library path of its closure', () => {
      const envs = PYTHON_SERVICES.map((name) => named(name, 'python3.11-env'));
      for (const e of envs) expect(e).toHaveLength(1);
      expect(new Set(envs.flat()).size).toBe(PYTHON_SERVICES.length);
      for (const [i, name] of PYTHON_SERVICES.entries()) {
        const refs = new Set(references.get(envs[i]![0]!)!.map(storeName));
        for (const m of modules(name)) expect(refs.has(m), `${name}'s env links ${m}`).toBe(true);
        expect(references.get(out(name))).toEqual(envs[i]); // the script's shebang
      }
    });

    it('shares a core standard library and keeps some modules private or partly shared', () => {
      const [feeds, ledger, report] = PYTHON_SERVICES.map(modules) as [Set<string>, Set<string>, Set<string>];
      const core = [...report].filter((m) => feeds.has(m) && ledger.has(m));
      expect(core.length).toBeGreaterThanOrEqual(90);
      for (const m of ['python3.11-encodings', 'python3.11-os', 'python3.11-re', 'python3.11-json', 'python3.11-ssl', 'python3.11-email']) expect(core).toContain(m);
      const only = (m: string): string[] => PYTHON_SERVICES.filter((name) => modules(name).has(m));
      // Private to one service.
      expect(only('python3.11-xml')).toEqual(['feeds']);
      expect(only('python3.11-gzip')).toEqual(['feeds']);
      expect(only('python3.11-sqlite3')).toEqual(['ledger']);
      expect(only('python3.11-decimal')).toEqual(['ledger']);
      expect(holding('sqlite')).toEqual(['ledger']);
      // Shared by two of the three.
      expect(only('python3.11-zoneinfo')).toEqual(['ledger', 'report']);
      expect(only('python3.11-uuid')).toEqual(['feeds', 'ledger']);
      expect(PYTHON_SERVICES.filter((name) => named(name, 'libuuid').length > 0)).toEqual(['feeds', 'ledger']);
    });

    it('makes imports and native libraries references between store paths', () => {
      const refs = (name: string, p: string): string[] => references.get(pathNamed(name, p))!.map(storeName).sort();
      expect(refs('feeds', 'python3.11-http')).toEqual(expect.arrayContaining(['python3.11-email', 'python3.11-socket', 'python3.11-urllib']));
      expect(refs('report', 'python3.11-json')).toContain('python3.11-re');
      // Extension modules with a native library name its store path (a shim's DT_RPATH).
      expect(references.get(pathNamed('report', 'python3.11-ssl'))).toContain(out('openssl'));
      expect(references.get(pathNamed('ledger', 'python3.11-sqlite3'))).toContain(out('sqlite'));
      expect(references.get(pathNamed('ledger', 'python3.11-lzma'))).toContain(out('xz'));
      // The interpreter: libpython3.11 with zlib and expat built in, on the store's glibc.
      expect(references.get(out('python3'))!.sort()).toEqual([out('expat'), out('glibc'), out('zlib')].sort());
    });
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
    const viaFlake = JSON.parse(nix(['eval', '--json', `path:${flakeDir}#packages.x86_64-linux`, '--apply', 'ps: builtins.mapAttrs (n: p: p.outPath) ps'])) as Record<string, string>;
    for (const [attr, storePath] of built) expect(viaFlake[attr], attr).toBe(storePath);
    for (const s of services) expect(Object.keys(viaFlake)).toContain(s.name);
  });

  it('changes only the quotes store path when cmd/quotes changes', () => {
    const copy = tempDir('planner-x-copy-');
    scratch.push(copy);
    for (const entry of ['default.nix', 'nix', 'cmd']) cpSync(path.join(exampleDir, entry), path.join(copy, entry), { recursive: true });
    const outPaths = (dir: string): Record<string, string> =>
      JSON.parse(nix(['eval', '--json', '--impure', '--expr', `builtins.mapAttrs (n: p: p.outPath) (import ${dir}/default.nix {})`])) as Record<string, string>;
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
