import path from 'node:path';
import pLimit from 'p-limit';
import type { Argv } from 'yargs';
import { PlannerError } from '@planner/errors';
import { findImage, unknownImage } from '@planner/graph';
import { LOCK_FILE, plan as planLayers, type Plan } from '@planner/layering';
import { buildImages, compressorInfo, type BuildSummary, type Compression, type ExchangeSummary, type LayerExchange, type RemoteLayer } from '@planner/oci';
import { cacheLocation, DEFAULT_CONCURRENCY, openLayerCache, parseShard, recordMismatch, shardOf, type LayerRecord as RegistryRecord, type ShardSpec } from '@planner/registry';
import { defineCommand, type GlobalArgs } from '../command.js';
import { CHUNK, JOBS, MAX_LAYERS, SHARD_WAIT, nonNegative, wholeNumber } from '../flags.js';
import { churnOf, loadContext } from '../context.js';
import { readLockFile } from '../lock.js';
import { createBuildProgress, renderBuild, type BuildProgressView } from '../render/build.js';
import { createPushProgress } from '../render/push.js';
import type { Ui } from '../render/ui.js';
import { openPushSessions, pushInputsFromWorkspace, pushOptions, pushTargets, runPush, type PushArgs, type PushData, type PushInputs } from './push.js';

export interface BuildArgs extends PushArgs {
  images?: string[];
  all?: boolean;
  out?: string;
  cacheDir?: string;
  compression?: string;
  format?: string;
  archiveDir?: string;
  maxLayers?: number;
  buildJobs?: number;
  push?: boolean;
}

export interface BuildData extends Omit<BuildSummary, 'exchange'> {
  workspace: string;
  format: 'oci' | 'docker-archive';
  push?: PushData;
  /** `--shard i/n`: this runner's share of the layers and images. */
  shard?: ShardData;
}

export interface ShardData extends ShardSpec {
  /** Where the runners meet: `<registry>/<prefix>/planner-cache`. */
  cache: string;
  /** Refs of the images this runner assembled and pushed. */
  images: string[];
  layers: Omit<ExchangeSummary, 'built'> & {
    /** Layers this runner built (its share, plus any it took over). */
    built: number;
    /** Layers of its images known only from other runners' records (no blob in the local layout). */
    remote: number;
  };
  /** Cache keys of the layers built here, sorted. */
  builtKeys: string[];
}

const DEFAULT_SHARD_WAIT_SECONDS = 30 * 60;

/** A registry record as the builder reads it; records without a diffID (push-only) do not serve a build. */
function remoteLayer(record: RegistryRecord): RemoteLayer | undefined {
  if (!record.diffID) return undefined;
  return { diffID: record.diffID, digest: record.layer.digest, size: record.layer.size, mediaType: record.layer.mediaType };
}

/**
 * The sharded build: the registry is the shared layer cache. Each runner builds its share of
 * the layers (shardOf by bytes over every layer of every image; an image's customisation layer
 * goes with the image), publishes each as a layer record in `<registry>/planner-cache`, learns
 * the other layers of its images from their records, and pushes its images by mounting those.
 */
