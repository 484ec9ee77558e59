import { PlannerError } from '@planner/errors';
import { blobExists, mountBlob, uploadBlob } from './blobs.js';
import { findCredentials, type CredentialSources } from './credentials.js';
import { blobPath, hasBlob, manifestBlobs } from './layout.js';
import { manifestDigest, putManifest } from './manifests.js';
import pLimit from 'p-limit';
import { allOrFirstError, CancelledError } from './pool.js';
import type { RetryPolicy } from './retry.js';
import { RegistrySession } from './session.js';
import type { BlobAction, Descriptor, ImagePushResult, ImageTarget, Layout, LayoutImage, LayoutManifest, PushEvent, PushResult, PushTotals } from './types.js';

export const DEFAULT_CONCURRENCY = 4;
/** Blobs up to this size go in one PUT; larger ones in PATCH chunks of this size. */
export const DEFAULT_CHUNK_SIZE = 32 * 1024 * 1024;

export interface ConnectOptions {
  credentials: CredentialSources;
  /** `--insecure`: plain HTTP allowed for every registry of this run. */
  insecure?: boolean;
  /** planner.config.json `insecureRegistries`: hosts (with port) allowed plain HTTP. */
  insecureRegistries?: readonly string[];
  retry?: RetryPolicy;
  onEvent?: (event: PushEvent) => void;
  userAgent?: string;
}

/**
 * Connected sessions, opened on first use and shared by every step of a run: one per
 * registry and login (an auth file may hold other credentials for other repositories of
 * the same registry), and per scheme.
 */
export class SessionPool {
  private readonly sessions = new Map<string, Promise<RegistrySession>>();
  constructor(private readonly options: ConnectOptions) {}

  /** Which login `registry/repository` uses ('' for none): repositories with the same one share a session. */
  identity(registry: string, repository: string): string {
    const found = findCredentials(this.options.credentials, registry, repository);
    return found ? `${found.source}\0${found.username}` : '';
  }

  /** `repository` picks credentials when an auth file holds per-repository entries. */
  get(registry: string, repository: string, plainHttp = false): Promise<RegistrySession> {
    const key = `${registry}\0${plainHttp ? 'http' : 'https'}\0${this.identity(registry, repository)}`;
    let session = this.sessions.get(key);
    if (!session) {
      const { credentials, insecure, insecureRegistries, retry, onEvent, userAgent } = this.options;
      const s = new RegistrySession({
        registry,
        credentials: findCredentials(credentials, registry, repository),
        insecure: insecure === true || (insecureRegistries ?? []).includes(registry),
        plainHttp,
        ...(retry ? { retry } : {}),
        ...(onEvent ? { onEvent } : {}),
        ...(userAgent ? { userAgent } : {}),
      });
      session = s.connect().then(() => s);
      this.sessions.set(key, session);
    }
    return session;
  }

  /** Retries made by every session so far. */
  async retries(): Promise<number> {
    let n = 0;
    for (const s of this.sessions.values()) n += (await s.catch(() => undefined))?.retries ?? 0;
    return n;
  }
}

export interface PushOptions extends ConnectOptions {
  layout: Layout;
  /** Images to push (from resolveTargets); each ref must be in the layout. */
  targets: readonly ImageTarget[];
  /** Parallel blob transfers per registry. */
  concurrency?: number;
  chunkSize?: number;
  /**
   * Blobs known to be in another repository of a registry (registry -> digest -> repository),
   * e.g. layers another shard pushed: mounted from there instead of uploaded.
   */
  mountSources?: ReadonlyMap<string, ReadonlyMap<string, string>>;
  /** Blobs this run may upload; the rest must already be in the registry (shards). Default: all. */
  mayUpload?: (digest: string, registry: string) => boolean;
  /** Sessions shared with other steps of the run; a new pool when absent. */
  sessions?: SessionPool;
}

interface BlobOutcome {
  action: BlobAction;
  size: number;
}

function key(repository: string, digest: string): string {
  return `${repository}@${digest}`;
}

