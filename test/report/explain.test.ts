import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { json, planner, tempDir } from '../helpers/cli.js';
import { pathOf, repoWithBase, smallWorkspace } from './fixtures.js';

interface ExplainPath {
  kind: 'path';
  path: string;
  narSize: number;
  layer: { id: string; position: number; narSize: number; otherPaths: { path: string; narSize: number }[]; images: string[] } | null;
  images: { ref: string; chain: string[] }[];
}

interface ExplainImage {
  kind: 'image';
  ref: string;
  closureBytes: number;
  paths: number;
  storeBudget: number;
  layers: { id: string; position: number; narSize: number; paths: number; shared: boolean; images: number }[];
}

describe('planner explain', () => {
  it('a store path: its layer, the other paths in it, and why each image has it', async () => {
    const ws = smallWorkspace();
    const dir = await repoWithBase(tempDir('planner-explain-'), ws);
    const openssl = pathOf(ws, 'openssl-3.0');
    const r = planner(['explain', openssl, '--json'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const data = json<ExplainPath>(r);
    expect(data.kind).toBe('path');
    expect(data.path).toBe(openssl);
    expect(data.narSize).toBe(6_000_000);
    // openssl shares its layer with glibc and zlib: all three are in every image.
    expect(data.layer).toMatchObject({ position: 0, narSize: 16_300_000, images: ['a:latest', 'b:latest', 'c:latest'] });
    expect(data.layer!.otherPaths).toEqual([
      { path: pathOf(ws, 'glibc-2.37'), narSize: 10_000_000 },
      { path: pathOf(ws, 'zlib-1.3'), narSize: 300_000 },
    ]);
    expect(data.images).toEqual([
      { ref: 'a:latest', chain: [pathOf(ws, 'app-a-1.0'), pathOf(ws, 'python3-3.11'), openssl] },
      { ref: 'b:latest', chain: [pathOf(ws, 'app-b-1.0'), pathOf(ws, 'nodejs-20'), openssl] },
      { ref: 'c:latest', chain: [pathOf(ws, 'app-c-1.0'), pathOf(ws, 'python3-3.11'), openssl] },
    ]);
    // A file inside the store path and a part of its name find the same path.
    expect(json<ExplainPath>(planner(['explain', `${openssl}/lib/libssl.so.3`, '--json'], { cwd: dir })).path).toBe(openssl);
    expect(json<ExplainPath>(planner(['explain', 'openssl', '--json'], { cwd: dir })).path).toBe(openssl);
    const text = planner(['explain', 'openssl'], { cwd: dir });
    expect(text.stdout).toContain('in 3 images:');
    expect(text.stdout).toContain('a:latest: app-a-1.0 -> python3-3.11 -> openssl-3.0');
  });

  it('an image: its layers bottom first, shared or not', async () => {
    const dir = await repoWithBase(tempDir('planner-explain-'), smallWorkspace());
    const data = json<ExplainImage>(planner(['explain', 'b:latest', '--json'], { cwd: dir }));
    expect(data).toMatchObject({ kind: 'image', ref: 'b:latest', closureBytes: 68_300_000, paths: 5, storeBudget: 3 });
    expect(data.layers.map((l) => [l.narSize, l.paths, l.shared, l.images])).toEqual([
      [16_300_000, 3, true, 3],
      [50_000_000, 1, false, 1],
      [2_000_000, 1, false, 1],
    ]);
    const positions = data.layers.map((l) => l.position);
    expect([...positions].sort((x, y) => x - y)).toEqual(positions);
    // The name alone works too.
    expect(json<ExplainImage>(planner(['explain', 'b', '--json'], { cwd: dir })).ref).toBe('b:latest');
  });

  it('unknown or ambiguous targets exit 2', async () => {
    const dir = await repoWithBase(tempDir('planner-explain-'), smallWorkspace());
    const ambiguous = planner(['explain', 'app-'], { cwd: dir });
    expect(ambiguous.code).toBe(2);
    expect(ambiguous.stderr).toContain('[E_USAGE] "app-" matches 3 store paths');
    const unknown = planner(['explain', 'perl'], { cwd: dir });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('"perl" is neither an image nor a store path');
    const typo = planner(['explain', 'a:lates'], { cwd: dir });
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain('[E_UNKNOWN_IMAGE] no image a:lates in the workspace');
    expect(typo.stderr).toContain('hint: did you mean a:latest? (planner ls lists them)');
    const other = planner(['explain', 'web:1.0'], { cwd: dir });
    expect(other.stderr).toContain('hint: one of: a:latest, b:latest, c:latest');
    // A name two images share (a:latest, a:old) names neither.
    cpSync(path.join(dir, 'services/a'), path.join(dir, 'services/a-old'), { recursive: true });
    const manifest = path.join(dir, 'services/a-old/image.json');
    writeFileSync(manifest, JSON.stringify({ ...JSON.parse(readFileSync(manifest, 'utf8')), tag: 'old' }));
    const shared = planner(['explain', 'a'], { cwd: dir });
    expect(shared.code).toBe(2);
    expect(shared.stderr).toContain('[E_UNKNOWN_IMAGE] a names several images: a:latest, a:old');
    expect(shared.stderr).toContain('hint: name one of them by name:tag');
    expect(json<ExplainImage>(planner(['explain', 'a:old', '--json'], { cwd: dir })).ref).toBe('a:old');
    const missing = planner(['explain', '/nix/store/00000000000000000000000000000000-perl'], { cwd: dir });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("is in no image's closure");
  });
});
