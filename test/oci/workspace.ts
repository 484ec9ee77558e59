import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import type { Fixtures } from './fixtures.js';

/** A workspace with two services sharing the cacert fixture: `app:1.0` and `server:1.0`. */
export function writeWorkspace(dir: string, f: Fixtures, extra: Record<string, unknown> = {}): string {
  const write = (name: string, value: unknown): void => {
    const file = path.join(dir, name);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
  };
  write('planner.config.json', { maxLayers: 20, ...extra });
  write('services/app/image.json', {
    name: 'app',
    tag: '1.0',
    contents: [f.tools, f.cacert],
    config: { Cmd: ['/bin/hello'], Env: ['A=1'], Labels: { b: '2', a: '1' } },
  });
  write('services/server/image.json', {
    name: 'server',
    tag: '1.0',
    contents: [f.server, f.cacert],
    config: { Entrypoint: ['/bin/server'], ExposedPorts: { '8080/tcp': {} }, Env: ['PATH=/bin'], WorkingDir: '/' },
  });
  return dir;
}

export interface RawTarEntry {
  name: string;
  type: string;
  mode: number;
  uid: number;
  gid: number;
  uname: string;
  gname: string;
  mtime: number;
  size: number;
  linkname: string;
  /** The PAX extended header that preceded this entry, if any. */
  pax?: Record<string, string>;
}

function octal(buf: Buffer, offset: number, length: number): number {
  const text = buf
    .subarray(offset, offset + length)
    .toString('latin1')
    .replace(/\0.*$/s, '')
    .trim();
  return text === '' ? 0 : parseInt(text, 8);
}

function cstr(buf: Buffer, offset: number, length: number): string {
  const raw = buf.subarray(offset, offset + length);
  const end = raw.indexOf(0);
  return raw.subarray(0, end === -1 ? length : end).toString('utf8');
}

/** Walks a tar's raw 512-byte headers, so tests see exactly what was written (PAX records too). */
export function rawTarEntries(tarBytes: Buffer): RawTarEntry[] {
  const out: RawTarEntry[] = [];
  let offset = 0;
  let pax: Record<string, string> | undefined;
  while (offset + 512 <= tarBytes.length) {
    const h = tarBytes.subarray(offset, offset + 512);
    if (h.every((b) => b === 0)) break;
    const size = octal(h, 124, 12);
    const type = String.fromCharCode(h[156]!);
    const body = tarBytes.subarray(offset + 512, offset + 512 + size);
    offset += 512 + Math.ceil(size / 512) * 512;
    if (type === 'x') {
      pax = {};
      let text = body.toString('utf8');
      while (text.length > 0) {
        const space = text.indexOf(' ');
        const len = Number(text.slice(0, space));
        const record = Buffer.from(text, 'utf8').subarray(0, len).toString('utf8');
        const kv = record.slice(space + 1, -1);
        const eq = kv.indexOf('=');
        pax[kv.slice(0, eq)] = kv.slice(eq + 1);
        text = Buffer.from(text, 'utf8').subarray(len).toString('utf8');
      }
      continue;
    }
    const prefix = cstr(h, 345, 155);
    const name = cstr(h, 0, 100);
    out.push({
      name: pax?.path ?? (prefix ? `${prefix}/${name}` : name),
      type,
      mode: octal(h, 100, 8),
      uid: octal(h, 108, 8),
      gid: octal(h, 116, 8),
      uname: cstr(h, 265, 32),
      gname: cstr(h, 297, 32),
      mtime: octal(h, 136, 12),
      size,
      linkname: pax?.linkpath ?? cstr(h, 157, 100),
      ...(pax ? { pax } : {}),
    });
    pax = undefined;
  }
  return out;
}

export function readLayerTar(file: string): Buffer {
  const bytes = readFileSync(file);
  return bytes[0] === 0x1f && bytes[1] === 0x8b ? zlib.gunzipSync(bytes) : bytes;
}
