import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import tar from 'tar-stream';
import { tempName, writeError } from './layer.js';
import { MEDIA_TYPES } from './layout.js';
import { LAYER_MTIME } from './tar.js';

export interface ArchiveLayer {
  diffID: string;
  mediaType: string;
  tarSize: number;
  /** The blob file (compressed as `mediaType` says). */
  file: string;
}

export function dockerArchiveName(ref: string): string {
  return `${ref.replace(/[/:]/g, '_')}.tar`;
}

function headerOf(name: string, size: number): tar.Header {
  return { name, size, mode: 0o644, mtime: LAYER_MTIME, uid: 0, gid: 0, uname: 'root', gname: 'root', type: 'file', linkname: '', devmajor: 0, devminor: 0 };
}

/**
 * Writes a `docker save` style archive (manifest.json, `<config>.json`, `<diffID>/layer.tar`
 * with uncompressed layers), loadable by `docker load`, `podman load` and skopeo's
 * `docker-archive:` transport. Deterministic like the layers; written to a temp name first.
 */
export async function writeDockerArchive(options: { file: string; ref: string; config: Buffer; configDigest: string; layers: ArchiveLayer[] }): Promise<void> {
  const { file, ref, config, configDigest, layers } = options;
  await mkdir(path.dirname(file), { recursive: true }).catch((error: unknown) => {
    throw writeError(path.dirname(file), error);
  });
  const tmp = tempName(path.dirname(file), 'archive');
  const configName = `${configDigest.replace(/^sha256:/, '')}.json`;
  const layerName = (l: ArchiveLayer): string => `${l.diffID.replace(/^sha256:/, '')}/layer.tar`;
  const manifest = [{ Config: configName, RepoTags: [ref], Layers: layers.map(layerName) }];
  const pack = tar.pack();
  const out = createWriteStream(tmp, { flags: 'wx' });
  const written = pipeline(pack as never, out);
  try {
    const add = (name: string, bytes: Buffer): Promise<void> => new Promise((resolve, reject) => pack.entry(headerOf(name, bytes.length), bytes, (err) => (err ? reject(err) : resolve())));
    await add('manifest.json', Buffer.from(JSON.stringify(manifest)));
    await add(configName, config);
    const seen = new Set<string>();
    for (const l of layers) {
      if (seen.has(l.diffID)) continue;
      seen.add(l.diffID);
      await new Promise<void>((resolve, reject) => {
        const sink = pack.entry(headerOf(layerName(l), l.tarSize), (err) => (err ? reject(err) : resolve()));
        const source = createReadStream(l.file);
        const stages = l.mediaType === MEDIA_TYPES.layerGzip || l.mediaType === MEDIA_TYPES.dockerLayerGzip ? [source, zlib.createGunzip(), sink] : [source, sink];
        pipeline(stages as never).catch(reject);
      });
    }
    pack.finalize();
    await written;
    await rename(tmp, file);
  } catch (error) {
    pack.destroy();
    await written.catch(() => undefined);
    await rm(tmp, { force: true });
    throw writeError(file, error);
  }
}
