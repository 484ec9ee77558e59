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
import type { BuildOptions, BuildProgress, BuildSummary, BuiltImage, BuiltLayer, Descriptor, ImageBuildSpec, LayerJob, LayerKind, LayerRecord, RemoteLayer } from './types.js';

type Resolved = { source: 'built' | 'cache'; record: LayerRecord } | { source: 'remote'; record: RemoteLayer };

/** A layer to build: what `LayerJob` says plus how to make its bytes. */
interface Job extends LayerJob {
  /** Store layers: the store paths; customisation layers: the roots, in order. */
  paths: readonly string[];
  base?: { image: BaseImage; index: number };
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

const byString = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The images to assemble (`refs`) and the images whose layers count (`universe`): the same,
 * except in a sharded build, where every runner lists the layers of every image.
 */
function selectImages(options: BuildOptions): { refs: string[]; universe: string[]; specs: Map<string, ImageBuildSpec> } {
  const inPlan = new Set(options.plan.images.map((i) => i.name));
  const specs = new Map(options.images.map((i) => [i.ref, i]));
  const chosen = options.exchange ? [...new Set(options.select ?? [])].sort(byString) : undefined;
  const refs = chosen ?? (options.select && options.select.length > 0 ? [...new Set(options.select)].sort(byString) : options.plan.images.map((i) => i.name));
  for (const ref of refs) {
    if (!inPlan.has(ref)) {
      throw new PlannerError('E_UNKNOWN_IMAGE', `no image ${ref} in the plan`, {
        hint: `Images in the plan: ${[...inPlan].join(', ') || '(none)'}.`,
      });
    }
  }
  const universe = options.exchange ? options.plan.images.map((i) => i.name) : refs;
  for (const ref of universe) if (!specs.has(ref)) throw new Error(`no build spec for image ${ref}`);
  return { refs, universe, specs };
}

function storeLayersOf(options: BuildOptions, refs: readonly string[]): Map<string, PlanLayer[]> {
  const byId = new Map(options.plan.layers.map((l) => [l.id, l]));
  const byImage = new Map<string, PlanLayer[]>();
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
        return layer;
      }),
    );
  }
  return byImage;
}

/** One layer of one image, bottom first. */
interface ImageLayer {
  key: string;
  kind: LayerKind;
  comment: string;
  planLayer?: string;
}

/** Every distinct layer of `universe`, and each image's layers in order. */
function layerJobs(args: { universe: readonly string[]; specs: Map<string, ImageBuildSpec>; bases: Map<string, BaseImage>; byImage: Map<string, PlanLayer[]>; compressorId: string }): {
  jobs: Map<string, Job>;
  imageLayers: Map<string, ImageLayer[]>;
} {
  const jobs = new Map<string, Job>();
  const imageLayers = new Map<string, ImageLayer[]>();
  const add = (ref: string, job: Omit<Job, 'images'>): void => {
    let j = jobs.get(job.key);
    if (!j) jobs.set(job.key, (j = { ...job, images: [] }));
    if (!j.images.includes(ref)) j.images.push(ref);
  };
  for (const ref of args.universe) {
    const spec = args.specs.get(ref)!;
    const base = spec.fromImage ? args.bases.get(spec.fromImage) : undefined;
    const layers: ImageLayer[] = [];
    base?.layers.forEach((l, index) => {
      const key = baseLayerKey(l.diffID, args.compressorId);
      add(ref, { key, kind: 'base', id: `${path.basename(base.file)} layer ${index + 1}`, weight: l.descriptor?.size ?? 0, paths: [], base: { image: base, index } });
      layers.push({ key, kind: 'base', comment: 'base layer' });
    });
    for (const l of args.byImage.get(ref)!) {
      const key = storeLayerKey(l.paths, args.compressorId);
      add(ref, { key, kind: 'store', id: l.id, weight: l.narSize, paths: l.paths });
      layers.push({ key, kind: 'store', comment: `store layer ${l.id}: ${l.paths.length} store paths`, planLayer: l.id });
    }
    const key = customisationLayerKey(spec.contents, args.compressorId);
    add(ref, { key, kind: 'customisation', id: ref, weight: 0, paths: spec.contents });
    layers.push({ key, kind: 'customisation', comment: 'customisation layer' });
    imageLayers.set(ref, layers);
  }
  for (const job of jobs.values()) job.images.sort(byString);
  return { jobs, imageLayers };
}

