import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { removeStaleTemps, tempName, writeError, type WrittenLayer } from './layer.js';
import type { LayerRecord } from './types.js';

/** Bump when the tar or compression format changes: old entries are then never matched. */
export const LAYER_FORMAT_VERSION = 1;

/** Cache key of a store layer: its path set, the format version and the compressor. */
export function storeLayerKey(paths: readonly string[], compressorId: string): string {
  return hashKey(['store', `format-${LAYER_FORMAT_VERSION}`, compressorId, ...paths]);
}

/** Cache key of a base-image layer that we (re)compress, by the uncompressed tar's digest. */
export function baseLayerKey(diffID: string, compressorId: string): string {
  return hashKey(['base', `format-${LAYER_FORMAT_VERSION}`, compressorId, diffID]);
}

/**
 * Cache key of a customisation layer: its roots, in order. Store paths never change, so the
 * symlinkJoin of the same roots is always the same tree (and we need not walk it to know).
 */
export function customisationLayerKey(roots: readonly string[], compressorId: string): string {
  return hashKey(['customisation', `format-${LAYER_FORMAT_VERSION}`, compressorId, ...roots]);
}

function hashKey(parts: string[]): string {
  return createHash('sha256').update(parts.join('\0')).digest('hex');
}

function isRecord(value: unknown): value is LayerRecord {
  const v = value as Partial<LayerRecord> | null;
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof v.diffID === 'string' &&
    /^sha256:[0-9a-f]{64}$/.test(v.diffID) &&
    typeof v.digest === 'string' &&
    /^sha256:[0-9a-f]{64}$/.test(v.digest) &&
    typeof v.size === 'number' &&
    typeof v.tarSize === 'number' &&
    typeof v.mediaType === 'string'
  );
}

/**
 * The layer cache: `v1/layers/<key>.json` records and `v1/blobs/sha256/<hex>` blobs. A record
 * is written (temp + rename) only after its blob is complete and renamed into place, so a
 * killed build leaves at worst an orphan temp file or blob, never a record pointing at a
 * partial blob. Reuse also checks the blob's size.
 */
export class LayerCache {
  readonly dir: string;
  readonly blobDir: string;
  readonly tmpDir: string;
  private readonly recordDir: string;

  constructor(dir: string) {
    this.dir = path.join(dir, `v${LAYER_FORMAT_VERSION}`);
    this.blobDir = path.join(this.dir, 'blobs', 'sha256');
    this.recordDir = path.join(this.dir, 'layers');
    this.tmpDir = path.join(this.dir, 'tmp');
  }

  /** Creates the directories and removes temp files of builds that are no longer running. */
  open(): void {
    try {
      for (const d of [this.blobDir, this.recordDir, this.tmpDir]) mkdirSync(d, { recursive: true });
      for (const d of [this.tmpDir, this.recordDir, this.blobDir]) removeStaleTemps(d);
    } catch (error) {
      throw writeError(this.dir, error);
    }
  }

  blobPath(digest: string): string {
    return path.join(this.blobDir, digest.replace(/^sha256:/, ''));
  }

  get(key: string): LayerRecord | undefined {
    let record: unknown;
    try {
      record = JSON.parse(readFileSync(path.join(this.recordDir, `${key}.json`), 'utf8'));
    } catch {
      return undefined;
    }
    if (!isRecord(record)) return undefined;
    const st = statSync(this.blobPath(record.digest), { throwIfNoEntry: false });
    if (!st || st.size !== record.size) return undefined;
    return { diffID: record.diffID, digest: record.digest, size: record.size, tarSize: record.tarSize, mediaType: record.mediaType };
  }

  /** Moves a finished blob into the cache and records it under `key`. */
  async put(key: string, written: WrittenLayer): Promise<LayerRecord> {
    const { file, ...record } = written;
    const blob = this.blobPath(record.digest);
    try {
      await rename(file, blob);
      const tmp = tempName(this.recordDir, 'record');
      await writeFile(tmp, `${JSON.stringify(record)}\n`);
      await rename(tmp, path.join(this.recordDir, `${key}.json`));
    } catch (error) {
      await rm(file, { force: true });
      throw writeError(blob, error);
    }
    return record;
  }
}