async function shardedBuild(args: {
  argv: BuildArgs;
  ui: Ui;
  shard: ShardSpec;
  plan: Plan;
  inputs: PushInputs;
  build: (extra: { exchange: LayerExchange; select: string[]; progress: BuildProgressView }) => Promise<BuildSummary>;
}): Promise<{ summary: BuildSummary; push: PushData; shard: ShardData }> {
  const { argv, ui, shard, plan, inputs } = args;
  const shardWait = nonNegative(argv.shardWait, '--shard-wait', SHARD_WAIT) ?? DEFAULT_SHARD_WAIT_SECONDS;
  const targets = pushTargets(inputs, argv.registry);
  const registry = argv.registry ?? inputs.configRegistry ?? targets[0]?.registry;
  if (registry === undefined) throw new PlannerError('E_USAGE', 'nothing to push: no registry given', { hint: 'pass --registry HOST[:PORT], or set "registry" in planner.config.json' });
  const location = cacheLocation(registry);
  const limit = pLimit(wholeNumber(argv.jobs, '--jobs', JOBS) ?? DEFAULT_CONCURRENCY);
  const chunkSize = wholeNumber(argv.chunkSize, '--chunk-size', CHUNK);
  const pool = await openPushSessions(inputs, argv, createPushProgress(ui).event);
  const cache = await openLayerCache(pool, location, chunkSize !== undefined ? { chunkSize } : {});

  const narSize = new Map(plan.layers.map((l) => [l.id, l.narSize]));
  const own = shardOf(plan.images, shard.index, shard.count, {
    key: (image) => image.name,
    weight: (image) => image.layers.reduce((s, id) => s + (narSize.get(id) ?? 0), 0),
  }).map((image) => image.name);
  const ownSet = new Set(own);
  // Images pushed to another registry cannot mount from the cache repository: they need every blob here.
  const needsBlobs = new Set(targets.filter((t) => ownSet.has(t.ref) && t.registry !== location.registry).map((t) => t.ref));
  // The progress view starts once the registry answered, so connection lines come first.
  const progress = createBuildProgress(ui);
  const records = new Map<string, RegistryRecord>();
  const toRemote = (found: Map<string, RegistryRecord>): Map<string, RemoteLayer> => {
    const out = new Map<string, RemoteLayer>();
    for (const [key, record] of found) {
      const remote = remoteLayer(record);
      if (!remote) continue;
      records.set(key, record);
      out.set(key, remote);
    }
    return out;
  };
  const exchange: LayerExchange = {
    assign: (layers) => {
      // Store and base layers by bytes; a customisation layer (small, per image) with the first image using it.
      const shared = shardOf(
        layers.filter((l) => l.kind !== 'customisation'),
        shard.index,
        shard.count,
        { key: (l) => l.key, weight: (l) => l.weight },
      );
      return new Set([...shared.map((l) => l.key), ...layers.filter((l) => l.kind === 'customisation' && ownSet.has(l.images[0]!)).map((l) => l.key)]);
    },
    needsBlobs,
    lookup: async (keys) => toRemote(await cache.lookup(keys)),
    publish: (layer, record, blobFile) =>
      limit(async () => {
        const registryRecord: RegistryRecord = { key: layer.key, layer: { mediaType: record.mediaType, digest: record.digest, size: record.size }, diffID: record.diffID };
        const result = await cache.publish(registryRecord, blobFile);
        records.set(layer.key, registryRecord);
        progress.event({
          type: 'layer-published',
          id: layer.id,
          kind: layer.kind,
          digest: record.digest,
          size: record.size,
          uploaded: result.blob === 'uploaded',
          cache: `${location.registry}/${location.repository}`,
        });
      }),
    wait: async (keys) => toRemote(await cache.wait(keys, shardWait * 1000)),
    mismatch: (layer, local, remote) =>
      recordMismatch(
        { key: layer.key, layer: { mediaType: remote.mediaType, digest: remote.digest, size: remote.size }, diffID: remote.diffID },
        { mediaType: local.mediaType, digest: local.digest, size: local.size },
        `${location.registry}/${location.repository}`,
      ),
  };

  let summary: BuildSummary;
  try {
    summary = await args.build({ exchange, select: own, progress });
  } finally {
    progress.stop();
  }
  // Layers that came from records are in the cache repository: mount them, never upload them.
  const remoteDigests = new Set(summary.images.flatMap((i) => i.layers.filter((l) => l.remote).map((l) => l.digest)));
  const push = await runPush({ ...inputs, requests: inputs.requests.filter((r) => ownSet.has(r.ref)) }, { ...argv, shard: undefined }, ui, {
    sessions: pool,
    mountSources: cache.mountSources(records.values()),
    mayUpload: (digest, reg) => reg !== location.registry || !remoteDigests.has(digest),
  });
  const ex = summary.exchange!;
  return {
    summary,
    push,
    shard: {
      ...shard,
      cache: `${location.registry}/${location.repository}`,
      images: own,
      layers: { owned: ex.owned, built: ex.built.length, published: ex.published, remote: summary.layers.remote, waited: ex.waited, tookOver: ex.tookOver },
      builtKeys: ex.built,
    },
  };
}

