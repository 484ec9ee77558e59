import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { PlannerError } from '@planner/errors';
import { parseErrorBody, TransientFailure, type RegistrySession } from './session.js';

export function pushScope(repository: string): string {
  return `repository:${repository}:pull,push`;
}

export function pullScope(repository: string): string {
  return `repository:${repository}:pull`;
}

/** HEAD /v2/<name>/blobs/<digest>: is the blob linked into this repository? */
export async function blobExists(session: RegistrySession, repository: string, digest: string): Promise<boolean> {
  const what = `HEAD of blob ${digest} in ${repository}`;
  const res = await session.request({
    method: 'HEAD',
    url: `/v2/${repository}/blobs/${digest}`,
    scopes: [pushScope(repository)],
    retry: true,
    what,
  });
  await res.body?.cancel();
  if (res.status === 200) return true;
  if (res.status === 404) return false;
  throw await session.unexpected(res, what);
}

/**
 * Cross-repository mount. `mounted` when the registry linked the blob (201); otherwise the
 * registry opened an upload session instead (202) and hands back its Location.
 */
export async function mountBlob(session: RegistrySession, repository: string, digest: string, from: string): Promise<{ mounted: true } | { mounted: false; location: string }> {
  const what = `mount of blob ${digest} from ${from} into ${repository}`;
  const query = new URLSearchParams({ mount: digest, from });
  const res = await session.request({
    method: 'POST',
    url: `/v2/${repository}/blobs/uploads/?${query.toString()}`,
    scopes: [pushScope(repository), pullScope(from)],
    headers: { 'content-length': '0' },
    retry: true,
    what,
  });
  await res.body?.cancel();
  if (res.status === 201) return { mounted: true };
  if (res.status === 202 && res.headers.get('location')) return { mounted: false, location: res.headers.get('location')! };
  throw await session.unexpected(res, what);
}

async function startUpload(session: RegistrySession, repository: string, digest: string): Promise<string> {
  const what = `start of upload of blob ${digest} to ${repository}`;
  const res = await session.request({
    method: 'POST',
    url: `/v2/${repository}/blobs/uploads/`,
    scopes: [pushScope(repository)],
    headers: { 'content-length': '0' },
    retry: true,
    what,
  });
  await res.body?.cancel();
  const location = res.headers.get('location');
  if (res.status === 202 && location) return location;
  throw await session.unexpected(res, what);
}

/** How many bytes an upload session holds (GET on its Location), or undefined when the session is gone. */
async function uploadOffset(session: RegistrySession, repository: string, location: string): Promise<{ offset: number; location: string } | undefined> {
  const res = await session.request({
    method: 'GET',
    url: location,
    scopes: [pushScope(repository)],
    retry: true,
    what: `status of an upload to ${repository}`,
  });
  await res.body?.cancel();
  if (res.status !== 204 && res.status !== 202) return undefined;
  const range = /^(?:bytes=)?0-(\d+)$/.exec(res.headers.get('range') ?? '');
  const next = res.headers.get('location') ?? location;
  if (!range) return { offset: 0, location: next };
  const end = Number(range[1]);
  // "0-0" means either nothing or one byte; assume nothing: a wrong guess is answered with
  // 416 and the upload starts over, never with corrupt data (the digest is checked at the end).
  return { offset: end === 0 ? 0 : end + 1, location: next };
}

function withDigest(session: RegistrySession, location: string, digest: string): string {
  const url = session.resolve(location);
  url.searchParams.set('digest', digest);
  return url.href;
}

export interface UploadOptions {
  repository: string;
  digest: string;
  size: number;
  /** The blob's file on disk. */
  path: string;
  /** An upload session already open (a mount answered 202). */
  location?: string;
  /** Blobs up to this size go in one PUT; larger ones in PATCH chunks of `chunkSize`. */
  chunkSize: number;
  /** Called with the bytes of this blob the registry has accepted so far. */
  onProgress?: (sent: number) => void;
}

export interface UploadResult {
  /** Bytes sent again because an attempt failed part way. */
  resent: number;
}

/** A fresh stream over `[start, end)` of the file that reports how far the request body got. */
function fileBody(path: string, start: number, end: number, onBytes: (n: number) => void): () => ReadableStream<Uint8Array> {
  return () => {
    if (end <= start) return new ReadableStream({ start: (c) => c.close() });
    const node = createReadStream(path, { start, end: end - 1, highWaterMark: 256 * 1024 });
    node.on('data', (chunk) => onBytes((chunk as Buffer).length));
    return Readable.toWeb(node) as unknown as ReadableStream<Uint8Array>;
  };
}

function isRestartable(status: number, code: string | undefined): boolean {
  return status === 404 || status === 416 || (status === 400 && (code === 'BLOB_UPLOAD_INVALID' || code === 'BLOB_UPLOAD_UNKNOWN'));
}

