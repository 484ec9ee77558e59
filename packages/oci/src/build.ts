import os from 'node:os';
import path from 'node:path';
import { PlannerError } from '@planner/errors';
import type { PlanLayer } from '@planner/layering';
import { importBaseLayers, readBaseImage, type BaseImage } from './base-image.js';
import { baseLayerKey, LayerCache, storeLayerKey, customisationLayerKey } from './cache.js';
import { BlockCompressor, checkCompressor, compressorInfo, type CompressorInfo } from './compress.js';
import { createdAt, goArch, mergeContainerConfig, type HistoryEntry, type OciImageConfig } from './config.js';
import { customisationEntries } from './customisation.js';
import { dockerArchiveName, writeDockerArchive } from './docker-archive.js';
import { missingPaths, storeLayerEntries, type TarEntry } from './entries.js';
import { writeLayer } from './layer.js';
import { jsonBytes, LayoutWriter, MEDIA_TYPES, readIndex, REF_NAME, type OciManifest } from './layout.js';
import { tarStream } from './tar.js';
import type { BuildOptions, BuildProgress, BuildSummary, BuiltImage, BuiltLayer, Descriptor, ImageBuildSpec, LayerKind, LayerRecord } from './types.js';

interface Resolved {
  record: LayerRecord;
  cached: boolean;
}

/** Runs `fn` over `items` with at most `limit` running at once; the first error wins. */
async function runLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed: unknown;
  const lane = async (): Promise<void> => {
    while (next < items.length && failed === undefined) {
      const item = items[next++]!;
      try {
        await fn(item);
      } catch (error) {
        failed ??= error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, lane));
  if (failed !== undefined) throw failed;
}

function selectImages(options: BuildOptions): { refs: string[]; specs: Map<string, ImageBuildSpec> } {
  const inPlan = new Set(options.plan.images.map((i) => i.name));
  const specs = new Map(options.images.map((i) => [i.ref, i]));
  const refs = options.select && options.select.length > 0 ? [...new Set(options.select)].sort() : options.plan.images.map((i) => i.name);
  for (const ref of refs) {
    if (!inPlan.has(ref)) {
      throw new PlannerError('E_UNKNOWN_IMAGE', `no image ${ref} in the plan`, {
        hint: `Images in the plan: ${[...inPlan].join(', ') || '(none)'}.`,
      });
    }
    if (!specs.has(ref)) throw new Error(`no build spec for image ${ref}`);
  }
  return { refs, specs };
}

function storeLayersOf(options: BuildOptions, refs: readonly string[]): { layers: PlanLayer[]; byImage: Map<string, PlanLayer[]> } {
  const byId = new Map(options.plan.layers.map((l) => [l.id, l]));
  const byImage = new Map<string, PlanLayer[]>();
  const used = new Set<string>();
  for (const ref of refs) {
    const image = options.plan.images.find((i) => i.name === ref)!;
    byImage.set(
      ref,
      image.layers.map((id) => {
        const layer = byId.get(id);
        if (!layer) {
          throw new PlannerError('E_LOCK_PARSE', `image ${ref} uses layer ${id}, which the plan does not define`, {
            hint: 'Re-plan (planner plan) to rewrite planner.lock.json.',
          });
        }
        used.add(id);
        return layer;
      }),
    );
  }
  return { layers: options.plan.layers.filter((l) => used.has(l.id)), byImage };
}

/**
 * Builds the images of a plan into one OCI layout (and optionally docker archives).
 *
 * Order, so that bad input never leaves output behind: check every store path and base
 * image first; build missing layers into the cache (each layer once, in parallel, streamed);
 * only then write the layout: blobs (hard links from the cache), configs, manifests, and
 * index.json last.
 */
