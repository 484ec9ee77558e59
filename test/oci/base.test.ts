/**
 * fromImage: a base image given as a docker-archive (written by planner itself) or as an OCI
 * layout tarball (written by skopeo). Its layers go first, count against the budget, and its
 * config is merged with the manifest's.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { countBaseImageLayers } from '@planner/oci';
import { json, planner, tempDir } from '../helpers/cli.js';
import { buildFixtures, closureOf, sh, type Fixtures } from './fixtures.js';

let f: Fixtures;
let base: any;
let dockerArchive: string;
let ociArchive: string;

function write(file: string, value: unknown): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(value, null, 2));
}

beforeAll(() => {
  f = buildFixtures(tempDir('planner-oci-fixtures-'));
  const ws = tempDir('planner-oci-basews-');
  write(path.join(ws, 'planner.config.json'), {});
  write(path.join(ws, 'services/base/image.json'), {
    name: 'base',
    tag: '1',
    contents: [f.cacert, f.data],
    config: { Cmd: ['/bin/sh'], Env: ['PATH=/usr/bin', 'LANG=C'], Labels: { from: 'base' }, WorkingDir: '/base' },
  });
  const r = planner(['build', '--all', '--json', '--format', 'docker-archive'], { cwd: ws });
  expect(r.code, r.stderr).toBe(0);
  base = json(r).images[0];
  dockerArchive = base.dockerArchive;
  ociArchive = path.join(ws, 'base-oci.tar');
  sh('skopeo', ['copy', '-q', `oci:${ws}/.planner/oci:base:1`, `oci-archive:${ociArchive}:base:1`]);
}, 600_000);

describe('fromImage', () => {
  it("counts a base image's layers in either format", async () => {
    expect(await countBaseImageLayers(dockerArchive)).toBe(base.layers.length);
    expect(await countBaseImageLayers(ociArchive)).toBe(base.layers.length);
  });

  for (const kind of ['docker-archive', 'oci-archive'] as const) {
    it(`puts a ${kind} base image's layers first and merges its config`, () => {
      const ws = tempDir('planner-oci-child-');
      // Three base layers + one customisation layer leave one store layer of five for the
      // two paths of tools' closure: six layers if the base did not count.
      write(path.join(ws, 'planner.config.json'), { maxLayers: 5 });
      const from = kind === 'docker-archive' ? dockerArchive : ociArchive;
      write(path.join(ws, 'services/child/image.json'), {
        name: 'child',
        tag: '1',
        contents: [f.tools],
        fromImage: path.relative(path.join(ws, 'services/child'), from),
        config: { Env: ['PATH=/bin', 'B=2'], Entrypoint: ['/bin/hello'], Labels: { child: 'yes' } },
      });
      const r = planner(['build', '--all', '--json'], { cwd: ws });
      expect(r.code, r.stderr).toBe(0);
      const child = json(r).images[0];
      const n = base.layers.length;
      expect(child.layers.slice(0, n).map((l: any) => l.kind)).toEqual(Array(n).fill('base'));
      expect(child.layers.slice(0, n).map((l: any) => l.diffID)).toEqual(base.layers.map((l: any) => l.diffID));
      // Compressed base layers are kept byte for byte; uncompressed ones get our (same) gzip.
      expect(child.layers.slice(0, n).map((l: any) => l.digest)).toEqual(base.layers.map((l: any) => l.digest));
      expect(n).toBe(3);
      expect(closureOf([f.tools])).toHaveLength(2);
      expect(child.layers.length).toBeLessThanOrEqual(5);
      const config = JSON.parse(sh('skopeo', ['inspect', '--config', `oci:${ws}/.planner/oci:child:1`]));
      expect(config.config).toMatchObject({
        Env: ['LANG=C', 'PATH=/bin', 'B=2'],
        Cmd: ['/bin/sh'],
        Entrypoint: ['/bin/hello'],
        WorkingDir: '/base',
        Labels: { child: 'yes', from: 'base' },
      });
      expect(config.rootfs.diff_ids).toEqual(child.layers.map((l: any) => l.diffID));
      // One non-empty history entry per layer, base layers included (the image spec's rule).
      expect(config.history.filter((h: any) => !h.empty_layer)).toHaveLength(config.rootfs.diff_ids.length);
      const bundle = path.join(ws, 'bundle');
      sh('umoci', ['unpack', '--image', `${ws}/.planner/oci:child:1`, bundle]);
      const expected = new Set([...closureOf([f.cacert, f.data]), ...closureOf([f.tools])].map((p) => path.basename(p)));
      expect(readdirSync(path.join(bundle, 'rootfs/nix/store')).sort()).toEqual([...expected].sort());
      expect(readFileSync(path.join(bundle, 'rootfs/etc/ssl/certs/ca-bundle.crt'), 'utf8')).toContain('CERTIFICATE');
    });
  }

  it('refuses a budget the base image leaves no store layer in (E_BUDGET), writing nothing', () => {
    const ws = tempDir('planner-oci-nobudget-');
    write(path.join(ws, 'planner.config.json'), { maxLayers: 4 });
    write(path.join(ws, 'services/child/image.json'), { name: 'child', tag: '1', contents: [f.tools], fromImage: path.relative(path.join(ws, 'services/child'), dockerArchive) });
    const r = planner(['build', '--all', '--json'], { cwd: ws });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('[E_BUDGET]');
    expect(r.stderr).toContain('child:1');
    expect(readdirSync(ws).sort()).toEqual(['planner.config.json', 'services']);
  });

  it('rejects a file that is not an image', async () => {
    const ws = tempDir('planner-oci-badbase-');
    write(path.join(ws, 'planner.config.json'), {});
    writeFileSync(path.join(ws, 'junk.tar'), 'not a tar at all');
    write(path.join(ws, 'services/child/image.json'), { name: 'child', tag: '1', contents: [f.tools], fromImage: '../../junk.tar' });
    const r = planner(['build', '--all', '--json'], { cwd: ws });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('E_BASE_IMAGE');
    expect(readdirSync(ws).sort()).toEqual(['junk.tar', 'planner.config.json', 'services']);
  });
});
