import path from 'node:path';
import type { Argv } from 'yargs';
import { PlannerError } from '@planner/errors';
import {
  cacheLocation,
  DEFAULT_CHUNK_SIZE,
  DEFAULT_CONCURRENCY,
  loadCredentialSources,
  parseShard,
  pushImages,
  pushShard,
  readLayout,
  resolveTargets,
  SessionPool,
  type ImageTarget,
  type Layout,
  type PushEvent,
  type PushResult,
  type ShardPushResult,
  type ShardSpec,
  type TargetRequest,
} from '@planner/registry';
import { findConfigFile, loadWorkspace, type Workspace } from '@planner/workspace';
import { defineCommand, type GlobalArgs } from '../command.js';
import { CHUNK, JOBS, SHARD_WAIT, nonNegative, wholeNumber } from '../flags.js';
import { createPushProgress, renderPush } from '../render/push.js';
import type { Ui } from '../render/ui.js';

/** The push flags, shared by `planner push` and `planner build --push`. */
export interface PushArgs {
  registry?: string;
  creds?: string;
  insecure?: boolean;
  jobs?: number;
  shard?: string;
  shardWait?: number;
  chunkSize?: number;
}

export interface PushData extends PushResult {
  layout: string;
  shard?: ShardPushResult['shard'];
  layers?: ShardPushResult['layers'];
}

/** Adds the push flags to a command (build adds them behind --push). */
export function pushOptions<T>(y: Argv<T>): Argv<T & PushArgs> {
  return y
    .option('registry', { type: 'string', requiresArg: true, describe: 'Push every image to REGISTRY[/prefix] (overrides planner.config.json and manifests)' })
    .option('creds', { type: 'string', requiresArg: true, describe: 'USER:PASSWORD for the registry (else PLANNER_REGISTRY_USER/PASSWORD, auth.json, ~/.docker/config.json)' })
    .option('insecure', { type: 'boolean', describe: 'Allow plain HTTP to the registry (loopback addresses always are)' })
    .option('jobs', { type: 'number', describe: `Parallel blob uploads per registry (default ${DEFAULT_CONCURRENCY})` })
    .option('shard', { type: 'string', requiresArg: true, describe: "Push this runner's share i/n of layers and images; runners meet in <registry>/planner-cache" })
    .option('shard-wait', { type: 'number', describe: 'Seconds to wait for layers other shards push (default 1800)' })
    .option('chunk-size', { type: 'number', describe: `Bytes per upload chunk; larger blobs are sent in chunks (default ${DEFAULT_CHUNK_SIZE})`, hidden: true }) as Argv<T & PushArgs>;
}

/** What a push needs from the workspace, if there is one. */
export interface PushInputs {
  layoutDir: string;
  /** Images to push: the workspace's services, or every image of the layout without a workspace. */
  requests: TargetRequest[];
  configRegistry?: string;
  configFile?: string;
  insecureRegistries: string[];
}

/** Target requests for the workspace's services (their manifests may name a repository). */
export function pushInputsFromWorkspace(workspace: Workspace, layoutDir?: string): PushInputs {
  return {
    layoutDir: layoutDir ?? workspace.config.out,
    requests: workspace.services.map((s) => ({
      ref: s.ref,
      name: s.name,
      tag: s.tag,
      ...(s.manifest.repository !== undefined ? { repository: s.manifest.repository, repositoryOrigin: `${s.manifestPath} repository` } : {}),
    })),
    ...(workspace.config.registry !== undefined ? { configRegistry: workspace.config.registry } : {}),
    configFile: workspace.configFile,
    insecureRegistries: workspace.config.insecureRegistries ?? [],
  };
}

/** Where each requested image goes: --registry, else the config's registry, else its manifest's repository. */
export function pushTargets(inputs: PushInputs, cliRegistry: string | undefined, requests = inputs.requests): ImageTarget[] {
  return resolveTargets(requests, {
    ...(cliRegistry !== undefined ? { cliRegistry } : {}),
    ...(inputs.configRegistry !== undefined ? { configRegistry: inputs.configRegistry } : {}),
    ...(inputs.configFile !== undefined ? { configOrigin: inputs.configFile } : {}),
  });
}

/**
 * Pushes images of a layout: the whole of `planner push`, and what `planner build --push`
 * calls after building (with the workspace it loaded and the layout it wrote).
 */
export interface PushExtras {
  /** Blobs already in the registry elsewhere (from a LayerCache): mounted, not uploaded. */
  mountSources?: ReadonlyMap<string, ReadonlyMap<string, string>>;
  /** Which blobs this run may upload (a sharded build: its own layers and configs). */
  mayUpload?: (digest: string, registry: string) => boolean;
  /** Sessions the build already opened for its layer cache. */
  sessions?: SessionPool;
  env?: NodeJS.ProcessEnv;
}

