/**
 * `planner push` against Debian's docker-registry on 127.0.0.1 without auth: every image
 * lands byte for byte (skopeo reads back the layout's digests), each unique blob is sent
 * once and stored once, reruns send nothing, and each registry gets its own copy.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, planner, plannerAsync, tempDir } from '../helpers/cli.js';
import { monorepoImages, writeLayout, type WrittenLayout } from './helpers/layout.js';
import { startRegistry, type TestRegistry } from './helpers/registry.js';
import { copyBack, inspect, remoteDigest, writeWorkspace } from './helpers/verify.js';

const MiB = 1024 * 1024;
let work: string;
let layout: WrittenLayout;
let registry: TestRegistry;
let second: TestRegistry;

/** Bytes of every config and layer blob (what a push uploads; manifests are not blobs to upload). */
function blobBytes(l: WrittenLayout, refs?: string[]): { bytes: number; count: number } {
  const seen = new Map<string, number>();
  for (const image of l.images) {
    if (refs && !refs.includes(image.ref)) continue;
    for (const b of [image.config, ...image.layers]) seen.set(b.digest, b.size);
  }
  return { bytes: [...seen.values()].reduce((s, n) => s + n, 0), count: seen.size };
}

beforeAll(async () => {
  work = tempDir('planner-push-');
  layout = writeLayout(path.join(work, 'oci'), monorepoImages({ images: 4, baseSize: 2 * MiB, appSize: 200_000, bigSize: 9 * MiB }));
  registry = await startRegistry(path.join(work, 'registry'));
  second = await startRegistry(path.join(work, 'registry2'));
});

afterAll(async () => {
  await registry?.stop();
  await second?.stop();
});

