import { PlannerError } from '@planner/errors';
import { pushScope } from './blobs.js';
import type { RegistrySession } from './session.js';

export const MANIFEST_MEDIA_TYPES = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
] as const;

/** The digest a tag (or digest) points at in the registry, or undefined when it points nowhere. */
export async function manifestDigest(session: RegistrySession, repository: string, reference: string): Promise<string | undefined> {
  const what = `HEAD of manifest ${repository}:${reference}`;
  const res = await session.request({
    method: 'HEAD',
    url: `/v2/${repository}/manifests/${reference}`,
    scopes: [pushScope(repository)],
    headers: { accept: MANIFEST_MEDIA_TYPES.join(', ') },
    retry: true,
    what,
  });
  await res.body?.cancel();
  if (res.status === 404) return undefined;
  if (res.status !== 200) throw await session.unexpected(res, what);
  return res.headers.get('docker-content-digest') ?? undefined;
}

/** GET a manifest's bytes and media type, or undefined when the reference is unknown. */
export async function getManifest(session: RegistrySession, repository: string, reference: string): Promise<{ bytes: Buffer; mediaType: string; digest: string | undefined } | undefined> {
  const what = `GET of manifest ${repository}:${reference}`;
  const res = await session.request({
    method: 'GET',
    url: `/v2/${repository}/manifests/${reference}`,
    scopes: [pushScope(repository)],
    headers: { accept: MANIFEST_MEDIA_TYPES.join(', ') },
    retry: true,
    what,
  });
  if (res.status === 404) {
    await res.body?.cancel();
    return undefined;
  }
  if (res.status !== 200) throw await session.unexpected(res, what);
  const bytes = Buffer.from(await res.arrayBuffer());
  return {
    bytes,
    mediaType: res.headers.get('content-type') ?? '',
    digest: res.headers.get('docker-content-digest') ?? undefined,
  };
}

/** PUT the manifest bytes unchanged; the registry's digest must equal ours. */
export async function putManifest(session: RegistrySession, options: { repository: string; reference: string; mediaType: string; bytes: Buffer; digest: string }): Promise<void> {
  const { repository, reference, mediaType, bytes, digest } = options;
  const what = `PUT of manifest ${repository}:${reference}`;
  const res = await session.request({
    method: 'PUT',
    url: `/v2/${repository}/manifests/${reference}`,
    scopes: [pushScope(repository)],
    headers: { 'content-type': mediaType, 'content-length': String(bytes.length) },
    body: bytes,
    retry: true,
    what,
  });
  if (res.status !== 201 && res.status !== 200 && res.status !== 202) throw await session.unexpected(res, what);
  await res.body?.cancel();
  const got = res.headers.get('docker-content-digest');
  if (got && got !== digest) {
    throw new PlannerError('E_REGISTRY', `${session.registry}: manifest ${repository}:${reference} was stored as ${got}, not ${digest}`, {
      exitCode: 1,
      hint: 'the registry rewrote the manifest; planner pushes manifests byte for byte and cannot keep digests stable there',
      details: { registry: session.registry, expected: digest, actual: got },
    });
  }
}
