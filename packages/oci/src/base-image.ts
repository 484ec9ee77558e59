import { createHash } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import { open, rm, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import zlib from 'node:zlib';
import { PlannerError } from '@planner/errors';
import tar from 'tar-stream';
import { goArch, type OciImageConfig } from './config.js';
import { tempName, writeError, writeLayer, type WrittenLayer } from './layer.js';
import type { BlockCompressor, CompressorInfo } from './compress.js';
import { MEDIA_TYPES, type OciIndex, type OciManifest } from './layout.js';
import type { Descriptor } from './types.js';

/** A base image (`fromImage`) read from a docker-archive or an OCI-layout tarball. */
export interface BaseImage {
  file: string;
  format: 'docker-archive' | 'oci-archive';
  config: OciImageConfig;
  layers: BaseLayer[];
}

export interface BaseLayer {
  /** Name of the layer's entry inside the tarball. */
  entry: string;
  diffID: string;
  /** The OCI descriptor when the tarball is an OCI layout. */
  descriptor?: Descriptor;
}

const SMALL = 8 << 20;

function baseError(file: string, message: string, cause?: unknown): PlannerError {
  return new PlannerError('E_BASE_IMAGE', `${message}: ${file}`, {
    hint: 'fromImage must be a docker-archive (docker save, dockerTools.buildImage) or an OCI layout tarball (skopeo copy ... oci-archive:).',
    file,
    exitCode: 2,
    ...(cause !== undefined ? { cause } : {}),
  });
}

function normalise(name: string): string {
  return path.posix
    .normalize(name)
    .replace(/^(\.\/)+/, '')
    .replace(/^\/+/, '');
}

/** Streams every entry of a tarball; `onEntry` consumes (or ignores) the body. */
async function scanTar(file: string, onEntry: (name: string, size: number, body: Readable) => Promise<void>): Promise<void> {
  const extract = tar.extract();
  const input = createReadStream(file);
  input.on('error', (error) => extract.destroy(error));
  input.pipe(extract);
  try {
    for await (const entry of extract) {
      const body = entry as unknown as Readable;
      if (entry.header.type === 'file' || entry.header.type === 'contiguous-file') {
        await onEntry(normalise(entry.header.name), entry.header.size ?? 0, body);
      }
      body.resume();
    }
  } finally {
    // Stopped early (onEntry threw, or found what it wanted): close the file too.
    input.destroy();
  }
}

async function readAll(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of body) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

function parseJson<T>(file: string, what: string, bytes: Buffer | undefined): T {
  if (!bytes) throw baseError(file, `no ${what} in the base image`);
  try {
    return JSON.parse(bytes.toString('utf8')) as T;
  } catch (error) {
    throw baseError(file, `${what} is not JSON in the base image`, error);
  }
}

function blobEntry(digest: string): string {
  return `blobs/${digest.replace(':', '/')}`;
}

const parsed = new Map<string, { stamp: string; image: Promise<BaseImage> }>();

/**
 * Reads a base image's config and layer list (bodies of layers are not kept). Remembered per
 * file (size + mtime) for the process: planning counts the layers, building reads them again.
 */
export function readBaseImage(file: string): Promise<BaseImage> {
  const st = statSync(file, { throwIfNoEntry: false });
  const stamp = st ? `${st.size}:${st.mtimeMs}:${st.ino}` : 'missing';
  const hit = parsed.get(file);
  if (hit && hit.stamp === stamp) return hit.image;
  const image = parseBaseImage(file);
  parsed.set(file, { stamp, image });
  image.catch(() => parsed.delete(file));
  return image;
}

async function parseBaseImage(file: string): Promise<BaseImage> {
  const small = new Map<string, Buffer>();
  try {
    await scanTar(file, async (name, size, body) => {
      if (size <= SMALL && (name.endsWith('.json') || name === 'oci-layout' || name.startsWith('blobs/'))) small.set(name, await readAll(body));
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw baseError(file, 'base image not found', error);
    if (error instanceof PlannerError) throw error;
    throw baseError(file, 'cannot read the base image tarball', error);
  }
  if (small.has('index.json') && small.has('oci-layout')) {
    let index = parseJson<OciIndex>(file, 'index.json', small.get('index.json'));
    let manifest: OciManifest | undefined;
    for (let depth = 0; depth < 4 && !manifest; depth++) {
      const list = index.manifests ?? [];
      // One entry: that one; several (a multi-platform index): ours, else the first.
      const pick = (list.length === 1 ? list[0] : undefined) ?? list.find((d) => (d as { platform?: { architecture?: string; os?: string } }).platform?.architecture === goArch()) ?? list[0];
      if (!pick) throw baseError(file, 'index.json lists no image');
      const bytes = small.get(blobEntry(pick.digest));
      if (pick.mediaType === MEDIA_TYPES.index || pick.mediaType === MEDIA_TYPES.dockerManifestList) index = parseJson<OciIndex>(file, `index ${pick.digest}`, bytes);
      else manifest = parseJson<OciManifest>(file, `manifest ${pick.digest}`, bytes);
    }
    if (!manifest) throw baseError(file, 'no image manifest found');
    const config = parseJson<OciImageConfig>(file, `config ${manifest.config.digest}`, small.get(blobEntry(manifest.config.digest)));
    return checked(file, {
      file,
      format: 'oci-archive',
      config,
      layers: manifest.layers.map((d, i) => ({ entry: blobEntry(d.digest), diffID: config.rootfs?.diff_ids?.[i] ?? '', descriptor: d })),
    });
  }
  const manifest = parseJson<{ Config: string; Layers: string[] }[]>(file, 'manifest.json', small.get('manifest.json'));
  const first = manifest[0];
  if (!first || typeof first.Config !== 'string' || !Array.isArray(first.Layers)) throw baseError(file, 'manifest.json lists no image');
  const config = parseJson<OciImageConfig>(file, first.Config, small.get(normalise(first.Config)));
  return checked(file, {
    file,
    format: 'docker-archive',
    config,
    layers: first.Layers.map((l, i) => ({ entry: normalise(l), diffID: config.rootfs?.diff_ids?.[i] ?? '' })),
  });
}

function checked(file: string, image: BaseImage): BaseImage {
  const diffIDs = image.config.rootfs?.diff_ids;
  if (!Array.isArray(diffIDs) || diffIDs.length !== image.layers.length) {
    throw baseError(file, `the config lists ${diffIDs?.length ?? 0} diff_ids for ${image.layers.length} layers`);
  }
  for (const l of image.layers) if (!/^sha256:[0-9a-f]{64}$/.test(l.diffID)) throw baseError(file, `bad diff_id ${l.diffID}`);
  return image;
}

/** How many layers a base image adds below an image's own: what `ImageSpec.baseLayers` needs. */
export async function countBaseImageLayers(file: string): Promise<number> {
  return (await readBaseImage(file)).layers.length;
}

export interface ImportOptions {
  compressor: CompressorInfo;
  pool: BlockCompressor;
  tmpDir: string;
  /** Layers (by index) to import; the others are already cached. */
  wanted: ReadonlySet<number>;
  onLayer: (index: number, written: WrittenLayer) => Promise<void>;
}

/**
 * Imports a base image's layers as blobs. Compressed (gzip) layers are kept byte for byte, so
 * their digest stays the one the base image's registry knows; uncompressed layers (the usual
 * docker-archive) are compressed with our compressor. Either way the uncompressed bytes are
 * hashed and must match the config's diff_id.
 */
export async function importBaseLayers(image: BaseImage, options: ImportOptions): Promise<void> {
  const byEntry = new Map<string, number[]>();
  image.layers.forEach((l, i) => {
    if (options.wanted.has(i)) byEntry.set(l.entry, [...(byEntry.get(l.entry) ?? []), i]);
  });
  const done = new Set<number>();
  await scanTar(image.file, async (name, _size, body) => {
    const indexes = byEntry.get(name);
    if (!indexes) return;
    const written = await importOne(image, indexes[0]!, body, options);
    for (const i of indexes) {
      done.add(i);
      await options.onLayer(i, written);
    }
  });
  for (const i of options.wanted) if (!done.has(i)) throw baseError(image.file, `layer ${image.layers[i]!.entry} is missing from the base image`);
}

async function importOne(image: BaseImage, index: number, body: Readable, options: ImportOptions): Promise<WrittenLayer> {
  const layer = image.layers[index]!;
  const iterator = body[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const first = await iterator.next();
  const head = first.done ? Buffer.alloc(0) : first.value;
  const rest: AsyncIterable<Buffer> = {
    async *[Symbol.asyncIterator]() {
      if (head.length > 0) yield head;
      for (;;) {
        const r = await iterator.next();
        if (r.done) return;
        yield r.value;
      }
    },
  };
  let written: WrittenLayer;
  if (head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) {
    throw baseError(image.file, `layer ${layer.entry} is zstd-compressed, which this Node cannot read`);
  } else if (head[0] === 0x1f && head[1] === 0x8b) {
    written = await copyGzipBlob(rest, options.tmpDir, image.file);
  } else {
    written = await writeLayer(rest, { compressor: options.compressor, pool: options.pool, tmpDir: options.tmpDir });
  }
  if (written.diffID !== layer.diffID) {
    await rm(written.file, { force: true });
    throw baseError(image.file, `layer ${layer.entry} has diff_id ${written.diffID}, the config says ${layer.diffID}`);
  }
  return written;
}

/** Copies a gzip blob unchanged while gunzipping it to hash the tar. */
async function copyGzipBlob(source: AsyncIterable<Buffer>, tmpDir: string, imageFile: string): Promise<WrittenLayer> {
  const file = tempName(tmpDir);
  const blob = createHash('sha256');
  const diff = createHash('sha256');
  let size = 0;
  let tarSize = 0;
  const gunzip = zlib.createGunzip();
  gunzip.on('data', (c: Buffer) => {
    diff.update(c);
    tarSize += c.length;
  });
  const ended = new Promise<void>((resolve, reject) => {
    gunzip.on('end', resolve);
    gunzip.on('error', (error) => reject(baseError(imageFile, 'a gzip layer does not decompress', error)));
  });
  ended.catch(() => undefined);
  let fh: FileHandle | undefined;
  try {
    fh = await open(file, 'wx');
    for await (const chunk of source) {
      blob.update(chunk);
      size += chunk.length;
      await fh.write(chunk);
      if (!gunzip.write(chunk)) await new Promise((r) => gunzip.once('drain', r));
    }
    gunzip.end();
    await ended;
    await fh.close();
    fh = undefined;
  } catch (error) {
    await fh?.close().catch(() => undefined);
    await rm(file, { force: true });
    throw error instanceof PlannerError ? error : writeError(file, error);
  }
  return { file, diffID: `sha256:${diff.digest('hex')}`, digest: `sha256:${blob.digest('hex')}`, size, tarSize, mediaType: MEDIA_TYPES.layerGzip };
}