/** A PlannerError with the image and blob it was about, for the user and for --json. */
export function inContext(error: unknown, context: { target: string; blob?: string }): unknown {
  if (!(error instanceof PlannerError)) return error;
  if (error.details?.target !== undefined) return error;
  const what = context.blob ? `${context.target} (blob ${context.blob})` : context.target;
  return new PlannerError(error.code, `pushing ${what}: ${error.message}`, {
    ...(error.hint ? { hint: error.hint } : {}),
    ...(error.file ? { file: error.file } : {}),
    details: { ...error.details, target: context.target, ...(context.blob ? { blob: context.blob } : {}) },
    cause: error,
    exitCode: error.exitCode,
  });
}

function emptyTotals(): PushTotals {
  return { images: 0, registries: 0, bytesUploaded: 0, bytesSkipped: 0, bytesMounted: 0, blobsUploaded: 0, blobsSkipped: 0, blobsMounted: 0, bytesResent: 0, retries: 0 };
}

/**
 * Pushes images from a layout to their targets. Per registry: HEAD every blob in every
 * target repository first; a blob missing everywhere is uploaded once, into the first
 * repository that needs it, and mounted into the others; manifests go last, byte for byte.
 */
export async function pushImages(options: PushOptions): Promise<PushResult> {
  const byRef = new Map(options.layout.images.map((image) => [image.ref, image]));
  for (const target of options.targets) {
    if (!byRef.has(target.ref)) {
      throw new PlannerError('E_UNKNOWN_IMAGE', `image ${target.ref} is not in the OCI layout ${options.layout.dir}`, {
        hint: 'build it first with `planner build`, or check the image name',
      });
    }
  }
  const pool = options.sessions ?? new SessionPool(options);
  const registries = [...new Set(options.targets.map((t) => t.registry))].sort();
  const images: ImagePushResult[] = [];
  const totals = emptyTotals();
  for (const registry of registries) {
    // Repositories pushed with different logins cannot mount each other's blobs: push each
    // login's share apart, through its own session.
    const byLogin = new Map<string, ImageTarget[]>();
    for (const t of options.targets) {
      if (t.registry !== registry) continue;
      const login = pool.identity(registry, t.repository);
      byLogin.set(login, [...(byLogin.get(login) ?? []), t]);
    }
    for (const login of [...byLogin.keys()].sort()) {
      const targets = byLogin.get(login)!.sort((a, b) => (a.reference < b.reference ? -1 : 1));
      const part = await pushToRegistry(
        options,
        pool,
        registry,
        targets.map((t) => ({ target: t, image: byRef.get(t.ref)! })),
      );
      images.push(...part.images);
      for (const k of Object.keys(totals) as (keyof PushTotals)[]) totals[k] += part.totals[k];
    }
  }
  totals.registries = registries.length;
  totals.retries = await pool.retries();
  images.sort((a, b) => (a.target < b.target ? -1 : a.target > b.target ? 1 : 0));
  return { images, totals };
}

