// `planner build --all` on the example monorepo, checked the way a user would: unpack each
// image with umoci, run its programs from the rootfs with chroot, and read the OCI layout
// to see which blobs the images share.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, planner, tempDir } from '../helpers/cli.js';
import {
  blobPath,
  buildExample,
  checkService,
  exampleDir,
  exampleServices,
  GEODB_USERS,
  isRoot,
  readJson,
  readLayout,
  runInRoot,
  storePathsIn,
  unpack,
  type Descriptor,
  type ExampleService,
  type LayoutImage,
} from './x.js';

describe.skipIf(!isRoot)('planner build --all on examples/x', () => {
  let work: string;
  let copy: string;
  let services: ExampleService[];
  let refs: string[];
  let layout: string;
  let images: Map<string, LayoutImage>;
  let built: Map<string, string>;

  beforeAll(async () => {
    services = await exampleServices();
    refs = services.map((s) => `${s.manifest.name}:${s.manifest.tag}`);
    // Build a copy, so the last test can change a service's source.
    work = tempDir('planner-x-build-');
    copy = path.join(work, 'x');
    for (const entry of ['planner.config.json', 'default.nix', 'flake.nix', 'nix', 'cmd', 'services', 'base']) {
      cpSync(path.join(exampleDir, entry), path.join(copy, entry), { recursive: true });
    }
    layout = path.join(work, 'oci-a');
    images = buildLayout(layout);
    built = buildExample(['geodb', 'cacert', 'glibc', 'openssl', 'quotes'], path.join(copy, 'default.nix'));
  });

  /** `planner build --all` of the copy into `out`, read back as the layout's images. */
  function buildLayout(out: string): Map<string, LayoutImage> {
    const r = planner(['build', '--all', '--out', out, '--json'], { cwd: copy });
    expect(r.code, r.stderr).toBe(0);
    return readLayout(out, json(r), refs);
  }

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('writes one image per service into the OCI layout, with the manifest config', () => {
    expect([...images.keys()].sort()).toEqual([...refs].sort());
    for (const s of services) {
      const config = images.get(`${s.manifest.name}:${s.manifest.tag}`)!.config.config;
      const wanted = (s.manifest.config ?? {}) as LayoutImage['config']['config'];
      expect(config.Cmd, s.name).toEqual(wanted.Cmd);
      expect(config.Entrypoint, s.name).toEqual(wanted.Entrypoint);
      expect(config.WorkingDir, s.name).toEqual(wanted.WorkingDir);
      expect(config.ExposedPorts, s.name).toEqual(wanted.ExposedPorts);
      for (const e of wanted.Env ?? []) expect(config.Env, s.name).toContain(e);
    }
  });

  it.each(['atlas', 'backup', 'certinfo', 'clock', 'digest', 'feeds', 'gateway', 'geoip', 'janitor', 'ledger', 'quotes', 'relay', 'report'])(
    'runs every service from its umoci-unpacked rootfs with chroot (quotes answers with a quote on 127.0.0.1): %s',
    async (name) => {
      const s = services.find((x) => x.name === name)!;
      const image = images.get(`${s.manifest.name}:${s.manifest.tag}`)!;
      const rootfs = unpack(layout, image, path.join(work, `unpack-${name}`));
      await checkService(name, rootfs, image.config.config, expect);
    },
  );

  it('stores the geo database in one blob, used by exactly geoip and atlas', () => {
    const geodb = built.get('geodb')!;
    const blobs = new Set<string>();
    const users: string[] = [];
    for (const image of images.values()) {
      const with_ = image.layers.filter((d) => storePathsIn(layout, d).has(geodb));
      for (const d of with_) blobs.add(d);
      if (with_.length > 0) users.push(image.ref.split(':')[0]!);
    }
    expect(blobs.size).toBe(1);
    expect(users.sort()).toEqual(GEODB_USERS);
  });

  it('serves cacert and glibc from layers shared between images', () => {
    for (const attr of ['cacert', 'glibc']) {
      const storePath = built.get(attr)!;
      const holders = new Map<string, string[]>();
      for (const image of images.values()) {
        for (const d of image.layers) {
          if (storePathsIn(layout, d).has(storePath)) holders.set(d, [...(holders.get(d) ?? []), image.ref]);
        }
      }
      expect(holders.size, `${attr} is in some layer`).toBeGreaterThan(0);
      for (const [digest, users] of holders) expect(users.length, `${attr} layer ${digest} is shared`).toBeGreaterThanOrEqual(2);
    }
  });

  it('puts the busybox base image layer first in gateway', () => {
    const base = path.join(work, 'base-layout');
    mkdirSync(base);
    expect(spawnSync('tar', ['-xf', path.join(exampleDir, 'base/busybox-base.tar'), '-C', base]).status).toBe(0);
    const index = readJson<{ manifests: Descriptor[] }>(path.join(base, 'index.json'));
    const manifest = readJson<{ config: Descriptor }>(blobPath(base, index.manifests[0]!.digest));
    const baseDiffIds = readJson<{ rootfs: { diff_ids: string[] } }>(blobPath(base, manifest.config.digest)).rootfs.diff_ids;
    const gateway = [...images.values()].find((i) => i.ref.startsWith('gateway:'))!;
    expect(gateway.config.rootfs.diff_ids.slice(0, baseDiffIds.length)).toEqual(baseDiffIds);
    const rootfs = unpack(layout, gateway, path.join(work, 'unpack-gateway-shell'));
    const r = runInRoot(rootfs, ['/bin/sh', '-c', 'test -x /bin/gateway && test -x /bin/busybox && echo ok'], ['PATH=/bin']);
    expect(r.stdout.trim(), r.stderr).toBe('ok');
  });

  it('after a change to cmd/quotes, only quotes gets new layers: its own store layer and its customisation layer', () => {
    const main = path.join(copy, 'cmd/quotes/main.go');
    writeFileSync(main, readFileSync(main, 'utf8').replace('"Don\'t Panic."', '"DON\'T PANIC."'));
    const layoutB = path.join(work, 'oci-b');
    const after = buildLayout(layoutB);
    const newQuotes = buildExample(['quotes'], path.join(copy, 'default.nix')).get('quotes')!;
    expect(newQuotes).not.toBe(built.get('quotes'));

    const before = new Set([...images.values()].flatMap((i) => i.layers));
    for (const [ref, image] of after) {
      const fresh = image.layers.filter((d) => !before.has(d));
      if (!ref.startsWith('quotes:')) {
        expect(fresh, `${ref} has new layers`).toEqual([]);
        expect(image.layers, ref).toEqual(images.get(ref)!.layers);
        continue;
      }
      // Its own store layer (with the new quotes) and its customisation layer (the last).
      expect(fresh.length, 'new quotes layers').toBeLessThanOrEqual(2);
      expect(fresh).toContain(image.layers[image.layers.length - 1]);
      expect(fresh.some((d) => storePathsIn(layoutB, d).has(newQuotes))).toBe(true);
      for (const other of after.values()) {
        if (other.ref !== ref) for (const d of fresh) expect(other.layers).not.toContain(d);
      }
    }
  });
});
