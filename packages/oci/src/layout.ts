import { createHash } from 'node:crypto';
import { copyFile, link, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PlannerError } from '@planner/errors';
import { removeStaleTemps, tempName, writeError } from './layer.js';
import type { Descriptor } from './types.js';

/**
 * The OCI image layout (image-spec v1.1 `image-layout.md`): `oci-layout`, `index.json` and
 * `blobs/sha256/<hex>`. One layout holds every image; blobs shared by images are stored once;
 * each image is one manifest descriptor in index.json annotated with
 * `org.opencontainers.image.ref.name` = `name:tag`.
 */
export const MEDIA_TYPES = {
  index: 'application/vnd.oci.image.index.v1+json',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layer: 'application/vnd.oci.image.layer.v1.tar',
  layerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  layerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
} as const;

export const REF_NAME = 'org.opencontainers.image.ref.name';

export interface OciIndex {
  schemaVersion: 2;
  mediaType?: string;
  manifests: Descriptor[];
  annotations?: Record<string, string>;
}

export interface OciManifest {
  schemaVersion: 2;
  mediaType: string;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
}

export function sha256(bytes: Uint8Array | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

export function blobPath(layoutDir: string, digest: string): string {
  const [algorithm, hex] = digest.split(':');
  if (algorithm !== 'sha256' || !hex || !/^[0-9a-f]{64}$/.test(hex)) throw new Error(`not a sha256 digest: ${digest}`);
  return path.join(layoutDir, 'blobs', algorithm, hex);
}

/** Canonical JSON bytes of a config, manifest or index (fixed key order, no spaces, newline-free). */
export function jsonBytes(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value), 'utf8');
}

/** Writes into a layout: blobs by temp + rename (so a present blob is a complete blob), index last. */
export class LayoutWriter {
  readonly dir: string;
  /** Blob bytes this writer wrote (copies and JSON; hard links to the cache cost nothing). */
  bytesWritten = 0;

  constructor(dir: string) {
    this.dir = dir;
  }

  async open(): Promise<void> {
    try {
      await mkdir(path.join(this.dir, 'blobs', 'sha256'), { recursive: true });
      removeStaleTemps(this.dir);
      removeStaleTemps(path.join(this.dir, 'blobs', 'sha256'));
      await this.atomicWrite(path.join(this.dir, 'oci-layout'), jsonBytes({ imageLayoutVersion: '1.0.0' }));
    } catch (error) {
      throw writeError(this.dir, error);
    }
  }

  private async present(digest: string, size: number): Promise<boolean> {
    const st = await stat(blobPath(this.dir, digest)).catch(() => undefined);
    return st !== undefined && st.isFile() && st.size === size;
  }

  /** Puts a blob file (from the cache) into the layout: hard link, else copy. */
  async addBlobFile(source: string, digest: string, size: number): Promise<void> {
    if (await this.present(digest, size)) return;
    const dest = blobPath(this.dir, digest);
    const tmp = tempName(path.dirname(dest));
    try {
      try {
        await link(source, tmp);
      } catch {
        await copyFile(source, tmp);
        this.bytesWritten += size;
      }
      await rename(tmp, dest);
    } catch (error) {
      await rm(tmp, { force: true });
      throw writeError(dest, error);
    }
  }

  /** Writes a small blob (config, manifest) from memory and returns its descriptor. */
  async addBlobBytes(bytes: Buffer, mediaType: string): Promise<Descriptor> {
    const digest = sha256(bytes);
    if (!(await this.present(digest, bytes.length))) {
      await this.atomicWrite(blobPath(this.dir, digest), bytes);
      this.bytesWritten += bytes.length;
    }
    return { mediaType, digest, size: bytes.length };
  }

  /** Replaces index.json: the step that makes the new images visible. */
  async writeIndex(manifests: Descriptor[]): Promise<void> {
    const index: OciIndex = { schemaVersion: 2, mediaType: MEDIA_TYPES.index, manifests };
    await this.atomicWrite(path.join(this.dir, 'index.json'), Buffer.from(`${JSON.stringify(index, null, 2)}\n`));
  }

  private async atomicWrite(file: string, bytes: Buffer): Promise<void> {
    const tmp = tempName(path.dirname(file), 'file');
    try {
      await writeFile(tmp, bytes);
      await rename(tmp, file);
    } catch (error) {
      await rm(tmp, { force: true });
      throw writeError(file, error);
    }
  }

  /** Deletes blobs no manifest in `keep` (transitively) references. */
  async prune(keep: ReadonlySet<string>): Promise<number> {
    let removed = 0;
    const dir = path.join(this.dir, 'blobs', 'sha256');
    for (const name of await readdir(dir)) {
      if (!name.startsWith('.tmp-') && !keep.has(`sha256:${name}`)) {
        await rm(path.join(dir, name), { force: true });
        removed++;
      }
    }
    return removed;
  }
}

// ---- reading a layout's index (for incremental builds) ----

function layoutError(dir: string, message: string, cause?: unknown): PlannerError {
  return new PlannerError('E_READ', `${message} in OCI layout ${dir}`, {
    hint: 'Run `planner build --all` to rewrite the layout.',
    file: dir,
    exitCode: 1,
    ...(cause !== undefined ? { cause } : {}),
  });
}

export async function readIndex(layoutDir: string): Promise<OciIndex> {
  let text: string;
  try {
    text = await readFile(path.join(layoutDir, 'index.json'), 'utf8');
  } catch (error) {
    throw layoutError(layoutDir, 'no index.json', error);
  }
  let index: OciIndex;
  try {
    index = JSON.parse(text) as OciIndex;
  } catch (error) {
    throw layoutError(layoutDir, 'index.json is not JSON', error);
  }
  if (index?.schemaVersion !== 2 || !Array.isArray(index.manifests)) throw layoutError(layoutDir, 'index.json is not an OCI index');
  return index;
}