async function pushToRegistry(options: PushOptions, pool: SessionPool, registry: string, work: { target: ImageTarget; image: LayoutImage }[]): Promise<PushResult> {
  const session = await pool.get(
    registry,
    work[0]!.target.repository,
    work.some((w) => w.target.plainHttp),
  );
  const emit = options.onEvent ?? (() => {});
  const limit = pLimit(options.concurrency ?? DEFAULT_CONCURRENCY);
  // HEADs carry no body: run more of them at once, so many images' checks stay quick on a far registry.
  const headLimit = pLimit(4 * (options.concurrency ?? DEFAULT_CONCURRENCY));
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
  const dir = options.layout.dir;
  const mayUpload = options.mayUpload ?? (() => true);
  let failed = false;
  const guarded = <T>(task: () => Promise<T>, pool = limit): Promise<T> =>
    pool(async () => {
      // After one failure, queued transfers are not started: the run reports and stops.
      if (failed) throw new CancelledError();
      try {
        return await task();
      } catch (error) {
        if (!(error instanceof CancelledError)) failed = true;
        throw error;
      }
    });

  // What each repository needs, and which image first asked for it (named in errors).
  const needs = new Map<string, Map<string, { desc: Descriptor; target: string }>>();
  for (const { target, image } of work) {
    let repo = needs.get(target.repository);
    if (!repo) needs.set(target.repository, (repo = new Map()));
    for (const desc of manifestBlobs(image.manifest)) if (!repo.has(desc.digest)) repo.set(desc.digest, { desc, target: target.reference });
  }

  // 1. HEAD every blob in every repository before anything else.
  const present = new Set<string>();
  const heads: Promise<void>[] = [];
  for (const [repository, blobs] of needs) {
    for (const digest of blobs.keys()) {
      heads.push(
        guarded(async () => {
          if (await blobExists(session, repository, digest)) present.add(key(repository, digest));
        }, headLimit).catch((error: unknown) => {
          throw inContext(error, { target: blobs.get(digest)!.target, blob: digest });
        }),
      );
    }
  }
  await allOrFirstError(heads);

  // 2. Decide per digest: mount from a repository that has it, or upload once and mount the rest.
  const outcomes = new Map<string, BlobOutcome>();
  const digests = new Map<string, { desc: Descriptor; target: string; missing: string[]; holders: string[] }>();
  for (const repository of [...needs.keys()].sort()) {
    for (const [digest, need] of needs.get(repository)!) {
      let entry = digests.get(digest);
      if (!entry) digests.set(digest, (entry = { desc: need.desc, target: need.target, missing: [], holders: [] }));
      if (present.has(key(repository, digest))) {
        entry.holders.push(repository);
        outcomes.set(key(repository, digest), { action: 'skipped', size: need.desc.size });
      } else {
        entry.missing.push(repository);
      }
    }
  }
  const known = options.mountSources?.get(registry);
  let planBytes = 0;
  let planBlobs = 0;
  for (const [digest, entry] of digests) {
    const source = known?.get(digest);
    if (source !== undefined && !entry.holders.includes(source)) entry.holders.push(source);
    planBlobs++;
    planBytes += entry.desc.size;
  }
  emit({
    type: 'plan',
    registry,
    images: work.length,
    blobs: planBlobs,
    bytes: planBytes,
    present: [...digests.values()].filter((e) => e.missing.length === 0).length,
    presentBytes: [...digests.values()].filter((e) => e.missing.length === 0).reduce((s, e) => s + e.desc.size, 0),
  });

  let resent = 0;
  const upload = async (repository: string, entry: { desc: Descriptor; target: string }, location?: string): Promise<void> => {
    const { digest, size } = entry.desc;
    if (!mayUpload(digest, registry)) {
      throw new PlannerError('E_REGISTRY', `blob ${digest} is not in ${registry} and this run does not push it`, {
        exitCode: 1,
        hint: 'the shard that owns this layer has not pushed it; rerun that shard, or push without --shard',
        details: { registry, repository },
      });
    }
    if (!(await hasBlob(dir, digest))) {
      throw new PlannerError('E_LAYOUT_INVALID', `blob ${digest} is neither in the OCI layout ${dir} nor in ${registry}/${repository}`, {
        exitCode: 1,
        file: blobPath(dir, digest),
        hint: 'rebuild the images with `planner build`',
      });
    }
    emit({ type: 'blob-start', registry, repository, digest, size, action: 'upload' });
    const result = await uploadBlob(session, {
      repository,
      digest,
      size,
      path: blobPath(dir, digest),
      chunkSize,
      ...(location ? { location } : {}),
      onProgress: (sent) => emit({ type: 'blob-progress', registry, repository, digest, size, sent }),
    });
    resent += result.resent;
    outcomes.set(key(repository, digest), { action: 'uploaded', size });
    emit({ type: 'blob-done', registry, repository, digest, size, action: 'uploaded' });
  };
  const mount = async (repository: string, from: string, entry: { desc: Descriptor; target: string }): Promise<void> => {
    const { digest, size } = entry.desc;
    emit({ type: 'blob-start', registry, repository, digest, size, action: 'mount' });
    const result = await mountBlob(session, repository, digest, from);
    if (result.mounted) {
      outcomes.set(key(repository, digest), { action: 'mounted', size });
      emit({ type: 'blob-done', registry, repository, digest, size, action: 'mounted' });
      return;
    }
    // 202: the registry would not mount (no pull right on the source, or no mount support).
    await upload(repository, entry, result.location);
  };

  const transfers: Promise<void>[] = [];
  for (const [digest, entry] of [...digests].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (entry.missing.length === 0) continue;
    const wrap = (p: Promise<void>): Promise<void> =>
      p.catch((error: unknown) => {
        throw inContext(error, { target: entry.target, blob: digest });
      });
    let rest = entry.missing;
    let source = entry.holders[0];
    let first: Promise<void> = Promise.resolve();
    if (source === undefined) {
      const home = entry.missing[0]!;
      first = guarded(() => upload(home, entry));
      transfers.push(wrap(first));
      source = home;
      rest = entry.missing.slice(1);
    }
    const from = source;
    for (const repository of rest) {
      transfers.push(wrap(first.then(() => guarded(() => mount(repository, from, entry)))));
    }
  }
  await allOrFirstError(transfers);

  // 3. Manifests last, byte for byte: children of an index by digest, then the tag.
  const manifests: Promise<'pushed' | 'unchanged'>[] = work.map(({ target, image }) =>
    guarded(async () => {
      const pushChildren = async (m: LayoutManifest): Promise<void> => {
        for (const child of m.children) {
          await pushChildren(child);
          if ((await manifestDigest(session, target.repository, child.digest)) === child.digest) continue;
          await putManifest(session, { repository: target.repository, reference: child.digest, mediaType: child.mediaType, bytes: child.bytes, digest: child.digest });
        }
      };
      await pushChildren(image.manifest);
      const m = image.manifest;
      let action: 'pushed' | 'unchanged' = 'pushed';
      if ((await manifestDigest(session, target.repository, target.tag)) === m.digest) action = 'unchanged';
      else await putManifest(session, { repository: target.repository, reference: target.tag, mediaType: m.mediaType, bytes: m.bytes, digest: m.digest });
      emit({ type: 'manifest', target: target.reference, digest: m.digest, action });
      return action;
    }).catch((error: unknown) => {
      throw inContext(error, { target: target.reference });
    }),
  );
  const actions = await allOrFirstError(manifests);

  // 4. Figures. A blob counts for the first image (by target) in its repository that needs it.
  const totals = emptyTotals();
  for (const outcome of outcomes.values()) {
    if (outcome.action === 'uploaded') {
      totals.blobsUploaded++;
      totals.bytesUploaded += outcome.size;
    } else if (outcome.action === 'mounted') {
      totals.blobsMounted++;
      totals.bytesMounted += outcome.size;
    } else {
      totals.blobsSkipped++;
      totals.bytesSkipped += outcome.size;
    }
  }
  totals.images = work.length;
  totals.bytesResent = resent;
  const claimed = new Set<string>();
  const images = work.map(({ target, image }, i): ImagePushResult => {
    const r: ImagePushResult = {
      image: image.ref,
      target: target.reference,
      registry,
      repository: target.repository,
      tag: target.tag,
      manifestDigest: image.manifest.digest,
      manifest: actions[i]!,
      bytesUploaded: 0,
      bytesSkipped: 0,
      bytesMounted: 0,
      blobsUploaded: 0,
      blobsSkipped: 0,
      blobsMounted: 0,
    };
    for (const desc of manifestBlobs(image.manifest)) {
      const k = key(target.repository, desc.digest);
      const outcome = claimed.has(k) ? { action: 'skipped' as const, size: desc.size } : outcomes.get(k)!;
      claimed.add(k);
      if (outcome.action === 'uploaded') {
        r.blobsUploaded++;
        r.bytesUploaded += desc.size;
      } else if (outcome.action === 'mounted') {
        r.blobsMounted++;
        r.bytesMounted += desc.size;
      } else {
        r.blobsSkipped++;
        r.bytesSkipped += desc.size;
      }
    }
    return r;
  });
  return { images, totals };
}
