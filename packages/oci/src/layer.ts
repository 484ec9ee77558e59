import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, rmSync } from 'node:fs';
import { open, rm, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { PlannerError } from '@planner/errors';
import { BLOCK_SIZE, gzipMember, type BlockCompressor, type CompressorInfo, type DeflatedBlock } from './compress.js';
import type { LayerRecord } from './types.js';

export function writeError(file: string, error: unknown): PlannerError {
  if (error instanceof PlannerError) return error;
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new PlannerError('E_NO_SPACE', `no space left on the device while writing ${file}`, {
      hint: 'Free some space (or point --out / the cache elsewhere) and rerun: finished layers are reused.',
      exitCode: 1,
      cause: error,
    });
  }
  return new PlannerError('E_WRITE', `cannot write ${file}: ${(error as Error).message}`, {
    hint: 'Check the permissions of the output and cache directories.',
    exitCode: 1,
    cause: error,
  });
}

export function tempName(dir: string, base = 'blob'): string {
  return path.join(dir, `.tmp-${base}-${process.pid}-${randomBytes(6).toString('hex')}`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes temp files (from tempName) in `dir` whose process is gone: a killed build's leftovers. */
export function removeStaleTemps(dir: string): void {
  for (const name of readdirSync(dir)) {
    const m = /^\.tmp-[a-z]+-(\d+)-/.exec(name);
    if (m && !alive(Number(m[1]))) rmSync(path.join(dir, name), { force: true });
  }
}

export interface WrittenLayer extends LayerRecord {
  /** Temp file holding the blob; the caller renames it into place. */
  file: string;
}

export interface WriteLayerOptions {
  compressor: CompressorInfo;
  pool: BlockCompressor;
  /** Directory for the temp file (same file system as its final place). */
  tmpDir: string;
  /** Blocks in flight at once for this layer (bounds memory to ~2x this many MiB). */
  window?: number;
  onBytes?: (bytesIn: number, bytesOut: number) => void;
}

/**
 * Streams a tar into a blob file: hashes the tar (diffID), compresses it in fixed blocks on
 * the pool, writes members in order and hashes them (digest). Never holds more than
 * `window` blocks in memory. On any error the temp file is removed.
 */
export async function writeLayer(tar: AsyncIterable<Uint8Array>, options: WriteLayerOptions): Promise<WrittenLayer> {
  const file = tempName(options.tmpDir);
  const diff = createHash('sha256');
  const blob = createHash('sha256');
  let tarSize = 0;
  let size = 0;
  let fh: FileHandle | undefined;
  const compress = options.compressor.compression === 'gzip';
  const window = options.window ?? Math.max(2, options.pool.threads * 2);
  const inflight: Promise<DeflatedBlock>[] = [];
  let block = compress ? options.pool.takeBlock() : new Uint8Array(0);
  let fill = 0;

  const emit = async (bytes: Uint8Array): Promise<void> => {
    blob.update(bytes);
    size += bytes.length;
    try {
      await fh!.write(bytes);
    } catch (error) {
      throw writeError(file, error);
    }
    options.onBytes?.(tarSize, size);
  };
  const drain = async (keep: number): Promise<void> => {
    while (inflight.length > keep) {
      await emit(gzipMember(await inflight.shift()!));
    }
  };
  const submit = async (): Promise<void> => {
    // The pool takes the block's buffer over; take another to fill.
    const deflated = options.pool.deflate(fill === BLOCK_SIZE ? block : block.subarray(0, fill));
    // A failure is reported where the block is awaited, in order; not as an unhandled rejection meanwhile.
    deflated.catch(() => undefined);
    inflight.push(deflated);
    block = options.pool.takeBlock();
    fill = 0;
    await drain(window);
  };

  try {
    try {
      fh = await open(file, 'wx');
    } catch (error) {
      throw writeError(file, error);
    }
    for await (const chunk of tar) {
      diff.update(chunk);
      tarSize += chunk.length;
      if (!compress) {
        await emit(chunk);
        continue;
      }
      let offset = 0;
      while (offset < chunk.length) {
        const n = Math.min(BLOCK_SIZE - fill, chunk.length - offset);
        block.set(chunk.subarray(offset, offset + n), fill);
        fill += n;
        offset += n;
        if (fill === BLOCK_SIZE) await submit();
      }
    }
    if (compress) {
      if (fill > 0) await submit();
      await drain(0);
    }
    try {
      await fh.close();
    } catch (error) {
      throw writeError(file, error);
    } finally {
      fh = undefined;
    }
  } catch (error) {
    // Let in-flight blocks settle so no worker result arrives after we are gone.
    await Promise.allSettled(inflight);
    await fh?.close().catch(() => undefined);
    await rm(file, { force: true });
    throw error instanceof PlannerError ? error : writeError(file, error);
  }
  const diffID = `sha256:${diff.digest('hex')}`;
  return {
    file,
    diffID,
    digest: compress ? `sha256:${blob.digest('hex')}` : diffID,
    size,
    tarSize,
    mediaType: options.compressor.mediaType,
  };
}
