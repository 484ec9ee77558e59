/**
 * Bad input, end to end: every case runs the built CLI on a small workspace and expects
 * exit code 2, a stable [CODE], the offending file or path named, and nothing written.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { planner, snapshotTree, tempDir } from '../helpers/cli.js';

const S = '/nix/store';
const H = 'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=';
const APP = `${S}/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-app-1.0`;
const LIB = `${S}/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-libfoo-2.1`;

type Files = Record<string, unknown>;

const goodClosure = [
  { path: APP, narHash: H, narSize: 100, references: [LIB] },
  { path: LIB, narHash: H, narSize: 20, references: [] },
];
const goodManifest = { name: 'app', tag: 'v1', contents: [APP], closure: 'closure.json', config: { Cmd: ['/bin/app'] } };

function workspace(files: Files): string {
  const dir = tempDir('planner-bad-');
  const all: Files = {
    'planner.config.json': { services: ['services/*/image.json'] },
    'services/app/image.json': goodManifest,
    'services/app/closure.json': goodClosure,
    ...files,
  };
  for (const [name, content] of Object.entries(all)) {
    if (content === undefined) continue;
    const file = path.join(dir, name);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  }
  return dir;
}

interface Case {
  name: string;
  files: Files;
  code: string;
  /** Text the message or hint must contain (a file, a path, a suggestion). */
  mentions: string[];
  args?: string[];
  env?: Record<string, string>;
}

const manifest = (over: Record<string, unknown>) => ({ 'services/app/image.json': { ...goodManifest, ...over } });
const closure = (value: unknown) => ({ 'services/app/closure.json': value });
const entry = (over: Record<string, unknown>) => closure([{ ...goodClosure[0], ...over }, goodClosure[1]]);

