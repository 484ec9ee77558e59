import { createHash } from 'node:crypto';
import { access, readFile } from 'node:fs/promises';
import path from 'node:path';
import { PlannerError } from '@planner/errors';
import type { Descriptor, Layout, LayoutImage, LayoutManifest } from './types.js';

export const REF_NAME = 'org.opencontainers.image.ref.name';
const INDEX_TYPES = new Set(['application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.list.v2+json']);
const MANIFEST_TYPES = new Set(['application/vnd.oci.image.manifest.v1+json', 'application/vnd.docker.distribution.manifest.v2+json']);
const DIGEST = /^sha256:[a-f0-9]{64}$/;

function invalid(dir: string, message: string, file?: string): PlannerError {
  return new PlannerError('E_LAYOUT_INVALID', `OCI layout ${dir}: ${message}`, {
    ...(file ? { file } : {}),
    hint: 'build the images first with `planner build`, or point --out at an OCI image layout directory',
  });
}

/** Path of a blob in a layout: `blobs/<algorithm>/<hex>`. */
export function blobPath(dir: string, digest: string): string {
  const [algorithm, hex] = digest.split(':');
  return path.join(dir, 'blobs', algorithm!, hex!);
}

export async function hasBlob(dir: string, digest: string): Promise<boolean> {
  try {
    await access(blobPath(dir, digest));
    return true;
  } catch {
    return false;
  }
}

function descriptor(dir: string, value: unknown, where: string): Descriptor {
  const d = value as Partial<Descriptor> | null;
  if (!d || typeof d.mediaType !== 'string' || typeof d.digest !== 'string' || !DIGEST.test(d.digest) || typeof d.size !== 'number' || !Number.isSafeInteger(d.size) || d.size < 0) {
    throw invalid(dir, `${where} is not a valid sha256 descriptor`);
  }
  return {
    mediaType: d.mediaType,
    digest: d.digest,
    size: d.size,
    ...(d.annotations && typeof d.annotations === 'object' ? { annotations: d.annotations } : {}),
  };
}

async function readManifest(dir: string, desc: Descriptor, depth: number): Promise<LayoutManifest> {
  const file = blobPath(dir, desc.digest);
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch {
    throw invalid(dir, `manifest ${desc.digest} is listed but its blob is missing`, file);
  }
  const actual = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  if (actual !== desc.digest || bytes.length !== desc.size) {
    throw invalid(dir, `manifest blob ${desc.digest} does not match its descriptor (digest ${actual}, ${bytes.length} bytes)`, file);
  }
  let json: { mediaType?: unknown; config?: unknown; layers?: unknown; manifests?: unknown };
  try {
    json = JSON.parse(bytes.toString('utf8')) as typeof json;
  } catch {
    throw invalid(dir, `manifest ${desc.digest} is not JSON`, file);
  }
  const mediaType = typeof json.mediaType === 'string' ? json.mediaType : desc.mediaType;
  if (INDEX_TYPES.has(mediaType)) {
    if (depth > 4) throw invalid(dir, `image indexes nest too deep at ${desc.digest}`, file);
    const list = Array.isArray(json.manifests) ? json.manifests : [];
    const children: LayoutManifest[] = [];
    for (const [i, child] of list.entries()) children.push(await readManifest(dir, descriptor(dir, child, `manifests[${i}] of ${desc.digest}`), depth + 1));
    return { digest: desc.digest, mediaType, size: bytes.length, bytes, blobs: [], children };
  }
  if (!MANIFEST_TYPES.has(mediaType)) throw invalid(dir, `manifest ${desc.digest} has unsupported media type ${mediaType}`, file);
  const layers = Array.isArray(json.layers) ? json.layers : [];
  const blobs = [descriptor(dir, json.config, `config of ${desc.digest}`), ...layers.map((l, i) => descriptor(dir, l, `layers[${i}] of ${desc.digest}`))];
  return { digest: desc.digest, mediaType, size: bytes.length, bytes, blobs, children: [] };
}

/** `api:1.2` -> api, 1.2; a bare `latest` (umoci's spelling) -> latest, latest. */
export function splitRef(ref: string): { name: string; tag: string } {
  const colon = ref.lastIndexOf(':');
  if (colon > 0 && !ref.slice(colon).includes('/')) return { name: ref.slice(0, colon), tag: ref.slice(colon + 1) };
  return { name: ref, tag: 'latest' };
}

/**
 * Reads an OCI image layout (image-spec image-layout.md): `oci-layout`, `index.json` and the
 * manifests it names. Layer and config blobs are not read, only listed; entries without a
 * ref name annotation cannot be tagged and are left out.
 */
export async function readLayout(dir: string): Promise<Layout> {
  const layoutFile = path.join(dir, 'oci-layout');
  let marker: { imageLayoutVersion?: unknown };
  try {
    marker = JSON.parse(await readFile(layoutFile, 'utf8')) as typeof marker;
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    throw invalid(dir, missing ? 'no oci-layout file (not an OCI image layout)' : 'oci-layout is not JSON', layoutFile);
  }
  if (typeof marker.imageLayoutVersion !== 'string') throw invalid(dir, 'oci-layout has no imageLayoutVersion', layoutFile);
  const indexFile = path.join(dir, 'index.json');
  let index: { manifests?: unknown };
  try {
    index = JSON.parse(await readFile(indexFile, 'utf8')) as typeof index;
  } catch {
    throw invalid(dir, 'index.json is missing or not JSON', indexFile);
  }
  if (!Array.isArray(index.manifests)) throw invalid(dir, 'index.json has no manifests list', indexFile);
  const images: LayoutImage[] = [];
  const seen = new Set<string>();
  for (const [i, entry] of index.manifests.entries()) {
    const desc = descriptor(dir, entry, `index.json manifests[${i}]`);
    const ref = desc.annotations?.[REF_NAME];
    if (!ref) continue;
    const { name, tag } = splitRef(ref);
    const full = `${name}:${tag}`;
    if (seen.has(full)) throw invalid(dir, `two manifests in index.json are both named ${full}`, indexFile);
    seen.add(full);
    images.push({ ref: full, name, tag, manifest: await readManifest(dir, desc, 0) });
  }
  images.sort((a, b) => (a.ref < b.ref ? -1 : a.ref > b.ref ? 1 : 0));
  return { dir, images };
}

/** Every blob (config and layers) a manifest needs, children included, first occurrence order. */
export function manifestBlobs(manifest: LayoutManifest): Descriptor[] {
  const out = new Map<string, Descriptor>();
  const walk = (m: LayoutManifest): void => {
    for (const child of m.children) walk(child);
    for (const blob of m.blobs) if (!out.has(blob.digest)) out.set(blob.digest, blob);
  };
  walk(manifest);
  return [...out.values()];
}
