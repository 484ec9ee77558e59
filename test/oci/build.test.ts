/**
 * planner build against real tools: Nix builds the fixtures, the built CLI writes the OCI
 * layout and docker archives, and skopeo, umoci, podman, nix and chroot read what it wrote.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, readFileSync, readdirSync, readlinkSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { json, planner, plannerAsync, tempDir } from '../helpers/cli.js';
import { startRegistry } from '../registry/helpers/registry.js';
import { nix, pathInfo } from '../helpers/nix.js';
import { buildFixtures, sh, type Fixtures } from './fixtures.js';
import { rawTarEntries, readLayerTar, writeWorkspace } from './workspace.js';

let f: Fixtures;
let ws: string;
let data: any;
const blob = (digest: string): string => path.join(ws, '.planner/oci/blobs/sha256', digest.replace('sha256:', ''));
const hasPodman = spawnSync('podman', ['--version']).status === 0;

beforeAll(() => {
  f = buildFixtures(tempDir('planner-oci-fixtures-'));
  ws = writeWorkspace(tempDir('planner-oci-ws-'), f);
  const r = planner(['build', '--all', '--json', '--format', 'docker-archive'], { cwd: ws });
  expect(r.code, r.stderr).toBe(0);
  data = json(r);
}, 600_000);

function closure(roots: string[]): { path: string; narHash: string }[] {
  return pathInfo(roots).sort((a, b) => (a.path < b.path ? -1 : 1));
}

describe('planner build --all', () => {
  it('writes one layout with every image under its name:tag', () => {
    const index = JSON.parse(readFileSync(path.join(ws, '.planner/oci/index.json'), 'utf8'));
    expect(index.manifests.map((m: any) => m.annotations['org.opencontainers.image.ref.name'])).toEqual(['app:1.0', 'server:1.0']);
    expect(JSON.parse(readFileSync(path.join(ws, '.planner/oci/oci-layout'), 'utf8'))).toEqual({ imageLayoutVersion: '1.0.0' });
    expect(data.images.map((i: any) => i.ref)).toEqual(['app:1.0', 'server:1.0']);
  });

  it('skopeo inspects both transports and copies them with every digest checked', () => {
    const out = tempDir('planner-oci-copy-');
    for (const image of data.images) {
      const inspect = JSON.parse(sh('skopeo', ['inspect', `oci:${ws}/.planner/oci:${image.ref}`]));
      expect(inspect.Digest).toBe(image.manifestDigest);
      expect(inspect.Layers).toEqual(image.layers.map((l: any) => l.digest));
      const archive = JSON.parse(sh('skopeo', ['inspect', '--config', `docker-archive:${image.dockerArchive}`]));
      expect(archive.rootfs.diff_ids).toEqual(image.layers.map((l: any) => l.diffID));
      // skopeo copy verifies each blob's digest (and, from an archive, the diff_ids) as it reads.
      sh('skopeo', ['copy', '-q', `oci:${ws}/.planner/oci:${image.ref}`, `oci:${out}/layout:${image.ref}`]);
      sh('skopeo', ['copy', '-q', `docker-archive:${image.dockerArchive}`, `dir:${out}/${image.ref.replace(':', '_')}`]);
      const copied = JSON.parse(sh('skopeo', ['inspect', `oci:${out}/layout:${image.ref}`]));
      expect(copied.Digest).toBe(image.manifestDigest);
    }
  });

  it("umoci unpacks each image to exactly its closure, every store path with Nix's narHash", () => {
    for (const [image, roots] of [
      ['app:1.0', [f.tools, f.cacert]],
      ['server:1.0', [f.server, f.cacert]],
    ] as const) {
      const bundle = path.join(tempDir('planner-oci-umoci-'), 'bundle');
      // umoci checks every layer's digest and diff_id while unpacking.
      sh('umoci', ['unpack', '--image', `${ws}/.planner/oci:${image}`, bundle]);
      const rootfs = path.join(bundle, 'rootfs');
      const expected = closure([...roots]);
      expect(readdirSync(path.join(rootfs, 'nix/store')).sort()).toEqual(expected.map((p) => path.basename(p.path)));
      for (const p of expected) {
        const hash = nix(['hash', 'path', '--type', 'sha256', '--sri', path.join(rootfs, p.path)]).trim();
        expect(hash, p.path).toBe(p.narHash);
      }
      expect(readlinkSync(path.join(rootfs, 'etc/ssl/certs/ca-bundle.crt'))).toBe(`${f.cacert}/etc/ssl/certs/ca-bundle.crt`);
      rmSync(path.dirname(bundle), { recursive: true, force: true });
    }
  });

  it('runs the Nix-built Go server from its unpacked image with chroot', async () => {
    const bundle = path.join(tempDir('planner-oci-chroot-'), 'bundle');
    sh('umoci', ['unpack', '--image', `${ws}/.planner/oci:server:1.0`, bundle]);
    const config = JSON.parse(readFileSync(path.join(bundle, 'config.json'), 'utf8'));
    expect(config.process.args).toEqual(['/bin/server']);
    const port = 20000 + (process.pid % 20000);
    const child = spawn('chroot', [path.join(bundle, 'rootfs'), '/bin/server', `127.0.0.1:${port}`], { stdio: 'ignore' });
    try {
      let body = '';
      for (let attempt = 0; attempt < 50 && !body; attempt++) {
        body = await new Promise<string>((resolve) => {
          http
            .get(`http://127.0.0.1:${port}/`, (res) => {
              let text = '';
              res.on('data', (d: Buffer) => (text += d.toString()));
              res.on('end', () => resolve(text));
            })
            .on('error', () => setTimeout(() => resolve(''), 100));
        });
      }
      expect(body).toBe('hello from planner, certs=true\n');
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('stores a layer two images share once, under one digest', () => {
    const byPlanLayer = new Map<string, Set<string>>();
    const users = new Map<string, number>();
    for (const image of data.images) {
      for (const l of image.layers.filter((x: any) => x.kind === 'store')) {
        byPlanLayer.set(l.planLayer, (byPlanLayer.get(l.planLayer) ?? new Set()).add(l.digest));
        users.set(l.planLayer, (users.get(l.planLayer) ?? 0) + 1);
      }
    }
    const shared = [...users].filter(([, n]) => n > 1).map(([id]) => id);
    expect(shared.length).toBeGreaterThan(0);
    for (const id of byPlanLayer.keys()) expect(byPlanLayer.get(id)!.size).toBe(1);
    const blobs = readdirSync(path.join(ws, '.planner/oci/blobs/sha256'));
    const referenced = new Set(data.images.flatMap((i: any) => [i.manifestDigest, i.configDigest, ...i.layers.map((l: any) => l.digest)]));
    expect(blobs.length).toBe(referenced.size);
    expect(data.sharing.perImageBytes).toBeGreaterThan(data.sharing.uniqueBytes);
  });

  it('writes deterministic tars: /nix first, byte-wise order, fixed metadata, no hard links, PAX only where needed', () => {
    const app = data.images.find((i: any) => i.ref === 'app:1.0');
    const dataLayer = app.layers.find((l: any) => l.kind === 'store' && readLayerTar(blob(l.digest)).includes(Buffer.from('oci-fixture-data')));
    const entries = rawTarEntries(readLayerTar(blob(dataLayer.digest)));
    expect(entries.slice(0, 2).map((e) => [e.name, e.type, e.mode])).toEqual([
      ['nix', '5', 0o555],
      ['nix/store', '5', 0o555],
    ]);
    const names = entries.map((e) => e.name.replace(/\/$/, ''));
    expect(names).toEqual([...names].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))));
    for (const e of entries) {
      expect([e.mtime, e.uid, e.gid, e.uname, e.gname]).toEqual([1, 0, 0, 'root', 'root']);
      expect(['0', '2', '5']).toContain(e.type);
      const needsPax = Buffer.byteLength(e.name) > 100 || /[^\x20-\x7e]/.test(e.name) || Buffer.byteLength(e.linkname) > 100;
      if (e.pax) {
        expect(Object.keys(e.pax).every((k) => k === 'path' || k === 'linkpath')).toBe(true);
        expect(needsPax, e.name).toBe(true);
      } else {
        expect(Buffer.byteLength(e.name) <= 255 && Buffer.byteLength(e.linkname) <= 100 && !/[^\x20-\x7e]/.test(e.name), e.name).toBe(true);
      }
    }
    const share = `${f.data.slice(1)}/share`;
    const get = (n: string) => entries.find((e) => e.name.replace(/\/$/, '') === `${share}/${n}`)!;
    expect(get('hard-link-to-a-file')).toMatchObject({ type: '0', size: 11 });
    expect(get('dangling-link')).toMatchObject({ type: '2', linkname: '/nonexistent/target' });
    expect(get('long-target-link').linkname).toBe('t'.repeat(150));
    expect(get('run.sh').mode).toBe(0o555);
    expect(get('a-file').mode).toBe(0o444);
    expect(get('empty-dir').type).toBe('5');
    expect(get('日本語のファイル名').pax?.path).toBeDefined();
    expect(entries.some((e) => Buffer.byteLength(e.name) > 255)).toBe(true);
  });

  it('writes the golden bytes of format 1 for a fixed store path (any machine, any run)', () => {
    // The cacert fixture's store path is fixed by its derivation, so its layer's bytes are too.
    // If this changes, the layer format or the compressor changed: bump LAYER_FORMAT_VERSION.
    const layer = data.images.flatMap((i: any) => i.layers).find((l: any) => l.planLayer === 'c3d6ee460c124f5f7c59469eeae26276');
    expect(f.cacert).toBe('/nix/store/bfavm1fw85sacr4n18fsjm3jwr9rmnba-oci-fixture-cacert');
    expect(data.compressor).toBe('gzip-members/fflate-0.8.3/level-2/mem-8/block-1048576');
    expect(layer).toMatchObject({
      diffID: 'sha256:daa1ef58fd6a28a7a0ffa0d3601314e276ec391d88c21b87debb101f6c405562',
      digest: 'sha256:870e47a3d3cc17b789da57082b67f10b99bf95e37006baec50653be27817b3e4',
      tarSize: 5120,
    });
  });

  it('reuses every layer on a second run and writes the same digests', () => {
    const again = json(planner(['build', '--all', '--json'], { cwd: ws }));
    expect(again.layers.built).toBe(0);
    expect(again.layers.reused).toBe(again.layers.distinct);
    expect(again.images.map((i: any) => i.manifestDigest)).toEqual(data.images.map((i: any) => i.manifestDigest));
  });

  it('rewrites a layout blob that was cut short, rather than trusting its name', () => {
    const layer = data.images[1].layers.at(-2);
    const file = blob(layer.digest);
    truncateSync(file, 100);
    const again = json(planner(['build', '--all', '--json'], { cwd: ws }));
    expect(again.images.map((i: any) => i.manifestDigest)).toEqual(data.images.map((i: any) => i.manifestDigest));
    const bytes = readFileSync(file);
    expect(bytes.length).toBe(layer.size);
    expect(`sha256:${createHash('sha256').update(bytes).digest('hex')}`).toBe(layer.digest);
  });

  it('gives the same digests in a clean copy of the workspace elsewhere', () => {
    const other = path.join(tempDir('planner-oci-elsewhere-'), 'somewhere', 'else');
    cpSync(ws, other, { recursive: true, filter: (src) => !src.includes(`${path.sep}.planner`) });
    expect(existsSync(path.join(other, '.planner'))).toBe(false);
    const second = json(planner(['build', '--all', '--json'], { cwd: other }));
    expect(second.layers.reused).toBe(0);
    for (const [i, image] of second.images.entries()) {
      expect(image.manifestDigest).toBe(data.images[i].manifestDigest);
      expect(image.layers.map((l: any) => l.digest)).toEqual(data.images[i].layers.map((l: any) => l.digest));
    }
  });

  it('sets created from SOURCE_DATE_EPOCH, and only that changes', () => {
    const out = tempDir('planner-oci-epoch-');
    const dated = json(planner(['build', 'app', '--json', '--out', out], { cwd: ws, env: { SOURCE_DATE_EPOCH: '1700000000' } }));
    const config = JSON.parse(sh('skopeo', ['inspect', '--config', `oci:${out}:app:1.0`]));
    expect(config.created).toBe('2023-11-14T22:13:20Z');
    expect(config.history.every((h: any) => h.created === '2023-11-14T22:13:20Z')).toBe(true);
    const original = data.images.find((i: any) => i.ref === 'app:1.0');
    expect(dated.images[0].layers.map((l: any) => l.digest)).toEqual(original.layers.map((l: any) => l.digest));
    expect(dated.images[0].configDigest).not.toBe(original.configDigest);
  });

  it('builds only the named images', () => {
    const out = tempDir('planner-oci-one-');
    const one = json(planner(['build', 'server', '--json', '--out', out], { cwd: ws }));
    expect(one.images.map((i: any) => i.ref)).toEqual(['server:1.0']);
    const index = JSON.parse(readFileSync(path.join(out, 'index.json'), 'utf8'));
    expect(index.manifests.map((m: any) => m.annotations['org.opencontainers.image.ref.name'])).toEqual(['server:1.0']);
    expect(one.images[0].manifestDigest).toBe(data.images[1].manifestDigest);
    // A damaged index.json is not quietly replaced by one that forgets the other images.
    writeFileSync(path.join(out, 'index.json'), '{"schemaVersion": 2, "manifests": [');
    const damaged = planner(['build', 'server', '--out', out], { cwd: ws });
    expect(damaged.code).toBe(1);
    expect(damaged.stderr).toContain('[E_READ] index.json is not JSON in OCI layout');
    expect(damaged.stderr).toContain('hint: Run `planner build --all` to rewrite the layout.');
    expect(planner(['build', '--all', '--out', out], { cwd: ws }).code).toBe(0);
    // Building one image into a layout that holds others keeps them, sorted, blobs and all.
    const again = json(planner(['build', 'server', '--json', '--out', out], { cwd: ws }));
    expect(again.images.map((i: any) => i.ref)).toEqual(['server:1.0']);
    const kept = JSON.parse(readFileSync(path.join(out, 'index.json'), 'utf8'));
    expect(kept.manifests.map((m: any) => [m.annotations['org.opencontainers.image.ref.name'], m.digest])).toEqual(data.images.map((i: any) => [i.ref, i.manifestDigest]));
    for (const image of data.images) {
      sh('skopeo', ['inspect', `oci:${out}:${image.ref}`]);
      for (const l of image.layers) expect(existsSync(path.join(out, 'blobs/sha256', l.digest.slice(7))), l.digest).toBe(true);
    }
  });

  it('puts a relative out and cacheDir of planner.config.json beside the config, wherever it runs from', () => {
    const other = writeWorkspace(tempDir('planner-oci-relative-'), f, { out: 'build/oci', cacheDir: 'build/cache' });
    const elsewhere = tempDir('planner-oci-cwd-');
    const r = planner(['build', 'app', '-C', other], { cwd: elsewhere });
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(path.join(other, 'build/oci/index.json'))).toBe(true);
    expect(readdirSync(path.join(other, 'build/cache'))).not.toEqual([]);
    expect(readdirSync(elsewhere)).toEqual([]);
    // From a subdirectory too (the config is found by walking up).
    const sub = path.join(other, 'services/app');
    expect(planner(['build', 'server'], { cwd: sub }).code).toBe(0);
    expect(readdirSync(sub)).toEqual(['image.json']);
    const index = JSON.parse(readFileSync(path.join(other, 'build/oci/index.json'), 'utf8'));
    expect(index.manifests.map((m: any) => m.annotations['org.opencontainers.image.ref.name'])).toEqual(['app:1.0', 'server:1.0']);
  });

  it('refuses bad usage before doing any work', () => {
    const none = planner(['build'], { cwd: ws });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('E_USAGE');
    const zstd = planner(['build', '--all', '--compression', 'zstd', '--out', path.join(ws, 'zstd-out')], { cwd: ws });
    expect(zstd.code).toBe(2);
    expect(zstd.stderr).toContain('E_COMPRESSION');
    expect(existsSync(path.join(ws, 'zstd-out'))).toBe(false);
    const unknown = planner(['build', 'nope', '--json'], { cwd: ws });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('E_UNKNOWN_IMAGE');
    // A typed name is compared with names, a typed name:tag with name:tags.
    const typo = planner(['build', 'sever'], { cwd: ws });
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain('[E_UNKNOWN_IMAGE] no image sever in the workspace');
    expect(typo.stderr).toContain('did you mean server?');
    expect(planner(['build', 'sever:1.0'], { cwd: ws }).stderr).toContain('did you mean server:1.0?');
    // --push with nowhere to push: refused before any layer is built.
    const nowhere = planner(['build', '--all', '--push', '--out', path.join(ws, 'push-out')], { cwd: ws });
    expect(nowhere.code).toBe(2);
    expect(nowhere.stderr).toContain('[E_USAGE] no registry for image');
    expect(existsSync(path.join(ws, 'push-out'))).toBe(false);
  });

  it('writes plain tars with --compression none', () => {
    const out = tempDir('planner-oci-none-');
    // The workspace's cache already holds these layers gzipped: they must not be reused.
    const plain = json(planner(['build', '--all', '--json', '--compression', 'none', '--out', out], { cwd: ws }));
    expect(plain.layers.reused).toBe(0);
    for (const image of plain.images) {
      for (const l of image.layers) {
        expect(l.mediaType).toBe('application/vnd.oci.image.layer.v1.tar');
        expect(l.digest).toBe(l.diffID);
      }
      sh('skopeo', ['inspect', `oci:${out}:${image.ref}`]);
    }
    expect(plain.images.map((i: any) => i.layers.map((l: any) => l.diffID))).toEqual(data.images.map((i: any) => i.layers.map((l: any) => l.diffID)));
  });

  it('pushes what it built with --push, shared blobs once', async () => {
    const registry = await startRegistry(tempDir('planner-oci-registry-'));
    try {
      const r = await plannerAsync(['build', '--all', '--push', '--registry', registry.host, '--json'], { cwd: ws });
      expect(r.code, r.stderr).toBe(0);
      const pushed = json(r);
      expect(pushed.push.images.length).toBe(2);
      for (const image of data.images) {
        const name = image.ref.split(':')[0];
        const remote = JSON.parse(sh('skopeo', ['inspect', '--tls-verify=false', `docker://${registry.host}/${name}:1.0`]));
        expect(remote.Digest).toBe(image.manifestDigest);
      }
      const blobs = new Set(data.images.flatMap((i: any) => [i.manifestDigest, i.configDigest, ...i.layers.map((l: any) => l.digest)]));
      expect(new Set(registry.blobDigests())).toEqual(blobs);
    } finally {
      await registry.stop();
    }
  });

  it.skipIf(!hasPodman)('podman loads the docker archives', () => {
    const root = tempDir('planner-oci-podman-');
    const podman = (...args: string[]) => sh('podman', ['--storage-driver', 'vfs', '--root', `${root}/root`, '--runroot', `${root}/run`, ...args]);
    for (const image of data.images) {
      expect(podman('load', '-i', image.dockerArchive)).toContain(`localhost/${image.ref}`);
      const inspect = JSON.parse(podman('image', 'inspect', `localhost/${image.ref}`))[0];
      expect(`sha256:${inspect.Id}`).toBe(image.configDigest);
      expect(inspect.RootFS.Layers).toEqual(image.layers.map((l: any) => l.diffID));
    }
    rmSync(root, { recursive: true, force: true });
  });
});