const cases: Case[] = [
  { name: 'config is malformed JSON', files: { 'planner.config.json': '{ "services": [,] }' }, code: 'E_CONFIG_PARSE', mentions: ['planner.config.json'] },
  { name: 'config has an unknown field', files: { 'planner.config.json': { maxLayer: 50 } }, code: 'E_CONFIG_INVALID', mentions: ['maxLayer', 'did you mean "maxLayers"'] },
  { name: 'config maxLayers is 0', files: { 'planner.config.json': { maxLayers: 0 } }, code: 'E_CONFIG_INVALID', mentions: ['maxLayers', 'planner.config.json'] },
  { name: 'config maxLayers is over 125', files: { 'planner.config.json': { maxLayers: 200 } }, code: 'E_CONFIG_INVALID', mentions: ['maxLayers'] },
  { name: 'config services is not a list', files: { 'planner.config.json': { services: 'x/*.json' } }, code: 'E_CONFIG_INVALID', mentions: ['services'] },
  { name: 'config storeDir is relative', files: { 'planner.config.json': { storeDir: 'nix/store' } }, code: 'E_CONFIG_INVALID', mentions: ['storeDir'] },
  { name: 'config check threshold has a wrong type', files: { 'planner.config.json': { check: { maxPushBytes: 'lots' } } }, code: 'E_CONFIG_INVALID', mentions: ['check.maxPushBytes'] },
  { name: 'no config anywhere up the tree', files: { 'planner.config.json': undefined }, code: 'E_CONFIG_NOT_FOUND', mentions: ['planner.config.json', '--config'] },
  { name: '--config names a missing file', files: {}, args: ['--config', 'nope.json'], code: 'E_CONFIG_NOT_FOUND', mentions: ['nope.json'] },
  { name: 'manifest is malformed JSON', files: { 'services/app/image.json': '{"name": "app",' }, code: 'E_MANIFEST_PARSE', mentions: ['services/app/image.json'] },
  { name: 'manifest has an unknown field', files: manifest({ contnets: [] }), code: 'E_MANIFEST_UNKNOWN_FIELD', mentions: ['contnets', 'did you mean "contents"', 'image.json'] },
  {
    name: 'the services globs match no manifest',
    files: { 'planner.config.json': { services: ['nothing/*/image.json'] } },
    code: 'E_NO_SERVICES',
    mentions: ['"nothing/*/image.json"', 'planner.config.json'],
  },
  { name: '-C names a directory that does not exist', files: {}, args: ['-C', '/nonexistent/planner-dir'], code: 'E_CONFIG_NOT_FOUND', mentions: ['no such directory: /nonexistent/planner-dir'] },
  {
    name: 'manifest has an OCI config field at the top',
    files: manifest({ cmd: ['x'] }),
    code: 'E_MANIFEST_UNKNOWN_FIELD',
    mentions: ['"cmd"', '"Cmd" belongs in the image\'s OCI config: "config": { "Cmd": ... }'],
  },
  { name: 'manifest has a far-off unknown field', files: manifest({ xyzzy: 1 }), code: 'E_MANIFEST_UNKNOWN_FIELD', mentions: ['"xyzzy"', 'valid fields: '] },
  { name: 'manifest config has an unknown field', files: manifest({ config: { cmd: ['x'] } }), code: 'E_MANIFEST_UNKNOWN_FIELD', mentions: ['"cmd"', 'did you mean "Cmd"'] },
  { name: 'manifest lacks a name', files: manifest({ name: undefined }), code: 'E_MANIFEST_INVALID', mentions: ["must have required property 'name'", 'image.json'] },
  { name: 'manifest name is not a valid repository name', files: manifest({ name: 'My App' }), code: 'E_MANIFEST_INVALID', mentions: ['"name"'] },
  { name: 'manifest contents is empty', files: manifest({ contents: [] }), code: 'E_MANIFEST_INVALID', mentions: ['"contents"'] },
  { name: 'manifest Env entry has no "="', files: manifest({ config: { Env: ['PATH'] } }), code: 'E_MANIFEST_INVALID', mentions: ['config.Env'] },
  { name: 'manifest maxLayers below 2', files: manifest({ maxLayers: 1 }), code: 'E_MANIFEST_INVALID', mentions: ['maxLayers'] },
  {
    name: 'two services share name:tag',
    files: { 'services/dup/image.json': { ...goodManifest, closure: '../app/closure.json' } },
    code: 'E_DUPLICATE_IMAGE',
    mentions: ['app:v1', 'services/app/image.json', 'services/dup/image.json'],
  },
  { name: 'closure file is missing', files: closure(undefined), code: 'E_CLOSURE_MISSING', mentions: ['closure.json', 'does not exist'] },
  { name: 'closure file is malformed JSON', files: closure('[{"path": '), code: 'E_CLOSURE_PARSE', mentions: ['closure.json'] },
  { name: 'closure file is not a closure', files: closure(42), code: 'E_CLOSURE_SHAPE', mentions: ['closure.json'] },
  {
    name: 'closure path outside the store',
    files: closure([{ path: '/usr/lib/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-x', narHash: H, narSize: 1, references: [] }]),
    code: 'E_STORE_PATH',
    mentions: ['/usr/lib/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-x', 'outside the store'],
  },
  {
    name: 'closure path containing ..',
    files: closure([{ path: `${S}/../../etc/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-x`, narHash: H, narSize: 1, references: [] }]),
    code: 'E_STORE_PATH',
    mentions: ['".."'],
  },
  {
    name: 'closure path with an invalid name',
    files: closure([{ path: `${S}/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-bad name`, narHash: H, narSize: 1, references: [] }]),
    code: 'E_STORE_PATH',
    mentions: ['bad name'],
  },
  {
    name: 'closure path with an invalid hash',
    files: closure([{ path: `${S}/eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee-x`, narHash: H, narSize: 1, references: [] }]),
    code: 'E_STORE_PATH',
    mentions: ['eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee-x', 'hash'],
  },
  { name: 'a reference missing from the closure', files: closure([goodClosure[0]]), code: 'E_MISSING_REFERENCE', mentions: [APP, LIB] },
  { name: 'the same path with conflicting sizes', files: closure([...goodClosure, { ...goodClosure[1], narSize: 21 }]), code: 'E_SIZE_CONFLICT', mentions: [LIB, '20', '21'] },
  {
    name: 'the same path with conflicting sizes in two images',
    files: {
      'services/b/image.json': { ...goodManifest, name: 'b' },
      'services/b/closure.json': [goodClosure[0], { ...goodClosure[1], narSize: 99 }],
    },
    code: 'E_SIZE_CONFLICT',
    mentions: [LIB, 'app:v1', 'b:v1'],
  },
  { name: 'a negative size', files: entry({ narSize: -5 }), code: 'E_BAD_SIZE', mentions: [APP, '-5'] },
  { name: 'a non-integer size', files: entry({ narSize: 10.5 }), code: 'E_BAD_SIZE', mentions: [APP, '10.5'] },
  {
    name: 'a reference cycle between different paths',
    files: closure([goodClosure[0], { ...goodClosure[1], references: [APP] }]),
    code: 'E_CYCLE',
    mentions: [`${APP} -> ${LIB} -> ${APP}`],
  },
  {
    name: 'a root missing from its closure file',
    files: manifest({ contents: [LIB, `${S}/cccccccccccccccccccccccccccccccc-gone`] }),
    code: 'E_ROOT_NOT_IN_CLOSURE',
    mentions: ['cccccccccccccccccccccccccccccccc-gone', 'closure.json'],
  },
  { name: 'an installable next to a closure file', files: manifest({ contents: ['.#app'] }), code: 'E_MANIFEST_INVALID', mentions: ['.#app', 'store path'] },
  { name: 'a content that is neither store path nor installable', files: manifest({ contents: ['hello'], closure: undefined }), code: 'E_MANIFEST_INVALID', mentions: ['"hello"', 'installable'] },
  { name: 'a Nix-file installable naming a missing file', files: manifest({ contents: ['./nope.nix#app'], closure: undefined }), code: 'E_MANIFEST_INVALID', mentions: ['nope.nix'] },
  { name: 'a flake installable with no flake.nix', files: manifest({ contents: ['.#app'], closure: undefined }), code: 'E_MANIFEST_INVALID', mentions: ['flake.nix'] },
  {
    name: 'nix is not installed',
    files: { ...manifest({ contents: ['./default.nix#app'], closure: undefined }), 'services/app/default.nix': '{ app = 1; }' },
    env: { PLANNER_NIX: '/nonexistent/nix' },
    code: 'E_NIX_MISSING',
    mentions: ['/nonexistent/nix', 'nix-bin'],
  },
  {
    name: 'a "nix" that prints something other than JSON',
    files: { ...manifest({ contents: ['./default.nix#app'], closure: undefined }), 'services/app/default.nix': '{ app = 1; }' },
    // A stand-in: the real nix never prints non-JSON for --json, so a broken or wrapped nix
    // (PLANNER_NIX pointing at the wrong program) is played by echo.
    env: { PLANNER_NIX: '/bin/echo' },
    code: 'E_NIX',
    mentions: ['nix eval printed output that is not JSON', 'PLANNER_NIX'],
  },
  {
    name: "a Nix evaluation error, with nix's stderr",
    files: { ...manifest({ contents: ['./default.nix#missing'], closure: undefined }), 'services/app/default.nix': '{ app = 1; }' },
    code: 'E_NIX',
    mentions: ['services/app/image.json: ./default.nix#missing: nix eval failed', 'attribute', 'missing'],
  },
  {
    name: 'a store path in contents that is not in the store, named by its manifest',
    files: manifest({ contents: [`${S}/00000000000000000000000000000000-nothere`], closure: undefined }),
    code: 'E_NIX',
    mentions: [`services/app/image.json: ${S}/00000000000000000000000000000000-nothere: nix path-info failed`, 'is not valid'],
  },
  {
    name: "a failing Nix build, with the builder's output",
    files: {
      ...manifest({ contents: ['./default.nix#broken'], closure: undefined }),
      'services/app/default.nix':
        '{ broken = derivation { name = "broken"; system = builtins.currentSystem; builder = "/bin/sh"; args = [ "-c" "echo planner-test-builder-says-no >&2; exit 3" ]; }; }',
    },
    code: 'E_NIX',
    mentions: ['services/app/image.json: ./default.nix#broken: nix build failed', 'planner-test-builder-says-no'],
  },
];

