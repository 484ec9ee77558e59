import { createReadStream, readFileSync } from 'node:fs';
import tar from 'tar-stream';
import { readError, type TarEntry } from './entries.js';

/** Every entry's mtime: 1 second after the epoch, as nixpkgs' layers (0 upsets some tools). */
export const LAYER_MTIME = new Date(1000);
/**
 * Files up to this size are read with one synchronous call: from the page cache that takes
 * microseconds, while an async readFile costs four thread-pool round trips, which left the
 * compression workers idle on trees of many small files.
 */
const SMALL_FILE = 1 << 20;

function header(e: TarEntry): tar.Header {
  return {
    name: e.name,
    mode: e.mode,
    mtime: LAYER_MTIME,
    uid: 0,
    gid: 0,
    uname: 'root',
    gname: 'root',
    type: e.kind === 'dir' ? 'directory' : e.kind === 'symlink' ? 'symlink' : 'file',
    size: e.kind === 'file' ? e.size : 0,
    linkname: e.linkname ?? '',
    devmajor: 0,
    devminor: 0,
  };
}

function addEntry(pack: tar.Pack, e: TarEntry): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (e.kind !== 'file') {
      pack.entry(header(e), (err) => (err ? reject(err) : resolve()));
      return;
    }
    const source = e.source!;
    if (e.size <= SMALL_FILE) {
      let data: Buffer;
      try {
        data = readFileSync(source);
      } catch (error) {
        reject(readError(source, error));
        return;
      }
      if (data.length !== e.size) reject(readError(source, new Error(`size changed from ${e.size} to ${data.length} bytes while reading`)));
      else pack.entry(header(e), data, (err) => (err ? reject(err) : resolve()));
      return;
    }
    const rs = createReadStream(source, { highWaterMark: 1 << 20 });
    const sink = pack.entry(header(e), (err) => (err ? reject(readError(source, err)) : resolve()));
    // The entry closed (written, or the pack destroyed under it): the file is no longer needed.
    sink.on('close', () => rs.destroy());
    rs.on('error', (error) => {
      reject(readError(source, error));
      sink.destroy(error);
    });
    rs.pipe(sink);
  });
}

/**
 * The deterministic tar of `entries` (already in order) as a stream. Entries get mtime 1,
 * uid/gid 0, uname/gname root, their mode; tar-stream writes ustar headers and a PAX header
 * only where ustar cannot hold the name or link target (too long or not ASCII). Reading
 * starts when the consumer starts iterating; a read error ends the iteration with that error.
 */
export async function* tarStream(entries: readonly TarEntry[]): AsyncGenerator<Uint8Array> {
  const pack = tar.pack();
  let failure: unknown;
  // The iterator below reports the error; this only keeps it from being "unhandled".
  pack.on('error', () => undefined);
  void (async () => {
    for (const e of entries) await addEntry(pack, e);
    pack.finalize();
  })().catch((error: unknown) => {
    failure = error;
    pack.destroy(error as Error);
  });
  try {
    for await (const chunk of pack as AsyncIterable<Uint8Array>) yield chunk;
  } catch (error) {
    throw failure ?? error;
  } finally {
    if (!pack.destroyed) pack.destroy();
  }
  if (failure !== undefined) throw failure;
}