/**
 * Uploads one blob: one PUT when it fits in a chunk, PATCH chunks then a closing PUT when not.
 * After a failure it asks the registry how far the session got and goes on from there; when
 * the session is gone it starts a new one. Digest mismatches are not retried: the layout is bad.
 */
export async function uploadBlob(session: RegistrySession, options: UploadOptions): Promise<UploadResult> {
  const { repository, digest, size, path, chunkSize } = options;
  const report = options.onProgress ?? (() => {});
  let location = options.location;
  let offset = 0;
  let failures = 0;
  let resent = 0;
  let inFlight = 0;
  const what = `upload of blob ${digest} to ${repository}`;
  for (;;) {
    inFlight = 0;
    try {
      location ??= await startUpload(session, repository, digest);
      if (offset === 0 && size <= chunkSize) {
        const res = await session.request({
          method: 'PUT',
          url: withDigest(session, location, digest),
          scopes: [pushScope(repository)],
          headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) },
          body: fileBody(path, 0, size, (n) => {
            inFlight += n;
            report(Math.min(size, inFlight));
          }),
          retry: false,
          what,
        });
        await finish(session, res, what);
        report(size);
        return { resent };
      }
      while (offset < size) {
        const end = Math.min(size, offset + chunkSize);
        const base = offset;
        inFlight = 0;
        const res = await session.request({
          method: 'PATCH',
          url: location,
          scopes: [pushScope(repository)],
          headers: {
            'content-type': 'application/octet-stream',
            'content-length': String(end - offset),
            'content-range': `${offset}-${end - 1}`,
          },
          body: fileBody(path, offset, end, (n) => {
            inFlight += n;
            report(Math.min(size, base + inFlight));
          }),
          retry: false,
          what,
        });
        if (res.status !== 202 && res.status !== 204) {
          const text = await res.text();
          const body = parseErrorBody(text);
          if (isRestartable(res.status, body.code)) throw new RestartUpload(`${res.status} ${body.code ?? ''}`.trim());
          throw errorFor(session, what, res.status, body);
        }
        await res.body?.cancel();
        location = res.headers.get('location') ?? location;
        offset = end;
        // Accepted: a failure from here on (the closing PUT) re-sends none of these bytes.
        inFlight = 0;
        failures = 0;
        report(offset);
      }
      const res = await session.request({
        method: 'PUT',
        url: withDigest(session, location, digest),
        scopes: [pushScope(repository)],
        headers: { 'content-length': '0' },
        retry: false,
        what,
      });
      await finish(session, res, what);
      report(size);
      return { resent };
    } catch (error) {
      if (!(error instanceof TransientFailure) && !(error instanceof RestartUpload)) throw error;
      resent += inFlight;
      failures++;
      if (failures > session.retryPolicy.retries) throw session.exhausted(what, error);
      await session.backoff(failures, error, what);
      // The failed request may have landed: the closing PUT commits before it answers.
      if (await blobExists(session, repository, digest)) {
        report(size);
        return { resent };
      }
      const status = error instanceof RestartUpload || location === undefined ? undefined : await uploadOffset(session, repository, location);
      if (status === undefined) {
        location = undefined;
        offset = 0;
      } else {
        location = status.location;
        offset = status.offset;
      }
      report(offset);
    }
  }
}

class RestartUpload extends Error {
  constructor(reason: string) {
    super(`upload session lost (${reason})`);
    this.name = 'RestartUpload';
  }
}

function errorFor(session: RegistrySession, what: string, status: number, body: { code: string | undefined; message: string | undefined }): PlannerError {
  if (body.code === 'DIGEST_INVALID' || body.code === 'SIZE_INVALID') {
    return new PlannerError('E_REGISTRY', `${session.registry}: ${what} rejected: ${body.code}: the local blob does not match its digest`, {
      exitCode: 1,
      hint: 'the OCI layout is corrupt; rebuild it with `planner build`',
      details: { registry: session.registry, status, registryCode: body.code },
    });
  }
  return new PlannerError('E_REGISTRY', `${session.registry}: ${what} answered ${status}${body.code ? ` ${body.code}` : ''}${body.message ? ` (${body.message})` : ''}`, {
    exitCode: 1,
    details: { registry: session.registry, status, ...(body.code ? { registryCode: body.code } : {}) },
  });
}

async function finish(session: RegistrySession, res: Response, what: string): Promise<void> {
  if (res.status === 201 || res.status === 204) {
    await res.body?.cancel();
    return;
  }
  const body = parseErrorBody(await res.text());
  if (isRestartable(res.status, body.code)) throw new RestartUpload(`${res.status} ${body.code ?? ''}`.trim());
  throw errorFor(session, what, res.status, body);
}