function storePathsMissing(jobs: Iterable<Job>): PlannerError | undefined {
  const paths = new Set<string>();
  for (const job of jobs) if (job.kind !== 'base') for (const p of job.paths) paths.add(p);
  const missing = missingPaths(paths);
  if (missing.length === 0) return undefined;
  return new PlannerError('E_STORE_PATH_MISSING', `store path ${missing[0]} is missing${missing.length > 1 ? ` (and ${missing.length - 1} more)` : ''}`, {
    hint: 'Realise the closures first (nix build / nix-store --realise), or re-plan if the plan is stale.',
    details: { missing },
  });
}

/**
 * Builds the images of a plan into one OCI layout (and optionally docker archives).
 *
 * Order, so that bad input never leaves output behind: check every store path and base
 * image first; build missing layers into the cache (each layer once, in parallel, streamed);
 * only then write the layout: blobs (hard links from the cache), configs, manifests, and
 * index.json last. With `options.exchange` (a sharded build) the layer step builds only this
 * runner's share, publishes it, and waits for the peers' records before the layout.
 */
export async function buildImages(options: BuildOptions): Promise<BuildSummary> {
  const started = performance.now();
  const compression = options.compression ?? 'gzip';
  const compressor = compressorInfo(compression);
  const jobs = Math.max(1, options.jobs ?? os.availableParallelism());
  const progress = (event: BuildProgress): void => options.onProgress?.(event);
  const exchange = options.exchange;
  const { refs, universe, specs } = selectImages(options);
  const byImage = storeLayersOf(options, universe);

  const bases = new Map<string, BaseImage>();
  for (const ref of universe) {
    const from = specs.get(ref)!.fromImage;
    if (from && !bases.has(from)) bases.set(from, await readBaseImage(from));
  }
  const { jobs: allJobs, imageLayers } = layerJobs({ universe, specs, bases, byImage, compressorId: compressor.id });
  const jobOf = (key: string): Job => allJobs.get(key)!;
  const keysOf = (images: Iterable<string>): Set<string> => new Set([...images].flatMap((ref) => imageLayers.get(ref)!.map((l) => l.key)));
  // What this run builds before anything else (its share), what its images need, and which
  // of those must have a local blob (docker archives, images pushed where peers' layers are not).
  const owned = exchange
    ? new Set(exchange.assign([...allJobs.values()].map(({ key, kind, id, weight, images }) => ({ key, kind, id, weight, images: [...images] })).sort((a, b) => byString(a.key, b.key))))
    : new Set(allJobs.keys());
  for (const key of owned) if (!allJobs.has(key)) throw new Error(`exchange assigned unknown layer ${key}`);
  const needed = keysOf(refs);
  const mustBeLocal = !exchange || options.dockerArchiveDir ? needed : keysOf(refs.filter((r) => exchange.needsBlobs?.has(r)));
  const work = new Set([...owned, ...needed]);

  // 1. Preflight: nothing is written before every input of this run's share is known to be
  // there (layers taken over from a silent peer are checked when that happens).
  const firstJobs = [...work].filter((k) => owned.has(k) || mustBeLocal.has(k)).map(jobOf);
  const missing = storePathsMissing(firstJobs);
  if (missing) throw missing;

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
  const built: string[] = [];
  let known: ReadonlyMap<string, RemoteLayer> = new Map();
  const publishing: Promise<void>[] = [];
  let publishFailed: { error: unknown } | undefined;
  let published = 0;
  let waited = 0;
  let tookOver = 0;
  // Publishing runs beside the builds (uploads must not hold a compression lane) and is
  // awaited before the build waits for its peers and before the layout.
  const publish = (job: Job, record: LayerRecord): void => {
    if (!exchange || known.has(job.key)) return;
    published++;
    publishing.push(
      exchange.publish(job, record, cache.blobPath(record.digest)).catch((error: unknown) => {
        publishFailed ??= { error };
      }),
    );
  };
  const publishesLanded = async (): Promise<void> => {
    await Promise.all(publishing);
    if (publishFailed) throw publishFailed.error;
  };
  const done = (job: Job, record: LayerRecord): void => {
    bytesIn += record.tarSize;
    bytesWritten += record.size;
    resolved.set(job.key, { source: 'built', record });
    built.push(job.key);
    progress({ type: 'layer-done', id: job.id, kind: job.kind, cached: false, record });
    publish(job, record);
  };
  const buildAll = async (list: readonly Job[]): Promise<void> => {
    const build = async (job: Job, entries: () => TarEntry[]): Promise<void> => {
      progress({ type: 'layer-start', id: job.id, kind: job.kind, narSize: job.weight });
      const pool = await getPool();
      const written = await writeLayer(tarStream(entries()), {
        compressor,
        pool,
        tmpDir: cache.tmpDir,
        onBytes: (i, o) => progress({ type: 'layer-bytes', id: job.id, bytesIn: i, bytesOut: o }),
      });
      done(job, await cache.put(job.key, written));
    };
    // Store layers largest first, so the last running layer is a small one; customisation
    // layers share the queue, so cores stay busy throughout.
    const store = list.filter((j) => j.kind === 'store').sort((a, b) => b.weight - a.weight || byString(a.id, b.id));
    const custom = list.filter((j) => j.kind === 'customisation').sort((a, b) => byString(a.id, b.id));
    const tasks: (() => Promise<void>)[] = [
      ...store.map((j) => () => build(j, () => storeLayerEntries(options.plan.storeDir, j.paths))),
      ...custom.map((j) => () => build(j, () => customisationEntries(j.paths))),
    ];
    await runLimited(tasks, jobs, (task) => task());

    const byBase = new Map<BaseImage, Job[]>();
    for (const j of list) if (j.base) byBase.set(j.base.image, [...(byBase.get(j.base.image) ?? []), j]);
    for (const [base, baseJobs] of byBase) {
      const byIndex = new Map(baseJobs.map((j) => [j.base!.index, j]));
      await importBaseLayers(base, {
        compressor,
        pool: await getPool(),
        tmpDir: cache.tmpDir,
        wanted: new Set(byIndex.keys()),
        onLayer: async (i, written) => {
          const job = byIndex.get(i)!;
          if (resolved.has(job.key)) return;
          done(job, await cache.put(job.key, written));
        },
      });
    }
  };

  try {
    for (const key of work) {
      const record = cache.get(key);
      if (record) resolved.set(key, { source: 'cache', record });
    }
    if (exchange) {
      known = await exchange.lookup([...work].sort(byString));
      for (const [key, remote] of known) {
        if (!work.has(key)) continue;
        const local = resolved.get(key);
        if (local) {
          if (local.record.digest !== remote.digest || local.record.diffID !== remote.diffID) throw exchange.mismatch(jobOf(key), local.record as LayerRecord, remote);
        } else if (!mustBeLocal.has(key)) {
          resolved.set(key, { source: 'remote', record: remote });
        }
      }
    }
    const first = firstJobs.filter((j) => !resolved.has(j.key));
    const storeWork = [...work].map(jobOf).filter((j) => j.kind === 'store');
    progress({
      type: 'start',
      layers: storeWork.length,
      cached: storeWork.filter((j) => resolved.get(j.key)?.source === 'cache').length,
      bytesToBuild: first.filter((j) => j.kind === 'store').reduce((s, j) => s + j.weight, 0),
      ...(exchange
        ? {
            remote: storeWork.filter((j) => resolved.get(j.key)?.source === 'remote').length,
            awaited: storeWork.filter((j) => !resolved.has(j.key) && !owned.has(j.key) && !mustBeLocal.has(j.key)).length,
          }
        : {}),
    });
    for (const j of storeWork) {
      const r = resolved.get(j.key);
      if (r?.source === 'cache') progress({ type: 'layer-done', id: j.id, kind: 'store', cached: true, record: r.record });
    }
    // Layers this run already holds but the exchange lacks: share them at once.
    for (const [key, r] of resolved) if (r.source === 'cache') publish(jobOf(key), r.record);
    await buildAll(first);

    if (exchange) {
      await publishesLanded();
      // 3. The peers' layers this run's images need.
      const awaited = [...needed].filter((k) => !resolved.has(k)).sort(byString);
      if (awaited.length > 0) {
        progress({ type: 'wait', layers: awaited.length });
        const got = await exchange.wait(awaited);
        for (const key of awaited) {
          const remote = got.get(key);
          if (!remote) continue;
          resolved.set(key, { source: 'remote', record: remote });
          waited++;
        }
        const late = awaited.filter((k) => !resolved.has(k)).map(jobOf);
        if (late.length > 0) {
          progress({ type: 'take-over', layers: late.length });
          const lateMissing = storePathsMissing(late);
          if (lateMissing) throw lateMissing;
          tookOver = late.length;
          await buildAll(late);
        }
      }
      await publishesLanded();
    }
  } finally {
    await poolInstance?.close();
    await Promise.allSettled(publishing);
  }

  // 4. The layout.
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
    for (const l of imageLayers.get(ref)!) {
      const r = resolved.get(l.key);
      if (!r) throw new Error(`layer ${l.key} was not built`);
      const extra = { kind: l.kind, ...(l.planLayer ? { planLayer: l.planLayer } : {}) };
      if (r.source === 'remote') {
        const { diffID, digest, size, mediaType } = r.record;
        layers.push({ diffID, digest, size, mediaType, ...extra, cached: true, remote: true });
      } else {
        layers.push({ ...r.record, ...extra, cached: r.source === 'cache' });
      }
      if (l.kind !== 'base') history.push({ created, created_by: 'planner', comment: l.comment });
    }

    // Layers known only from a peer's record have no blob here: the registry holds them.
    for (const l of layers) if (!l.remote) await layout.addBlobFile(cache.blobPath(l.digest), l.digest, l.size);
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
    const builtImage: BuiltImage = {
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
        layers: layers.map((l) => {
          // mustBeLocal covers every layer of an image written as a docker archive.
          if (l.remote || l.tarSize === undefined) throw new Error(`layer ${l.digest} of ${ref} has no local blob`);
          return { diffID: l.diffID, mediaType: l.mediaType, tarSize: l.tarSize, file: cache.blobPath(l.digest) };
        }),
      });
      builtImage.dockerArchive = file;
      progress({ type: 'archive-done', ref, file });
    }
    images.push(builtImage);
    progress({ type: 'image-done', ref, manifestDigest: manifestDesc.digest });
  }

  // A sharded build's layout holds exactly its own images; --all likewise holds every image.
  const replace = exchange !== undefined || !options.select || options.select.length === 0;
  const entries: Descriptor[] = images.map((i) => ({
    mediaType: MEDIA_TYPES.manifest,
    digest: i.manifestDigest,
    size: i.manifestSize,
    annotations: { [REF_NAME]: i.ref },
  }));
  if (!replace) {
    // Building some images keeps the others of an existing layout (none yet: nothing to keep;
    // a damaged index.json is an error, not a reason to drop the other images quietly).
    const previous = await readIndex(options.out).catch((error: unknown) => {
      if ((error as { cause?: NodeJS.ErrnoException }).cause?.code === 'ENOENT') return undefined;
      throw error;
    });
    for (const d of previous?.manifests ?? []) {
      const ref = d.annotations?.[REF_NAME];
      if (ref && !refs.includes(ref)) entries.push(d);
    }
  }
  entries.sort((a, b) => byString(a.annotations?.[REF_NAME] ?? '', b.annotations?.[REF_NAME] ?? ''));
  await layout.writeIndex(entries);
  if (replace) await layout.prune(keep);

  const summary = summarise({
    options,
    compressor,
    images,
    storeLayers: [...new Set(refs.flatMap((r) => byImage.get(r)!))],
    built: built.length,
    bytesIn,
    bytesWritten: bytesWritten + layout.bytesWritten,
    started,
  });
  if (exchange) summary.exchange = { owned: owned.size, built: [...built].sort(byString), published, waited, tookOver };
  return summary;
}

function summarise(args: {
  options: BuildOptions;
  compressor: CompressorInfo;
  images: BuiltImage[];
  storeLayers: PlanLayer[];
  built: number;
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
  const layers = [...distinct.values()];
  return {
    out: options.out,
    cacheDir: options.cacheDir,
    compression: compressor.compression,
    compressor: compressor.id,
    images,
    layers: {
      distinct: distinct.size,
      built: args.built,
      reused: layers.filter((l) => l.cached && !l.remote).length,
      remote: layers.filter((l) => l.remote).length,
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
