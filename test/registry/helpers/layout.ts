/**
 * Writes small OCI image layouts for the registry tests without the builder: real gzip'd
 * tar layers with deterministic pseudo-random content, image configs with diff_ids,
 * manifests and index.json annotated `name:tag`, shared layers stored once.
 */
import { createCipheriv, createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';

export interface LayerSpec {
  /** Same seed and size give the same bytes, so images listing it share the layer. */
  seed: string;
  size: number;
}

export interface ImageSpecFixture {
  name: string;
  tag: string;
  layers: LayerSpec[];
}

export interface WrittenBlob {
  digest: string;
  size: number;
}

export interface WrittenImage {
  ref: string;
  manifestDigest: string;
  config: WrittenBlob;
  layers: WrittenBlob[];
}

export interface WrittenLayout {
  dir: string;
  images: WrittenImage[];
  /** Every unique blob: layers, configs and manifests. */
  blobs: Map<string, number>;
}

const sha = (data: Buffer): string => `sha256:${createHash('sha256').update(data).digest('hex')}`;

export function randomBytes(seed: string, size: number): Buffer {
  const key = createHash('sha256').update(seed).digest().subarray(0, 16);
  const cipher = createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
  return Buffer.concat([cipher.update(Buffer.alloc(size)), cipher.final()]);
}

function tarHeader(name: string, size: number): Buffer {
  const h = Buffer.alloc(512);
  const put = (value: string, offset: number, length: number): void => {
    h.write(value.slice(0, length), offset, 'ascii');
  };
  const octal = (n: number, length: number): string => `${n.toString(8).padStart(length - 1, '0')}\0`;
  put(name, 0, 100);
  put(octal(0o644, 8), 100, 8);
  put(octal(0, 8), 108, 8);
  put(octal(0, 8), 116, 8);
  put(octal(size, 12), 124, 12);
  put(octal(0, 12), 136, 12);
  put('        ', 148, 8);
  put('0', 156, 1);
  put('ustar\0', 257, 6);
  put('00', 263, 2);
  let sum = 0;
  for (const b of h) sum += b;
  put(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8);
  return h;
}

export function layerTar(spec: LayerSpec): Buffer {
  const data = randomBytes(spec.seed, spec.size);
  const pad = Buffer.alloc((512 - (data.length % 512)) % 512);
  return Buffer.concat([tarHeader(`data/${spec.seed}`, data.length), data, pad, Buffer.alloc(1024)]);
}

export function writeLayout(dir: string, images: ImageSpecFixture[]): WrittenLayout {
  const blobDir = path.join(dir, 'blobs', 'sha256');
  mkdirSync(blobDir, { recursive: true });
  const blobs = new Map<string, number>();
  const put = (data: Buffer): WrittenBlob => {
    const digest = sha(data);
    if (!blobs.has(digest)) {
      writeFileSync(path.join(blobDir, digest.slice(7)), data);
      blobs.set(digest, data.length);
    }
    return { digest, size: data.length };
  };
  const layerCache = new Map<string, { blob: WrittenBlob; diffID: string }>();
  const written: WrittenImage[] = [];
  const index: unknown[] = [];
  for (const image of images) {
    const layers = image.layers.map((spec) => {
      const k = `${spec.seed}/${spec.size}`;
      let entry = layerCache.get(k);
      if (!entry) {
        const tar = layerTar(spec);
        entry = { blob: put(gzipSync(tar, { level: 1 })), diffID: sha(tar) };
        layerCache.set(k, entry);
      }
      return entry;
    });
    const config = put(
      Buffer.from(
        JSON.stringify({
          architecture: 'amd64',
          os: 'linux',
          config: { Cmd: ['/bin/sh'], Labels: { image: `${image.name}:${image.tag}` } },
          rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffID) },
        }),
      ),
    );
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
        layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...l.blob })),
      }),
    );
    const m = put(manifest);
    index.push({
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      ...m,
      annotations: { 'org.opencontainers.image.ref.name': `${image.name}:${image.tag}` },
    });
    written.push({ ref: `${image.name}:${image.tag}`, manifestDigest: m.digest, config, layers: layers.map((l) => l.blob) });
  }
  writeFileSync(path.join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(path.join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: index }));
  return { dir, images: written, blobs };
}

/** Images sharing a base, a runtime and per-image app layers: the monorepo shape. */
export function monorepoImages(options: { images: number; baseSize: number; appSize: number; bigSize?: number }): ImageSpecFixture[] {
  const out: ImageSpecFixture[] = [];
  for (let i = 0; i < options.images; i++) {
    const layers: LayerSpec[] = [{ seed: 'base', size: options.baseSize }];
    layers.push({ seed: i % 2 === 0 ? 'runtime-even' : 'runtime-odd', size: Math.round(options.baseSize / 2) });
    if (options.bigSize && i < 2) layers.push({ seed: 'big', size: options.bigSize });
    layers.push({ seed: `app-${i}`, size: options.appSize + i * 1024 });
    out.push({ name: `svc${i}`, tag: 'v1', layers });
  }
  return out;
}
