import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { describe, expect, it, vi } from 'vitest';
import tar from 'tar-stream';
import { LayerCache, mergeContainerConfig, storeLayerEntries, customisationEntries } from './index.js';
import { BlockCompressor, compressorInfo } from './compress.js';
import { writeLayer } from './layer.js';
import { tarStream } from './tar.js';

async function* chunks(bytes: Uint8Array, size: number): AsyncIterable<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

function sample(n: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = 7;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = i % 3 === 0 ? x >>> 24 : 97 + (i % 17);
  }
  return out;
}

describe('reproducible gzip', () => {
  it('gives the same bytes with worker threads, in-thread, and any read chunking', async () => {
    const input = sample(3 * 1024 * 1024 + 12345);
    const dir = mkdtempSync(path.join(tmpdir(), 'oci-unit-'));
    const gzip = compressorInfo('gzip');
    const results: string[] = [];
    for (const [threads, chunk] of [
      [2, 65536],
      [0, 1000003],
      [1, 777],
    ] as const) {
      const pool = new BlockCompressor(threads);
      const written = await writeLayer(chunks(input, chunk), { compressor: gzip, pool, tmpDir: dir });
      await pool.close();
      const blob = readFileSync(written.file);
      expect(zlib.gunzipSync(blob).equals(Buffer.from(input))).toBe(true);
      expect(written.diffID).toBe(`sha256:${createHash('sha256').update(input).digest('hex')}`);
      expect(written.digest).toBe(`sha256:${createHash('sha256').update(blob).digest('hex')}`);
      results.push(written.digest);
    }
    expect(new Set(results).size).toBe(1);
  });

  it('refuses zstd on a runtime without it', () => {
    expect(() => compressorInfo('zstd')).toThrow(expect.objectContaining({ code: 'E_COMPRESSION' }));
  });
});

describe('deterministic tar', () => {
  it('sorts byte-wise, normalises metadata and never follows symlinks', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'oci-unit-store-'));
    const p = path.join(root, 'abc-pkg');
    mkdirSync(path.join(p, 'b'), { recursive: true });
    writeFileSync(path.join(p, 'a.b'), 'x');
    writeFileSync(path.join(p, 'b', 'c'), 'y');
    writeFileSync(path.join(p, 'Z'), 'z');
    writeFileSync(path.join(p, 'é'), 'e');
    symlinkSync('/does/not/exist', path.join(p, 'dangling'));
    const entries = storeLayerEntries(root, [p]);
    const names = entries.map((e) => e.name);
    const sorted = [...names].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    expect(names).toEqual(sorted);
    expect(names.slice(0, 1)).toEqual([root.slice(1).split('/')[0]]);
    const extract = tar.extract();
    const seen: tar.Header[] = [];
    extract.on('entry', (h, stream, next) => {
      seen.push(h);
      stream.resume();
      stream.on('end', next);
    });
    const done = new Promise<void>((r) => extract.on('finish', () => r()));
    for await (const c of tarStream(entries)) extract.write(c);
    extract.end(Buffer.alloc(0));
    await done;
    expect(seen.map((h) => h.name.replace(/\/$/, ''))).toEqual(names);
    for (const h of seen) {
      expect(h.mtime?.getTime()).toBe(1000);
      expect([h.uid, h.gid, h.uname, h.gname]).toEqual([0, 0, 'root', 'root']);
    }
    expect(seen.find((h) => h.name.endsWith('dangling'))).toMatchObject({ type: 'symlink', linkname: '/does/not/exist' });
  });
});

describe('customisation layer', () => {
  it('links roots into / like symlinkJoin, first root wins', () => {
    const root = mkdtempSync(path.join(tmpdir(), 'oci-unit-join-'));
    const a = path.join(root, 'a');
    const b = path.join(root, 'b');
    mkdirSync(path.join(a, 'bin'), { recursive: true });
    mkdirSync(path.join(b, 'bin'), { recursive: true });
    mkdirSync(path.join(b, 'etc', 'ssl'), { recursive: true });
    writeFileSync(path.join(a, 'bin', 'tool'), '');
    writeFileSync(path.join(b, 'bin', 'tool'), '');
    writeFileSync(path.join(b, 'bin', 'other'), '');
    writeFileSync(path.join(b, 'etc', 'ssl', 'cert'), '');
    const entries = customisationEntries([a, b]);
    expect(entries.map((e) => [e.name, e.kind, e.linkname ?? ''])).toEqual([
      ['bin', 'dir', ''],
      ['bin/other', 'symlink', path.join(b, 'bin', 'other')],
      ['bin/tool', 'symlink', path.join(a, 'bin', 'tool')],
      ['etc', 'dir', ''],
      ['etc/ssl', 'dir', ''],
      ['etc/ssl/cert', 'symlink', path.join(b, 'etc', 'ssl', 'cert')],
    ]);
  });
});

describe('config merge', () => {
  it('appends Env (ours win), merges maps, replaces the rest, in a fixed order', () => {
    const merged = mergeContainerConfig(
      { Env: ['PATH=/usr/bin', 'LANG=C'], Cmd: ['/bin/sh'], Labels: { base: '1', both: 'base' }, Healthcheck: { Test: ['NONE'] } },
      { Env: ['PATH=/bin', 'X=1'], Entrypoint: ['/bin/app'], Labels: { both: 'ours' } },
    );
    expect(merged).toEqual({
      Env: ['LANG=C', 'PATH=/bin', 'X=1'],
      Entrypoint: ['/bin/app'],
      Cmd: ['/bin/sh'],
      Labels: { base: '1', both: 'ours' },
      Healthcheck: { Test: ['NONE'] },
    });
    expect(Object.keys(merged)).toEqual(['Env', 'Entrypoint', 'Cmd', 'Labels', 'Healthcheck']);
  });
});

describe('layer cache', () => {
  it('ignores a record whose blob is missing or truncated', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'oci-unit-cache-'));
    const cache = new LayerCache(dir);
    cache.open();
    const pool = new BlockCompressor(1);
    const written = await writeLayer(chunks(sample(5000), 100), { compressor: compressorInfo('gzip'), pool, tmpDir: cache.tmpDir });
    await pool.close();
    const record = await cache.put('k', written);
    expect(cache.get('k')).toEqual(record);
    writeFileSync(cache.blobPath(record.digest), 'short');
    expect(cache.get('k')).toBeUndefined();
  });
});

describe('tarStream', () => {
  it('closes the file it reads when the consumer stops early', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'planner-tar-'));
    const file = path.join(dir, 'big');
    writeFileSync(file, Buffer.alloc(8 << 20, 1));
    // Linux: the process's open descriptors that point at the file.
    const openOnFile = (): number =>
      readdirSync('/proc/self/fd').filter((fd) => {
        try {
          return readlinkSync(`/proc/self/fd/${fd}`) === file;
        } catch {
          return false;
        }
      }).length;
    let read = 0;
    let openWhileReading = 0;
    for await (const chunk of tarStream([{ name: 'big', kind: 'file', mode: 0o644, size: 8 << 20, source: file }])) {
      read += chunk.length;
      if (read < 2 << 20) continue;
      openWhileReading = openOnFile();
      break;
    }
    expect(openWhileReading).toBe(1);
    // The stream closes its file asynchronously once the consumer stops: wait for that.
    await vi.waitFor(() => expect(openOnFile()).toBe(0), { timeout: 5000 });
  });
});
