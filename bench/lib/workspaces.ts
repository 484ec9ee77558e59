/** Workspaces the benchmarks run on, as closures + image specs (the input of buildSharedGraph). */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Closure } from '@planner/closure';
import type { ImageSpec } from '@planner/graph';
import { loadClosures } from '@planner/closure';
import { loadWorkspace } from '@planner/workspace';
import { generateWorkspace, type GenerateOptions, type Profile } from './generate.js';

export interface BenchWorkspace {
  name: string;
  closures: Map<string, Closure>;
  images: ImageSpec[];
}

/** debian-120 of the shared data sets: $PLANNER_SHARED_DATA, else ../shared/data beside the checkout, else /work/shared/data. */
export const DEBIAN_120 = path.join(
  process.env.PLANNER_SHARED_DATA ?? [fileURLToPath(new URL('../../../shared/data', import.meta.url)), '/work/shared/data'].find((dir) => existsSync(dir)) ?? '/work/shared/data',
  'debian-120',
);

/** The debian-120 data set, read through planner's own workspace and closure loaders. */
export async function loadDataWorkspace(dir = DEBIAN_120, name = 'debian-120'): Promise<BenchWorkspace> {
  const workspace = await loadWorkspace({ cwd: dir });
  const loaded = await loadClosures(
    workspace.services.map((s) => ({ ref: s.ref, file: s.manifestPath, dir: s.dir, contents: s.manifest.contents, ...(s.closureFile ? { closureFile: s.closureFile } : {}) })),
    { storeDir: workspace.config.storeDir, cwd: workspace.root, stopDir: workspace.root },
  );
  const images: ImageSpec[] = workspace.services.map((s, i) => ({
    ref: s.ref,
    name: s.name,
    tag: s.tag,
    roots: loaded[i]!.roots,
    maxLayers: s.maxLayers,
    baseLayers: 0,
  }));
  return { name, closures: new Map(loaded.map((c) => [c.ref, c.closure])), images };
}

export function generatedWorkspace(options: GenerateOptions & { name?: string } = {}): BenchWorkspace {
  const ws = generateWorkspace(options);
  return { name: options.name ?? `${options.profile ?? 'stress'}-${options.images ?? 1000}`, closures: ws.closures, images: ws.images };
}

/**
 * A workspace by name: `debian-120` (the shared data set), `monorepo-<images>` (generated,
 * structure calibrated to debian-120: bench/layering/realism.ts) or `stress-<images>`
 * (generated, closures of hundreds to 2,000 paths: far more distinct image sets per image
 * than any real graph we have, the workspace of the speed and load benchmarks).
 */
export async function benchWorkspace(name: string, seed = 1): Promise<BenchWorkspace> {
  if (name === 'debian-120') return loadDataWorkspace();
  const match = /^(monorepo|stress)-(\d+)$/.exec(name);
  if (!match) throw new Error(`unknown workspace ${name} (debian-120, monorepo-<images>, stress-<images>)`);
  return generatedWorkspace({ profile: match[1] as Profile, images: Number(match[2]), seed, name });
}