export const buildCommand = defineCommand<BuildArgs, BuildData>({
  command: 'build [images..]',
  describe: 'Build the planned images into one OCI layout, each shared layer once',
  builder: (y) =>
    pushOptions(y)
      .positional('images', { type: 'string', array: true, describe: 'Images (name or name:tag) to build' })
      .option('all', { type: 'boolean', describe: 'Build every image of the workspace' })
      .option('out', { type: 'string', requiresArg: true, describe: 'OCI layout directory (default: planner.config.json "out", .planner/oci)' })
      .option('cache-dir', { type: 'string', requiresArg: true, describe: 'Layer cache directory (default: planner.config.json "cacheDir", .planner/cache)' })
      .option('compression', { choices: ['gzip', 'none', 'zstd'], default: 'gzip', describe: 'Layer compression' })
      .option('format', { choices: ['oci', 'docker-archive'], default: 'oci', describe: 'docker-archive also writes one `docker load`-able tar per image' })
      .option('archive-dir', { type: 'string', requiresArg: true, describe: 'Where --format docker-archive writes its tars (default: <out>/../docker-archive)' })
      .option('max-layers', { type: 'number', describe: 'Layer budget for every image (overrides the config and manifests)' })
      .option('build-jobs', { type: 'number', describe: 'Layers built in parallel and compression threads (default: CPU cores)' })
      .option('push', { type: 'boolean', describe: 'Push the built images afterwards (see planner push)' }) as Argv<BuildArgs & GlobalArgs>,
  run: async (argv, ui) => {
    const names = argv.images ?? [];
    if (names.length === 0 && !argv.all) {
      throw new PlannerError('E_USAGE', 'name the images to build, or pass --all', { hint: 'planner build --all, or planner build api web:1.2' });
    }
    if (names.length > 0 && argv.all) throw new PlannerError('E_USAGE', 'pass either image names or --all, not both', { hint: `planner build --all, or planner build ${names.join(' ')}` });
    const shard = argv.shard === undefined ? undefined : parseShard(argv.shard);
    if (shard && (!argv.push || !argv.all)) {
      throw new PlannerError('E_USAGE', '--shard needs --all and --push: the runners split every layer and image and meet in the registry', {
        hint: `planner build --all --push --shard ${argv.shard}`,
      });
    }
    const maxLayers = wholeNumber(argv.maxLayers, '--max-layers', MAX_LAYERS);
    const jobs = wholeNumber(argv.buildJobs, '--build-jobs', { min: 1, example: '2' });
    // Fails before any nix work when the runtime cannot do the asked compression.
    compressorInfo(argv.compression as Compression);
    const ctx = await loadContext(argv, {
      ...(maxLayers !== undefined ? { maxLayers } : {}),
    });
    const { workspace } = ctx;
    const select = names.map((n) => {
      const hit = findImage(workspace.services, n);
      if (!hit) throw unknownImage(n, workspace.services);
      return hit.ref;
    });
    if (argv.push) {
      // What a push needs and is known now fails now, not after the whole build.
      const inputs = pushInputsFromWorkspace(workspace);
      pushTargets(inputs, argv.registry, select.length > 0 ? inputs.requests.filter((r) => select.includes(r.ref)) : inputs.requests);
      wholeNumber(argv.jobs, '--jobs', JOBS);
    }
    const previous = (await readLockFile(path.join(workspace.root, LOCK_FILE)))?.plan;
    const plan = planLayers(ctx.graph, { ...(maxLayers !== undefined ? { maxLayers } : {}), ...(previous ? { previous } : {}), ...churnOf(workspace.config) });
    const cwd = path.resolve(argv.cwd ?? process.cwd());
    const out = argv.out !== undefined ? path.resolve(cwd, argv.out) : workspace.config.out;
    const cacheDir = argv.cacheDir !== undefined ? path.resolve(cwd, argv.cacheDir) : workspace.config.cacheDir;
    const format = (argv.format ?? 'oci') as 'oci' | 'docker-archive';
    const archiveDir = argv.archiveDir !== undefined ? path.resolve(cwd, argv.archiveDir) : path.join(path.dirname(out), 'docker-archive');
    const build = (extra: { exchange?: LayerExchange; select?: string[]; progress: BuildProgressView }): Promise<BuildSummary> =>
      buildImages({
        plan,
        images: workspace.services.map((s, i) => ({
          ref: s.ref,
          contents: ctx.closures[i]!.roots,
          config: s.manifest.config,
          fromImage: s.fromImage,
        })),
        select: extra.select ?? select,
        out,
        cacheDir,
        compression: argv.compression as Compression,
        ...(format === 'docker-archive' ? { dockerArchiveDir: archiveDir } : {}),
        ...(jobs !== undefined ? { jobs } : {}),
        ...(extra.exchange ? { exchange: extra.exchange } : {}),
        onProgress: (e) => extra.progress.event(e),
      });
    if (shard) {
      const inputs = pushInputsFromWorkspace(workspace, out);
      const result = await shardedBuild({ argv, ui, shard, plan, inputs, build });
      const { exchange: _, ...summary } = result.summary;
      return { data: { workspace: workspace.root, format, ...summary, push: result.push, shard: result.shard } };
    }
    const progress = createBuildProgress(ui);
    let summary: BuildSummary;
    try {
      summary = await build({ progress });
    } finally {
      progress.stop();
    }
    const data: BuildData = { workspace: workspace.root, format, ...summary };
    if (argv.push) {
      const inputs = pushInputsFromWorkspace(workspace, out);
      const built = new Set(summary.images.map((i) => i.ref));
      data.push = await runPush({ ...inputs, requests: inputs.requests.filter((r) => built.has(r.ref)) }, argv, ui);
    }
    return { data };
  },
  render: renderBuild,
});