describe('bad input: exit 2, a stable code, the culprit named, nothing written', () => {
  it('covers at least 30 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(30);
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const dir = workspace(c.files);
    const before = snapshotTree(dir);
    const result = planner(['ls', ...(c.args ?? [])], { cwd: dir, env: c.env ?? {} });
    const text = result.stderr;
    expect(result.code, text).toBe(2);
    expect(text).toContain(`[${c.code}]`);
    for (const m of c.mentions) expect(text).toContain(m);
    expect(result.stdout).toBe('');
    expect(snapshotTree(dir)).toEqual(before);
  });

  it('--json puts the error on stdout as JSON too', () => {
    const dir = workspace(manifest({ contnets: [] }));
    const result = planner(['ls', '--json'], { cwd: dir });
    expect(result.code).toBe(2);
    expect(JSON.parse(result.stdout)).toMatchObject({ error: { code: 'E_MANIFEST_UNKNOWN_FIELD', details: { field: 'contnets', suggestion: 'contents' } } });
  });

  it('a usage error exits 2, names what was typed and suggests what was meant', () => {
    const dir = workspace({});
    const cases: [string[], string, string][] = [
      [['ls', '--no-such-flag'], 'unknown option: --no-such-flag', 'run planner <command> --help for the options'],
      [['plan', '--max-layer', '3'], 'unknown option: --max-layer', 'did you mean --max-layers?'],
      [['ls', '--max-layers', '5'], 'unknown option: --max-layers', 'run planner <command> --help'],
      [['check', '--bse', 'main'], 'unknown option: --bse', 'did you mean --base?'],
      [['pln'], 'unknown command: pln', 'did you mean planner plan?'],
      [['plan', 'extra'], 'unexpected argument for planner plan: extra', 'planner plan --help says what it takes'],
      [['explain', 'a', 'b'], 'unexpected argument for planner explain: b', 'planner explain --help says what it takes'],
      [['build', '--all', '--out'], '--out needs a value', 'planner <command> --help says what --out takes'],
      [['ls', '-C'], '-C needs a value', 'planner <command> --help says what -C takes'],
    ];
    for (const [args, message, hint] of cases) {
      const result = planner(args, { cwd: dir });
      expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(2);
      expect(result.stderr).toContain(`[E_USAGE] ${message}\n`);
      expect(result.stderr).toContain(`hint: ${hint}`);
    }
  });

  it('accepts a storeDir written with a trailing slash, and never reads manifests under node_modules', () => {
    const dir = workspace({
      'planner.config.json': { storeDir: '/nix/store/' },
      'node_modules/some-pkg/image.json': { ...goodManifest, name: 'stray' },
      'node_modules/some-pkg/closure.json': goodClosure,
    });
    const r = planner(['ls', '--json'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).images.map((i: { ref: string }) => i.ref)).toEqual(['app:v1']);
  });

  it('an option given twice takes the last value', () => {
    const dir = workspace({});
    const twice = planner(['plan', '--max-layers', '50', '--max-layers', 'abc'], { cwd: dir });
    expect(twice.code).toBe(2);
    expect(twice.stderr).toContain('[E_USAGE] --max-layers must be a positive whole number, got "abc"');
    const ok = planner(['plan', '--max-layers', 'abc', '--max-layers', '50', '--json', '--no-lock'], { cwd: dir });
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout).maxLayers).toBe(50);
  });

  it('a bad number is quoted as typed, with an example', () => {
    const dir = workspace({});
    const cases: [string[], string, string][] = [
      [['plan', '--max-layers', 'abc'], '--max-layers must be a positive whole number, got "abc"', 'hint: e.g. --max-layers 100'],
      [['plan', '--max-layers='], '--max-layers must be a positive whole number, got ""', 'hint: e.g. --max-layers 100'],
      [['build', '--all', '--build-jobs', '0'], '--build-jobs must be a positive whole number, got "0"', 'hint: e.g. --build-jobs 2'],
      [['report', '--top', 'many'], '--top must be a whole number of at least 0, got "many"', 'hint: e.g. --top 20'],
      [['check', '--base-lock', 'x.json', '--min-savings-vs-auto-layer', 'lots'], '--min-savings-vs-auto-layer must be a non-negative ratio', 'got "lots"'],
    ];
    for (const [args, message, hint] of cases) {
      const result = planner(args, { cwd: dir });
      expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(2);
      expect(result.stderr).toContain(`[E_USAGE] ${message}`);
      expect(result.stderr).toContain(hint);
    }
  });

  it('a glob that matches nothing leaves an existing lock alone', () => {
    const dir = workspace({});
    expect(planner(['plan'], { cwd: dir }).code).toBe(0);
    const lock = (): string | undefined => snapshotTree(dir).find((line) => line.startsWith('planner.lock.json '));
    const before = lock();
    expect(before).toBeDefined();
    writeFileSync(path.join(dir, 'planner.config.json'), JSON.stringify({ services: ['service/*/image.json'] }));
    const result = planner(['plan'], { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('[E_NO_SERVICES] no image manifest matches "service/*/image.json"');
    expect(lock()).toBe(before);
  });
});
