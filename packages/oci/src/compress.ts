import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import zlib from 'node:zlib';
import { PlannerError } from '@planner/errors';
import { deflateSync } from 'fflate';
import type { Compression } from './types.js';

/**
 * Layer compression that gives the same bytes on every machine.
 *
 * Node's zlib output depends on the zlib build and the CPU's SIMD paths (nodejs/node#33610),
 * and registries dedupe by compressed digest, so a layer compressed by node:zlib on two
 * machines would be two blobs. We compress with fflate, a pure-JS deflate pinned to one exact
 * version (its output is a function of input, level and memory level only), and split the
 * tar into fixed 1 MiB blocks, each a complete gzip member (RFC 1952 allows a file to be a
 * series of members; every gzip reader we target — Go's compress/gzip, pgzip, GNU gzip,
 * zlib — reads them). Fixed blocks make the output independent of how reads are chunked and
 * let all cores compress one layer, like pigz, without making the bytes depend on the
 * number of cores.
 */
export const BLOCK_SIZE = 1 << 20;
/**
 * fflate level 2: on the Go toolchain (bench/build) ~25% faster than level 4 for ~2% more
 * bytes (~6% more than `gzip -6`); what it takes for two cores to keep up with `tar | pigz`.
 */
export const GZIP_LEVEL = 2;
const GZIP_MEM = 8;
const FFLATE_VERSION = '0.8.3';

export interface CompressorInfo {
  compression: Compression;
  /** Identity of the byte format: part of every cache key. */
  id: string;
  mediaType: string;
}

export const LAYER_MEDIA_TYPE = 'application/vnd.oci.image.layer.v1.tar';

export function compressorInfo(compression: Compression): CompressorInfo {
  switch (compression) {
    case 'none':
      return { compression, id: 'none', mediaType: LAYER_MEDIA_TYPE };
    case 'gzip':
      return {
        compression,
        id: `gzip-members/fflate-${FFLATE_VERSION}/level-${GZIP_LEVEL}/mem-${GZIP_MEM}/block-${BLOCK_SIZE}`,
        mediaType: `${LAYER_MEDIA_TYPE}+gzip`,
      };
    case 'zstd':
      throw new PlannerError('E_COMPRESSION', `zstd layers cannot be built reproducibly on Node ${process.versions.node}`, {
        hint:
          'Node 20 has no zstd in node:zlib, and the zstd binary gives different bytes across zstd versions ' +
          '(so different digests on different machines). Use --compression gzip (default) or none.',
      });
  }
}

const GZIP_HEADER = Uint8Array.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);

/** A deflated block with what its gzip trailer needs. */
export interface DeflatedBlock {
  deflated: Uint8Array;
  crc: number;
  length: number;
}

/** One gzip member: fixed header (mtime 0, OS 255), the deflate body, CRC32 and size. */
export function gzipMember(block: DeflatedBlock): Buffer {
  const { deflated } = block;
  const out = Buffer.allocUnsafe(GZIP_HEADER.length + deflated.length + 8);
  out.set(GZIP_HEADER, 0);
  out.set(deflated, GZIP_HEADER.length);
  out.writeUInt32LE(block.crc >>> 0, GZIP_HEADER.length + deflated.length);
  out.writeUInt32LE(block.length >>> 0, GZIP_HEADER.length + deflated.length + 4);
  return out;
}

export function deflateBlock(block: Uint8Array): DeflatedBlock {
  return { deflated: deflateSync(block, { level: GZIP_LEVEL, mem: GZIP_MEM }), crc: zlib.crc32(block), length: block.length };
}

interface Job {
  id: number;
  block: Uint8Array;
  resolve: (out: DeflatedBlock) => void;
  reject: (error: Error) => void;
}

/**
 * The worker's code, evaluated as a CommonJS script: it loads the same pinned fflate by
 * absolute path, so it works from the TypeScript sources and from the CLI bundle alike (where
 * fflate is an external dependency) without a separate worker file. The known-answer check
 * below proves it produces the same bytes as the in-thread path.
 */
function workerSource(): string | undefined {
  let fflate: string;
  try {
    fflate = createRequire(import.meta.url).resolve('fflate');
  } catch {
    return undefined;
  }
  return `
const { parentPort } = require('node:worker_threads');
const { crc32 } = require('node:zlib');
const { deflateSync } = require(${JSON.stringify(fflate)});
parentPort.on('message', (job) => {
  try {
    const deflated = deflateSync(job.block, { level: job.level, mem: job.mem });
    const out = { deflated, crc: crc32(job.block), length: job.block.length };
    // The input block goes back too, so the writer can refill it instead of allocating.
    parentPort.postMessage({ id: job.id, out, block: job.block }, [deflated.buffer, job.block.buffer]);
  } catch (error) {
    parentPort.postMessage({ id: job.id, error: String((error && error.stack) || error) });
  }
});
`;
}

