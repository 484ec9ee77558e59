import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EMPTY_CONFIG, manifestBlobs, parseRecordManifest, readLayout, recordManifest, recordTag } from './index.js';

const sha = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

describe('layer records', () => {
  const record = { key: 'abc123', layer: { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha('x'), size: 1 }, diffID: sha('y') };
  it('round-trips and is byte-stable', () => {
    const m = recordManifest(record);
    expect(recordManifest(record).bytes.equals(m.bytes)).toBe(true);
    expect(m.digest).toBe(sha(m.bytes));
    expect(parseRecordManifest(m.bytes, 'abc123')).toEqual(record);
    expect(parseRecordManifest(m.bytes, 'other')).toBeUndefined();
    expect(EMPTY_CONFIG.digest).toBe(sha('{}'));
  });
  it('makes tag-safe tags only', () => {
    expect(recordTag('sha256-00ff')).toBe('layer-sha256-00ff');
    expect(() => recordTag('a:b')).toThrow(/not tag-safe/);
  });
});

describe('readLayout', () => {
  it('reads name:tag and bare ref names, lists blobs, rejects a tampered manifest', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'layout-'));
    mkdirSync(path.join(dir, 'blobs/sha256'), { recursive: true });
    const put = (data: string) => {
      writeFileSync(path.join(dir, 'blobs/sha256', sha(data).slice(7)), data);
      return { digest: sha(data), size: Buffer.byteLength(data) };
    };
    const config = put('{"rootfs":{"type":"layers","diff_ids":[]}}');
    const layer = put('layer');
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...layer }],
    });
    const m = put(manifest);
    const entry = (ref: string) => ({ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...m, annotations: { 'org.opencontainers.image.ref.name': ref } });
    writeFileSync(path.join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    writeFileSync(path.join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [entry('web:2'), entry('latest'), { ...entry('x'), annotations: {} }] }));
    const layout = await readLayout(dir);
    expect(layout.images.map((i) => i.ref)).toEqual(['latest:latest', 'web:2']);
    expect(manifestBlobs(layout.images[0]!.manifest).map((b) => b.digest)).toEqual([config.digest, layer.digest]);
    writeFileSync(path.join(dir, 'blobs/sha256', m.digest.slice(7)), manifest.replace('2', '3'));
    await expect(readLayout(dir)).rejects.toMatchObject({ code: 'E_LAYOUT_INVALID' });
    await expect(readLayout(path.join(dir, 'nope'))).rejects.toThrow(/no oci-layout file/);
  });
});
