import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Argv } from 'yargs';
import { PlannerError } from '@planner/errors';
import { LOCK_FILE, parseLock, plan as planLayers, type Plan } from '@planner/layering';
import { buildImages, compressorInfo, countBaseImageLayers, type BuildSummary, type Compression } from '@planner/oci';
import { defineCommand, type GlobalArgs } from '../command.js';
import { loadContext } from '../context.js';
import { createBuildProgress, renderBuild } from '../render/build.js';
import { pushInputsFromWorkspace, pushOptions, runPush, type PushArgs, type PushData } from './push.js';

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

export interface BuildData extends BuildSummary {
  workspace: string;
  format: 'oci' | 'docker-archive';
  push?: PushData;
}

/** The previous plan (planner.lock.json, written by `planner plan`), so unchanged layers keep their ids and cache entries. */
async function readLock(root: string): Promise<Plan | undefined> {
  const file = path.join(root, LOCK_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new PlannerError('E_READ', `cannot read ${file}: ${(error as Error).message}`, { file, hint: 'check that the file is readable', cause: error });
  }
  return parseLock(text, file);
}

function positive(value: number | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || value < 1) throw new PlannerError('E_USAGE', `${flag} must be a positive whole number, got ${value}`);
  return value;
}

export const buildCommand = defineCommand<BuildArgs, BuildData>({
  command: 'build [images..]',
  describe: 'Build the planned images into one OCI layout, each shared layer once',
  builder: (y) =>
    pushOptions(y)
      .positional('images', { type: 'string', array: true, describe: 'Images (name or name:tag) to build' })
      .option('all', { type: 'boolean', describe: 'Build every image of the workspace' })
      .option('out', { type: 'string', describe: 'OCI layout directory (default: planner.config.json "out", .planner/oci)' })
      .option('cache-dir', { type: 'string', describe: 'Layer cache directory (default: planner.config.json "cacheDir", .planner/cache)' })
      .option('compression', { choices: ['gzip', 'none', 'zstd'], default: 'gzip', describe: 'Layer compression' })
      .option('format', { choices: ['oci', 'docker-archive'], default: 'oci', describe: 'docker-archive also writes one `docker load`-able tar per image' })
      .option('archive-dir', { type: 'string', describe: 'Where --format docker-archive writes its tars (default: <out>/../docker-archive)' })
      .option('max-layers', { type: 'number', describe: 'Layer budget for every image (overrides the config and manifests)' })
      .option('build-jobs', { type: 'number', describe: 'Layers built in parallel and compression threads (default: CPU cores)' })
      .option('push', { type: 'boolean', describe: 'Push the built images afterwards (see planner push)' }) as Argv<BuildArgs & GlobalArgs>,
  run: async (argv, ui) => {
    const names = argv.images ?? [];
    if (names.length === 0 && !argv.all) {
      throw new PlannerError('E_USAGE', 'name the images to build, or pass --all', { hint: 'planner build --all, or planner build api web:1.2' });
    }
    if (names.length > 0 && argv.all) throw new PlannerError('E_USAGE', 'pass either image names or --all, not both');
    const maxLayers = positive(argv.maxLayers, '--max-layers');
    const jobs = positive(argv.buildJobs, '--build-jobs');
    // Fails before any nix work when the runtime cannot do the asked compression.
    compressorInfo(argv.compression as Compression);
    const ctx = await loadContext(argv, {
      ...(maxLayers !== undefined ? { maxLayers } : {}),
      baseLayers: (s) => countBaseImageLayers(s.fromImage!),
    });
    const { workspace } = ctx;
    const select = names.map((n) => {
      const hit = workspace.services.find((s) => s.ref === n) ?? workspace.services.filter((s) => s.name === n);
      if (!Array.isArray(hit)) return hit.ref;
      if (hit.length === 1) return hit[0]!.ref;
      throw new PlannerError('E_UNKNOWN_IMAGE', hit.length === 0 ? `no image ${n} in the workspace` : `${n} names several images: ${hit.map((s) => s.ref).join(', ')}`, {
        hint: `Images: ${workspace.services.map((s) => s.ref).join(', ')}.`,
      });
    });
    const previous = await readLock(workspace.root);
    const plan = planLayers(ctx.graph, { ...(maxLayers !== undefined ? { maxLayers } : {}), ...(previous ? { previous } : {}) });
    const cwd = path.resolve(argv.cwd ?? process.cwd());
    const out = argv.out !== undefined ? path.resolve(cwd, argv.out) : workspace.config.out;
    const cacheDir = argv.cacheDir !== undefined ? path.resolve(cwd, argv.cacheDir) : workspace.config.cacheDir;
    const format = (argv.format ?? 'oci') as 'oci' | 'docker-archive';
    const archiveDir = argv.archiveDir !== undefined ? path.resolve(cwd, argv.archiveDir) : path.join(path.dirname(out), 'docker-archive');
    const progress = createBuildProgress(ui);
    let summary: BuildSummary;
    try {
      summary = await buildImages({
        plan,
        images: workspace.services.map((s, i) => ({
          ref: s.ref,
          contents: ctx.closures[i]!.roots,
          config: s.manifest.config,
          fromImage: s.fromImage,
        })),
        select,
        out,
        cacheDir,
        compression: argv.compression as Compression,
        ...(format === 'docker-archive' ? { dockerArchiveDir: archiveDir } : {}),
        ...(jobs !== undefined ? { jobs } : {}),
        onProgress: (e) => progress.event(e),
      });
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