export async function buildImages(options: BuildOptions): Promise<BuildSummary> {
  const started = performance.now();
  const compression = options.compression ?? 'gzip';
  const compressor = compressorInfo(compression);
  const jobs = Math.max(1, options.jobs ?? os.availableParallelism());
  const progress = (event: BuildProgress): void => options.onProgress?.(event);
  const { refs, specs } = selectImages(options);
  const { layers: storeLayers, byImage } = storeLayersOf(options, refs);

  // 1. Preflight: nothing is written before every input is known to be there.
  const roots = refs.flatMap((r) => specs.get(r)!.contents);
  const missing = missingPaths(new Set([...storeLayers.flatMap((l) => l.paths), ...roots]));
  if (missing.length > 0) {
    throw new PlannerError('E_STORE_PATH_MISSING', `store path ${missing[0]} is missing${missing.length > 1 ? ` (and ${missing.length - 1} more)` : ''}`, {
      hint: 'Realise the closures first (nix build / nix-store --realise), or re-plan if the plan is stale.',
      details: { missing },
    });
  }
  const bases = new Map<string, BaseImage>();
  for (const ref of refs) {
    const from = specs.get(ref)!.fromImage;
    if (from && !bases.has(from)) bases.set(from, await readBaseImage(from));
  }

  // 2. Layers into the cache.
  const cache = new LayerCache(options.cacheDir);
  cache.open();
  // Workers start (and the compressor is checked) only when something needs compressing.
  // Every caller waits for the check: no layer is compressed by an unchecked compressor.
  let poolInstance: BlockCompressor | undefined;
  let poolReady: Promise<BlockCompressor> | undefined;
  const getPool = (): Promise<BlockCompressor> =>
    (poolReady ??= (async () => {
      poolInstance = new BlockCompressor(compression === 'gzip' ? jobs : 0);
      if (compression === 'gzip') await checkCompressor(poolInstance);
      return poolInstance;
    })());
  let bytesIn = 0;
  let bytesWritten = 0;
  const resolved = new Map<string, Resolved>();
  const customisation = new Map<string, string>();
  try {
    const keys = new Map(storeLayers.map((l) => [l.id, storeLayerKey(l.paths, compressor.id)]));
    for (const ref of refs) customisation.set(ref, customisationLayerKey(specs.get(ref)!.contents, compressor.id));
    const todo = storeLayers.filter((l) => {
      const record = cache.get(keys.get(l.id)!);
      if (record) resolved.set(keys.get(l.id)!, { record, cached: true });
      return !record;
    });
    progress({
      type: 'start',
      layers: storeLayers.length,
      cached: storeLayers.length - todo.length,
      bytesToBuild: todo.reduce((s, l) => s + l.narSize, 0),
    });
    for (const l of storeLayers) {
      const r = resolved.get(keys.get(l.id)!);
      if (r) progress({ type: 'layer-done', id: l.id, kind: 'store', cached: true, record: r.record });
    }
    // Largest first, so the last running layer is a small one.
    todo.sort((a, b) => b.narSize - a.narSize || (a.id < b.id ? -1 : 1));
    const build = async (id: string, kind: LayerKind, key: string, entries: () => TarEntry[], narSize: number): Promise<void> => {
      progress({ type: 'layer-start', id, kind, narSize });
      const pool = await getPool();
      const written = await writeLayer(tarStream(entries()), {
        compressor,
        pool,
        tmpDir: cache.tmpDir,
        onBytes: (i, o) => progress({ type: 'layer-bytes', id, bytesIn: i, bytesOut: o }),
      });
      const record = await cache.put(key, written);
      bytesIn += record.tarSize;
      bytesWritten += record.size;
      resolved.set(key, { record, cached: false });
      progress({ type: 'layer-done', id, kind, cached: false, record });
    };
    // Store layers and customisation layers share one queue, so cores stay busy throughout.
    const tasks: (() => Promise<void>)[] = todo.map((l) => () => build(l.id, 'store', keys.get(l.id)!, () => storeLayerEntries(options.plan.storeDir, l.paths), l.narSize));
    const queued = new Set<string>();
    for (const [ref, key] of customisation) {
      const hit = cache.get(key);
      if (hit) resolved.set(key, { record: hit, cached: true });
      else if (!queued.has(key)) {
        queued.add(key);
        tasks.push(() => build(ref, 'customisation', key, () => customisationEntries(specs.get(ref)!.contents), 0));
      }
    }
    await runLimited(tasks, jobs, (task) => task());

    for (const base of bases.values()) {
      const wanted = new Set<number>();
      base.layers.forEach((l, i) => {
        const key = baseLayerKey(l.diffID, compressor.id);
        const hit = cache.get(key);
        if (hit) resolved.set(key, { record: hit, cached: true });
        else wanted.add(i);
      });
      if (wanted.size === 0) continue;
      await importBaseLayers(base, {
        compressor,
        pool: await getPool(),
        tmpDir: cache.tmpDir,
        wanted,
        onLayer: async (i, written) => {
          const key = baseLayerKey(base.layers[i]!.diffID, compressor.id);
          if (resolved.has(key)) return;
          const record = await cache.put(key, written);
          bytesIn += record.tarSize;
          bytesWritten += record.size;
          resolved.set(key, { record, cached: false });
          progress({ type: 'layer-done', id: `${path.basename(base.file)} layer ${i + 1}`, kind: 'base', cached: false, record });
        },
      });
    }
  } finally {
    await poolInstance?.close();
  }

  // 3. The layout.
  const layout = new LayoutWriter(options.out);
  await layout.open();
  const created = createdAt(options.sourceDateEpoch);
  const images: BuiltImage[] = [];
  const keep = new Set<string>();
  for (const ref of refs) {
    const spec = specs.get(ref)!;
    const base = spec.fromImage ? bases.get(spec.fromImage) : undefined;
    const layers: BuiltLayer[] = [];
    const history: HistoryEntry[] = [...(base?.config.history ?? [])];
    const take = (key: string, kind: LayerKind, comment: string, planLayer?: string): void => {
      const r = resolved.get(key);
      if (!r) throw new Error(`layer ${key} was not built`);
      layers.push({ ...r.record, kind, cached: r.cached, ...(planLayer ? { planLayer } : {}) });
      if (kind !== 'base') history.push({ created, created_by: 'planner', comment });
    };
    base?.layers.forEach((l) => take(baseLayerKey(l.diffID, compressor.id), 'base', 'base layer'));
    for (const l of byImage.get(ref)!) take(storeLayerKey(l.paths, compressor.id), 'store', `store layer ${l.id}: ${l.paths.length} store paths`, l.id);
    take(customisation.get(ref)!, 'customisation', 'customisation layer');

    for (const l of layers) await layout.addBlobFile(cache.blobPath(l.digest), l.digest, l.size);
    const config: OciImageConfig = {
      created,
      architecture: base?.config.architecture ?? goArch(),
      os: base?.config.os ?? 'linux',
      ...(base?.config.variant ? { variant: base.config.variant } : {}),
      config: mergeContainerConfig(base?.config.config as Record<string, unknown> | undefined, spec.config),
      rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffID) },
      history,
    };
    const configBytes = jsonBytes(config);
    const configDesc = await layout.addBlobBytes(configBytes, MEDIA_TYPES.config);
    const manifest: OciManifest = {
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.manifest,
      config: configDesc,
      layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
    };
    const manifestDesc = await layout.addBlobBytes(jsonBytes(manifest), MEDIA_TYPES.manifest);
    for (const d of [configDesc, manifestDesc, ...layers]) keep.add(d.digest);
    const built: BuiltImage = {
      ref,
      manifestDigest: manifestDesc.digest,
      manifestSize: manifestDesc.size,
      configDigest: configDesc.digest,
      layers,
      size: configDesc.size + layers.reduce((s, l) => s + l.size, 0),
    };
    if (options.dockerArchiveDir) {
      const file = path.join(options.dockerArchiveDir, dockerArchiveName(ref));
      await writeDockerArchive({
        file,
        ref,
        config: configBytes,
        configDigest: configDesc.digest,
        layers: layers.map((l) => ({ diffID: l.diffID, mediaType: l.mediaType, tarSize: l.tarSize, file: cache.blobPath(l.digest) })),
      });
      built.dockerArchive = file;
      progress({ type: 'archive-done', ref, file });
    }
    images.push(built);
    progress({ type: 'image-done', ref, manifestDigest: manifestDesc.digest });
  }

  const selectAll = !options.select || options.select.length === 0;
  const entries: Descriptor[] = images.map((i) => ({
    mediaType: MEDIA_TYPES.manifest,
    digest: i.manifestDigest,
    size: i.manifestSize,
    annotations: { [REF_NAME]: i.ref },
  }));
  if (!selectAll) {
    // Building some images keeps the others of an existing layout.
    const previous = await readIndex(options.out).catch(() => undefined);
    for (const d of previous?.manifests ?? []) {
      const ref = d.annotations?.[REF_NAME];
      if (ref && !refs.includes(ref)) entries.push(d);
    }
  }
  entries.sort((a, b) => {
    const x = a.annotations?.[REF_NAME] ?? '';
    const y = b.annotations?.[REF_NAME] ?? '';
    return x < y ? -1 : x > y ? 1 : 0;
  });
  await layout.writeIndex(entries);
  if (selectAll) await layout.prune(keep);

  return summarise({ options, compressor, images, storeLayers, resolved, bytesIn, bytesWritten: bytesWritten + layout.bytesWritten, started });
}