/**
 * A fixed set of worker threads deflating blocks. Lives for one build; `close()` ends the
 * workers. With 0 threads (or no resolvable fflate for workers) it compresses in-thread:
 * same bytes, one core.
 */
export class BlockCompressor {
  private readonly workers: Worker[] = [];
  private readonly idle: Worker[] = [];
  private readonly queue: Job[] = [];
  private readonly running = new Map<number, Job>();
  private nextId = 0;
  private failure: Error | undefined;
  readonly threads: number;

  constructor(threads = os.availableParallelism()) {
    const source = threads > 0 ? workerSource() : undefined;
    this.threads = source ? threads : 0;
    for (let i = 0; i < this.threads; i++) {
      const worker = new Worker(source!, { eval: true });
      worker.unref();
      worker.on('message', (msg: { id: number; out?: DeflatedBlock; block?: Uint8Array; error?: string }) => {
        const job = this.running.get(msg.id);
        this.running.delete(msg.id);
        this.idle.push(worker);
        if (msg.block) this.recycle(msg.block);
        if (job) {
          if (msg.out) job.resolve(msg.out);
          else job.reject(new Error(`compression worker failed: ${msg.error}`));
        }
        this.pump();
      });
      worker.on('error', (error) => this.fail(error));
      this.workers.push(worker);
      this.idle.push(worker);
    }
  }

  private readonly free: Uint8Array[] = [];

  /** An empty BLOCK_SIZE buffer: a recycled one when available (fresh pages cost page faults). */
  takeBlock(): Uint8Array {
    return this.free.pop() ?? new Uint8Array(BLOCK_SIZE);
  }

  private recycle(block: Uint8Array): void {
    if (block.byteLength === BLOCK_SIZE && block.byteOffset === 0 && block.buffer.byteLength === BLOCK_SIZE && this.free.length < 64) {
      this.free.push(block);
    }
  }

  /**
   * Deflates one block. The block's buffer is handed over (to a worker, then back to this
   * pool's free list for takeBlock()): the caller must not touch it again.
   */
  deflate(block: Uint8Array): Promise<DeflatedBlock> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.threads === 0) {
      return new Promise((resolve, reject) =>
        setImmediate(() => {
          try {
            resolve(deflateBlock(block));
            this.recycle(block);
          } catch (error) {
            reject(error as Error);
          }
        }),
      );
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, block, resolve, reject });
      this.pump();
    });
  }

  /** Blocks waiting or running: writers use it to bound memory. */
  get pending(): number {
    return this.queue.length + this.running.size;
  }

  private pump(): void {
    while (this.idle.length > 0 && this.queue.length > 0) {
      const worker = this.idle.pop()!;
      const job = this.queue.shift()!;
      this.running.set(job.id, job);
      const buffer = job.block.buffer;
      const whole = job.block.byteOffset === 0 && job.block.byteLength === buffer.byteLength;
      const block = whole ? job.block : job.block.slice();
      worker.postMessage({ id: job.id, block, level: GZIP_LEVEL, mem: GZIP_MEM }, [block.buffer as ArrayBuffer]);
    }
  }

  private fail(error: Error): void {
    this.failure = error;
    for (const job of [...this.running.values(), ...this.queue]) job.reject(error);
    this.running.clear();
    this.queue.length = 0;
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.workers.length = 0;
    this.idle.length = 0;
  }
}

/**
 * Known-answer test: a fixed input must compress to a fixed digest. A different fflate
 * (or a broken worker) would silently change every layer digest, so refuse to build.
 */
export async function checkCompressor(compressor: BlockCompressor): Promise<void> {
  const input = knownInput();
  const member = gzipMember(await compressor.deflate(input.slice()));
  const digest = createHash('sha256').update(member).digest('hex');
  if (digest !== KNOWN_DIGEST) {
    throw new PlannerError('E_COMPRESSION', `the gzip compressor does not produce the pinned bytes (got sha256:${digest})`, {
      hint: `Layer digests would differ from other machines. Reinstall dependencies so fflate is exactly ${FFLATE_VERSION}.`,
      exitCode: 1,
    });
  }
}

/** 192 KiB of text-like and random-like bytes, generated from a fixed seed. */
function knownInput(): Uint8Array {
  const out = new Uint8Array(192 * 1024);
  let x = 0x2545f491;
  const words = ['nix', 'store', 'layer', 'planner', '/bin/sh', 'lib', 'glibc-2.37', '\n', ' ', '{}', 'ELF'];
  let i = 0;
  while (i < out.length) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    if (i < 96 * 1024) {
      const w = words[x % words.length]!;
      for (let j = 0; j < w.length && i < out.length; j++) out[i++] = w.charCodeAt(j);
    } else out[i++] = x & 0xff;
  }
  return out;
}

const KNOWN_DIGEST = 'ce913a93aaf99824f0e193d0bfe1d595632d93a2748042a11e6a68f9ae5e6f33';
