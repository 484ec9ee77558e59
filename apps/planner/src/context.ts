import path from 'node:path';
import { loadClosures, type LoadedImageClosure } from '@planner/closure';
import { buildSharedGraph, type ImageSpec, type SharedGraph } from '@planner/graph';
import { countBaseImageLayers } from '@planner/oci';
import { loadWorkspace, type PlannerConfig, type Service, type Workspace } from '@planner/workspace';
import type { GlobalArgs } from './command.js';

export interface Context {
  workspace: Workspace;
  closures: LoadedImageClosure[];
  specs: ImageSpec[];
  graph: SharedGraph;
}

export interface ContextOptions {
  /** Overrides maxLayers for every image (e.g. --max-layers). */
  maxLayers?: number | undefined;
  /** Counts a base image's layers so planning reserves them (default: read the fromImage tarball). */
  baseLayers?: (service: Service) => Promise<number>;
}

export async function loadWorkspaceFromArgs(argv: GlobalArgs): Promise<Workspace> {
  return loadWorkspace({
    cwd: path.resolve(argv.cwd ?? process.cwd()),
    ...(argv.config ? { configFile: path.resolve(argv.cwd ?? process.cwd(), argv.config) } : {}),
  });
}

/** workspace discovery -> closures (files or one nix build + one path-info) -> shared graph. */
export async function loadContext(argv: GlobalArgs, options: ContextOptions = {}): Promise<Context> {
  const workspace = await loadWorkspaceFromArgs(argv);
  return contextFromWorkspace(workspace, options);
}

const defaultBaseLayers = (service: Service): Promise<number> => countBaseImageLayers(service.fromImage!);

export async function contextFromWorkspace(workspace: Workspace, options: ContextOptions = {}): Promise<Context> {
  const { config, services } = workspace;
  const closures = await loadClosures(
    services.map((s) => ({
      ref: s.ref,
      file: s.manifestPath,
      dir: s.dir,
      contents: s.manifest.contents,
      ...(s.closureFile ? { closureFile: s.closureFile } : {}),
    })),
    { storeDir: config.storeDir, cwd: workspace.root, stopDir: workspace.root },
  );
  const specs: ImageSpec[] = await Promise.all(
    services.map(async (s, i) => ({
      ref: s.ref,
      name: s.name,
      tag: s.tag,
      roots: closures[i]!.roots,
      maxLayers: options.maxLayers ?? s.maxLayers,
      baseLayers: s.fromImage ? await (options.baseLayers ?? defaultBaseLayers)(s) : 0,
    })),
  );
  const graph = buildSharedGraph(new Map(closures.map((c) => [c.ref, c.closure])), specs, { storeDir: config.storeDir });
  return { workspace, closures, specs, graph };
}

/** The planner options planner.config.json sets (churnWeight), so plan, build, check, report and explain agree. */
export function churnOf(config: PlannerConfig): { churnWeight?: number } {
  return config.churnWeight !== undefined ? { churnWeight: config.churnWeight } : {};
}