function summarise(args: {
  options: BuildOptions;
  compressor: CompressorInfo;
  images: BuiltImage[];
  storeLayers: PlanLayer[];
  resolved: Map<string, Resolved>;
  bytesIn: number;
  bytesWritten: number;
  started: number;
}): BuildSummary {
  const { options, compressor, images } = args;
  const distinct = new Map<string, BuiltLayer>();
  for (const image of images) for (const l of image.layers) distinct.set(`${l.kind}:${l.digest}`, l);
  const storeDistinct = new Map<string, number>();
  let perImageBytes = 0;
  for (const image of images) {
    for (const l of image.layers) {
      if (l.kind !== 'store') continue;
      perImageBytes += l.size;
      storeDistinct.set(l.digest, l.size);
    }
  }
  const uniqueBytes = [...storeDistinct.values()].reduce((s, n) => s + n, 0);
  const built = [...args.resolved.values()].filter((r) => !r.cached).length;
  return {
    out: options.out,
    cacheDir: options.cacheDir,
    compression: compressor.compression,
    compressor: compressor.id,
    images,
    layers: {
      distinct: distinct.size,
      built,
      reused: distinct.size - built,
      bytesIn: args.bytesIn,
      bytesWritten: args.bytesWritten,
    },
    sharing: {
      storeLayers: args.storeLayers.length,
      perImageBytes,
      uniqueBytes,
      ratio: uniqueBytes > 0 ? perImageBytes / uniqueBytes : 1,
    },
    durationMs: Math.round(performance.now() - args.started),
  };
}