/**
 * Sessions for a build that talks to the registry before it pushes (its layer cache):
 * pass the pool to runPush through `extras.sessions` so both share tokens and connections.
 */
export async function openPushSessions(inputs: PushInputs, args: PushArgs, onEvent: (event: PushEvent) => void, env: NodeJS.ProcessEnv = process.env): Promise<SessionPool> {
  const credentials = await loadCredentialSources({ ...(args.creds !== undefined ? { creds: args.creds } : {}), env });
  return new SessionPool({ credentials, insecure: args.insecure === true, insecureRegistries: inputs.insecureRegistries, onEvent, userAgent: 'planner' });
}

export async function runPush(inputs: PushInputs, args: PushArgs, ui: Ui, extras: PushExtras = {}): Promise<PushData> {
  const env = extras.env ?? process.env;
  const jobs = wholeNumber(args.jobs, '--jobs', JOBS);
  const chunkSize = wholeNumber(args.chunkSize, '--chunk-size', CHUNK);
  const shardWait = nonNegative(args.shardWait, '--shard-wait', SHARD_WAIT);
  const shard: ShardSpec | undefined = args.shard === undefined ? undefined : parseShard(args.shard);
  const credentials = await loadCredentialSources({ ...(args.creds !== undefined ? { creds: args.creds } : {}), env });
  const layout: Layout = await readLayout(inputs.layoutDir);
  const inLayout = new Set(layout.images.map((i) => i.ref));
  const missing = inputs.requests.filter((r) => !inLayout.has(r.ref)).map((r) => r.ref);
  if (missing.length > 0) {
    throw new PlannerError('E_UNKNOWN_IMAGE', `not in the OCI layout ${inputs.layoutDir}: ${missing.join(', ')}`, {
      hint: 'build them first with `planner build --all` (or pass --out to the layout that holds them)',
      details: { missing },
    });
  }
  const targets: ImageTarget[] = pushTargets(inputs, args.registry);
  const progress = createPushProgress(ui);
  const onEvent = (event: PushEvent): void => progress.event(event);
  const connect = {
    credentials,
    insecure: args.insecure === true,
    insecureRegistries: inputs.insecureRegistries,
    onEvent,
    userAgent: 'planner',
  };
  const common = {
    ...connect,
    layout,
    sessions: extras.sessions ?? new SessionPool(connect),
    ...(extras.mountSources ? { mountSources: extras.mountSources } : {}),
    ...(extras.mayUpload ? { mayUpload: extras.mayUpload } : {}),
    ...(jobs !== undefined ? { concurrency: jobs } : {}),
    ...(chunkSize !== undefined ? { chunkSize } : {}),
  };
  try {
    if (!shard) {
      const result = await pushImages({ ...common, targets });
      return { layout: inputs.layoutDir, ...result };
    }
    const registry = args.registry ?? inputs.configRegistry ?? targets[0]?.registry;
    if (registry === undefined) throw new PlannerError('E_USAGE', 'nothing to push: no registry given', { hint: 'pass --registry HOST[:PORT], or set "registry" in planner.config.json' });
    const result = await pushShard({
      ...common,
      targets,
      shard,
      cache: cacheLocation(registry),
      ...(shardWait !== undefined ? { waitMs: shardWait * 1000 } : {}),
    });
    return { layout: inputs.layoutDir, ...result };
  } finally {
    progress.stop();
  }
}

export const pushCommand = defineCommand<PushArgs & { out?: string }, PushData>({
  command: 'push',
  describe: 'Push the built images to their registries, sharing blobs between images',
  builder: (y) =>
    pushOptions(y).option('out', { type: 'string', requiresArg: true, describe: 'OCI layout directory to push from (default: "out" in planner.config.json, else .planner/oci)' }) as Argv<
      PushArgs & { out?: string } & GlobalArgs
    >,
  run: async (argv, ui) => {
    const cwd = path.resolve(argv.cwd ?? process.cwd());
    const out = argv.out === undefined ? undefined : path.resolve(cwd, argv.out);
    const hasConfig = argv.config !== undefined || findConfigFile(cwd) !== undefined;
    let inputs: PushInputs;
    if (hasConfig || out === undefined) {
      const workspace = await loadWorkspace({ cwd, ...(argv.config ? { configFile: path.resolve(cwd, argv.config) } : {}) });
      inputs = pushInputsFromWorkspace(workspace, out);
    } else {
      // No workspace: push every image of the layout, to --registry.
      const layout = await readLayout(out);
      inputs = { layoutDir: out, requests: layout.images.map((i) => ({ ref: i.ref, name: i.name, tag: i.tag })), insecureRegistries: [] };
    }
    const data = await runPush(inputs, argv, ui);
    return { data };
  },
  render: renderPush,
});