describe('planner push', () => {
  it('pushes every image once per blob and skopeo reads back the same digests', async () => {
    const run = planner(['push', '--out', layout.dir, '--registry', `${registry.host}/team`, '--chunk-size', String(4 * MiB), '--json']);
    expect(run.code, run.stderr).toBe(0);
    const data = json(run);
    const expected = blobBytes(layout);
    expect(data.totals).toMatchObject({ images: 4, registries: 1, bytesUploaded: expected.bytes, blobsUploaded: expected.count, bytesSkipped: 0 });
    // Shared layers went up once and were mounted into the other repositories.
    expect(data.totals.blobsMounted).toBeGreaterThan(0);
    // Each blob is credited to one image: the per-image figures add up to the totals.
    for (const field of ['bytesUploaded', 'blobsUploaded', 'bytesMounted', 'blobsMounted', 'bytesSkipped', 'blobsSkipped']) {
      expect(
        data.images.reduce((sum: number, i: Record<string, number>) => sum + i[field]!, 0),
        field,
      ).toBe(data.totals[field]);
    }
    for (const image of layout.images) {
      const pushed = data.images.find((i: { image: string }) => i.image === image.ref);
      const reference = `${registry.host}/team/${image.ref}`;
      expect(pushed).toMatchObject({ target: reference, manifestDigest: image.manifestDigest, manifest: 'pushed' });
      expect(await remoteDigest(reference)).toBe(image.manifestDigest);
      expect((await inspect(reference)).Layers).toEqual(image.layers.map((l) => l.digest));
      expect(await copyBack(reference, path.join(work, 'back', image.ref.replace(':', '-')))).toBe(image.manifestDigest);
    }
    // The registry stores every unique blob (layers, configs, manifests) exactly once, nothing else.
    expect(registry.blobDigests()).toEqual([...layout.blobs.keys()].sort());
  });

  it('credits a blob two tags of one repository share to the first of them only', async () => {
    const tags = writeLayout(path.join(work, 'tags'), [
      {
        name: 'svc',
        tag: 'v1',
        layers: [
          { seed: 'tags-base', size: 64 * 1024 },
          { seed: 'tags-v1', size: 1024 },
        ],
      },
      {
        name: 'svc',
        tag: 'v2',
        layers: [
          { seed: 'tags-base', size: 64 * 1024 },
          { seed: 'tags-v2', size: 2048 },
        ],
      },
    ]);
    // A registry of its own: the other tests check what the shared one holds.
    const own = await startRegistry(path.join(work, 'tags-registry'));
    try {
      const data = json(await plannerAsync(['push', '--out', tags.dir, '--registry', `${own.host}/tags`, '--json']));
      const [v1, v2] = ['svc:v1', 'svc:v2'].map((ref) => data.images.find((i: { image: string }) => i.image === ref));
      expect(data.totals.bytesUploaded).toBe(blobBytes(tags).bytes);
      // The shared base went up once, for v1; v2 found it already in the repository.
      expect(v1.blobsUploaded).toBe(3);
      expect(v2.blobsUploaded).toBe(2);
      expect(v2.blobsSkipped).toBe(1);
      expect(v1.bytesUploaded + v2.bytesUploaded).toBe(data.totals.bytesUploaded);
    } finally {
      await own.stop();
    }
  });

  it('sends nothing the second time and leaves the tags alone', () => {
    const run = planner(['push', '--out', layout.dir, '--registry', `${registry.host}/team`, '--json']);
    expect(run.code, run.stderr).toBe(0);
    const data = json(run);
    // Skipped counts per repository: each image's repository already holds all its blobs.
    const perRepository = layout.images.reduce((s, i) => s + blobBytes(layout, [i.ref]).bytes, 0);
    expect(data.totals).toMatchObject({ bytesUploaded: 0, blobsUploaded: 0, blobsMounted: 0, bytesSkipped: perRepository });
    expect(data.images.every((i: { manifest: string }) => i.manifest === 'unchanged')).toBe(true);
  });

  it('prints a per-image table and plain progress lines when not on a terminal', () => {
    const run = planner(['push', '--out', layout.dir, '--registry', `${registry.host}/other`]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/image\s+manifest\s+uploaded\s+skipped \(present\)\s+mounted/);
    expect(run.stdout).toContain(`${registry.host}/other/svc0:v1`);
    expect(run.stdout).toMatch(/uploaded\s+\d+\.\d MiB in \d+ blobs/);
    expect(run.stderr).toMatch(/^uploaded sha256:[0-9a-f]{12}/m);
    expect(run.stderr).toMatch(/^mounted {2}sha256:/m);
    expect(run.stderr).toContain(`pushed ${registry.host}/other/svc3:v1 `);
    // Everything was already in the registry (other repositories): nothing new is stored.
    expect(registry.blobDigests()).toEqual([...layout.blobs.keys()].sort());
  });

  it('sends each registry its own copy: config registry and a manifest repository elsewhere', async () => {
    const ws = path.join(work, 'ws');
    mkdirSync(ws, { recursive: true });
    writeWorkspace(ws, {
      config: { registry: `${registry.host}/acme`, out: layout.dir },
      images: [
        { name: 'svc0', tag: 'v1' },
        { name: 'svc1', tag: 'v1' },
        { name: 'svc2', tag: 'v1', repository: `${second.host}/quotes` },
        { name: 'svc3', tag: 'v1', repository: `${second.host}/billing/svc3` },
      ],
    });
    const run = planner(['push', '-C', ws, '--json']);
    expect(run.code, run.stderr).toBe(0);
    const data = json(run);
    expect(data.images.map((i: { target: string }) => i.target)).toEqual(
      [`${registry.host}/acme/svc0:v1`, `${registry.host}/acme/svc1:v1`, `${second.host}/billing/svc3:v1`, `${second.host}/quotes:v1`].sort(),
    );
    expect(data.totals.registries).toBe(2);
    // Each registry gets its own copy of what its images need, shared blobs once per registry.
    // (acme/* are new repositories: the client cannot know team/* holds the blobs, so it
    // uploads them again, and the registry still stores each once.)
    const firstBytes = blobBytes(layout, ['svc0:v1', 'svc1:v1']);
    const secondBytes = blobBytes(layout, ['svc2:v1', 'svc3:v1']);
    expect(data.totals.bytesUploaded).toBe(firstBytes.bytes + secondBytes.bytes);
    expect(registry.blobDigests()).toEqual([...layout.blobs.keys()].sort());
    expect(await remoteDigest(`${second.host}/quotes:v1`)).toBe(layout.images[2]!.manifestDigest);
    expect(await remoteDigest(`${registry.host}/acme/svc1:v1`)).toBe(layout.images[1]!.manifestDigest);
    const wanted = new Set<string>();
    for (const image of layout.images.slice(2)) for (const d of [image.manifestDigest, image.config.digest, ...image.layers.map((l) => l.digest)]) wanted.add(d);
    expect(second.blobDigests()).toEqual([...wanted].sort());
  });

  it('pushes a layout made by umoci, whose ref names are bare tags', async () => {
    const dir = path.join(work, 'umoci');
    const rootfs = path.join(work, 'umoci-files');
    mkdirSync(rootfs, { recursive: true });
    writeFileSync(path.join(rootfs, 'hello.txt'), 'hello from umoci\n');
    execFileSync('umoci', ['init', '--layout', dir]);
    execFileSync('umoci', ['new', '--image', `${dir}:base`]);
    execFileSync('umoci', ['insert', '--image', `${dir}:base`, rootfs, '/srv']);
    execFileSync('umoci', ['tag', '--image', `${dir}:base`, 'derived']);
    execFileSync('umoci', ['insert', '--image', `${dir}:derived`, path.join(rootfs, 'hello.txt'), '/etc/motd']);
    const run = planner(['push', '--out', dir, '--registry', `${registry.host}/umoci`, '--json']);
    expect(run.code, run.stderr).toBe(0);
    const data = json(run);
    expect(data.images.map((i: { target: string }) => i.target)).toEqual([`${registry.host}/umoci/base:latest`, `${registry.host}/umoci/derived:latest`]);
    for (const image of data.images) expect(await remoteDigest(image.target)).toBe(image.manifestDigest);
    // derived shares base's layer: mounted, not sent twice.
    expect(data.totals.blobsMounted).toBe(1);
  });

  it('refuses a plain-HTTP registry on a non-loopback address without --insecure, at once', async () => {
    // A real docker-registry on this machine's first non-loopback IPv4 address (CI machines have one).
    const address = Object.values(networkInterfaces())
      .flat()
      .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
    expect(address, 'no non-loopback IPv4 address on this machine').toBeDefined();
    const remote = await startRegistry(path.join(work, 'plain-remote'), { kind: 'none' }, undefined, address);
    try {
      const refused = await plannerAsync(['push', '--out', layout.dir, '--registry', `${remote.host}/plain`, '--verbose']);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain(`[E_REGISTRY_INSECURE] registry ${remote.host} speaks plain HTTP, not HTTPS`);
      expect(refused.stderr).toContain('hint: pass --insecure');
      expect(refused.stderr).not.toContain('retry');
      const allowed = await plannerAsync(['push', '--out', layout.dir, '--registry', `${remote.host}/plain`, '--insecure', '--json']);
      expect(allowed.code, allowed.stderr).toBe(0);
      expect(json(allowed).images[0].manifestDigest).toBe(layout.images[0]!.manifestDigest);
    } finally {
      await remote.stop();
    }
  });

  it('refuses what it cannot push, with a code and a hint and no traffic', () => {
    const none = planner(['push', '--out', path.join(work, 'missing'), '--registry', registry.host]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('[E_LAYOUT_INVALID]');
    const http = planner(['push', '--out', layout.dir, '--registry', 'http://registry.invalid:5000']);
    expect(http.code).toBe(2);
    expect(http.stderr).toContain('[E_REGISTRY_INSECURE]');
    expect(http.stderr).toContain('--insecure');
    const noRegistry = planner(['push', '--out', layout.dir]);
    expect(noRegistry.code).toBe(2);
    expect(noRegistry.stderr).toContain('[E_USAGE] no registry for image');
    const bad = planner(['push', '--out', layout.dir, '--registry', 'Bad Registry!']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('[E_USAGE] --registry: "Bad Registry!" is not a valid registry (host[:port][/path]) or repository path component');
    const shard = planner(['push', '--out', layout.dir, '--registry', registry.host, '--shard', '4/3']);
    expect(shard.code).toBe(2);
    expect(shard.stderr).toContain('--shard must be i/n');
  });
});
