/**
 * Faults, each followed by a rerun that completes and verifies with skopeo: a proxy that
 * injects 500s and connection resets (part way through upload bodies), retries running
 * out, the registry stopped and restarted mid-push, and the pusher killed mid-push (the
 * rerun uploads only what is missing).
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { json, plannerAsync, plannerBin, tempDir, type RunResult } from '../helpers/cli.js';
import { monorepoImages, writeLayout, type WrittenLayout } from './helpers/layout.js';
import { startProxy, type TestProxy } from './helpers/proxy.js';
import { startRegistry, type TestRegistry } from './helpers/registry.js';
import { remoteDigest } from './helpers/verify.js';

const MiB = 1024 * 1024;
let work: string;
let layout: WrittenLayout;
let uploadable: Map<string, number>;
let registry: TestRegistry | undefined;
let proxy: TestProxy | undefined;

beforeAll(() => {
  work = tempDir('planner-faults-');
  layout = writeLayout(path.join(work, 'oci'), monorepoImages({ images: 3, baseSize: 3 * MiB, appSize: 300_000, bigSize: 6 * MiB }));
  uploadable = new Map();
  for (const image of layout.images) for (const b of [image.config, ...image.layers]) uploadable.set(b.digest, b.size);
});

afterEach(async () => {
  await proxy?.close();
  await registry?.stop();
  proxy = undefined;
  registry = undefined;
});

afterAll(() => {});

async function verifyAll(host: string, prefix: string): Promise<void> {
  for (const image of layout.images) expect(await remoteDigest(`${host}/${prefix}/${image.ref}`)).toBe(image.manifestDigest);
}

/** Runs the CLI and calls `onLine` for each stderr line while it runs (to act mid-push). */
function plannerLive(args: string[], onLine: (line: string, child: ReturnType<typeof spawn>) => void): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [plannerBin, ...args], { env: { ...process.env, NO_COLOR: '1' } });
    let stdout = '';
    let stderr = '';
    let pending = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      pending += d.toString();
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) onLine(line, child);
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr }));
  });
}

describe('faults', () => {
  it('rides out injected 500s and connection resets, resuming chunked uploads', async () => {
    registry = await startRegistry(path.join(work, 'r-flaky'));
    proxy = await startProxy({ upstream: registry.host, fail500Every: 7, resetEvery: 3, maxFaults: 12 });
    const run = await plannerAsync(['push', '--out', layout.dir, '--registry', `${proxy.host}/team`, '--chunk-size', String(MiB), '--json']);
    expect(run.code, run.stderr).toBe(0);
    const data = json(run);
    expect(proxy.faults().http500).toBeGreaterThan(0);
    expect(proxy.faults().resets).toBeGreaterThan(0);
    expect(data.totals.retries).toBeGreaterThan(0);
    expect(run.stderr).toMatch(/^retry \d+: /m);
    // Resumed, not restarted: far less than everything went up twice.
    expect(data.totals.bytesResent).toBeLessThan(data.totals.bytesUploaded / 2);
    const again = await plannerAsync(['push', '--out', layout.dir, '--registry', `${registry.host}/team`, '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(json(again).totals.bytesUploaded).toBe(0);
    await verifyAll(registry.host, 'team');
    expect(registry.blobDigests()).toEqual([...layout.blobs.keys()].sort());
  });

  it('counts no bytes as resent when only the closing PUTs fail', async () => {
    registry = await startRegistry(path.join(work, 'r-put'));
    proxy = await startProxy({ upstream: registry.host, fail500Every: 2, failMethods: ['PUT'], maxFaults: 4 });
    // Small blobs and chunks smaller than every one of them: each blob goes up in PATCHes,
    // and each PUT only closes an upload.
    const small = writeLayout(path.join(work, 'oci-small'), monorepoImages({ images: 2, baseSize: 4000, appSize: 2000 }));
    const chunk = Math.min(...small.blobs.values()) - 1;
    expect(chunk).toBeGreaterThan(100);
    const run = await plannerAsync(['push', '--out', small.dir, '--registry', `${proxy.host}/small`, '--chunk-size', String(chunk), '--json']);
    expect(run.code, run.stderr).toBe(0);
    const data = json(run);
    expect(proxy.faults().http500).toBe(4);
    expect(data.totals.retries).toBeGreaterThan(0);
    // Every PATCHed chunk was accepted before its PUT failed: nothing went up twice.
    expect(data.totals.bytesUploaded).toBeGreaterThan(0);
    expect(data.totals.bytesResent).toBe(0);
    for (const image of small.images) expect(await remoteDigest(`${registry.host}/small/${image.ref}`)).toBe(image.manifestDigest);
  });

  it('names image, blob and the registry error code once retries run out', async () => {
    registry = await startRegistry(path.join(work, 'r-broken'));
    proxy = await startProxy({ upstream: registry.host, fail500Every: 1, failMethods: ['POST'] });
    const run = await plannerAsync(['push', '--out', layout.dir, '--registry', `${proxy.host}/team`, '--json']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/\[E_REGISTRY\] pushing 127\.0\.0\.1:\d+\/team\/svc\d:v1 \(blob sha256:[0-9a-f]{64}\): .*failed after 6 retries: 500 UNKNOWN/);
    const error = json(run).error;
    expect(error.details).toMatchObject({ status: 500, registryCode: 'UNKNOWN' });
    expect(error.details.blob).toMatch(/^sha256:/);
    const again = await plannerAsync(['push', '--out', layout.dir, '--registry', `${registry.host}/team`]);
    expect(again.code, again.stderr).toBe(0);
    await verifyAll(registry.host, 'team');
  });

  it('survives the registry stopping and restarting mid-push', async () => {
    registry = await startRegistry(path.join(work, 'r-restart'));
    const reg = registry;
    const px = (proxy = await startProxy({ upstream: reg.host, bytesPerSecond: 6 * MiB }));
    let restarted: Promise<void> | undefined;
    const run = await plannerLive(['push', '--out', layout.dir, '--registry', `${proxy.host}/team`, '--chunk-size', String(2 * MiB), '--json'], (line) => {
      if (!restarted && line.startsWith('uploaded ')) {
        restarted = (async () => {
          await reg.stop();
          // Down until the pusher has found it down twice (no fixed delay), then up again.
          const before = px.upstreamErrors();
          while (px.upstreamErrors() < before + 2) await new Promise((r) => setTimeout(r, 20));
          await reg.start();
        })();
      }
    });
    await restarted;
    expect(restarted).toBeDefined();
    // The retries (about 15 s of backoff) span the outage: the push itself completes.
    expect(run.code, run.stderr).toBe(0);
    expect(json(run).totals.retries).toBeGreaterThan(0);
    const again = await plannerAsync(['push', '--out', layout.dir, '--registry', `${reg.host}/team`, '--json']);
    expect(again.code, again.stderr).toBe(0);
    await verifyAll(reg.host, 'team');
    expect(reg.blobDigests()).toEqual([...layout.blobs.keys()].sort());
  });

  it('after the pusher is killed mid-push, the rerun uploads only the missing blobs', async () => {
    registry = await startRegistry(path.join(work, 'r-kill'));
    proxy = await startProxy({ upstream: registry.host, bytesPerSecond: 6 * MiB });
    const killed = await plannerLive(['push', '--out', layout.dir, '--registry', `${proxy.host}/team`, '--chunk-size', String(2 * MiB)], (line, child) => {
      if (line.startsWith('uploaded ')) child.kill('SIGKILL');
    });
    expect(killed.code).toBe(128);
    // Let the registry finish requests that were in flight when the client died.
    await new Promise((r) => setTimeout(r, 500));
    const stored = new Set(registry.blobDigests());
    const missing = [...uploadable].filter(([digest]) => !stored.has(digest));
    expect(stored.size).toBeGreaterThan(0);
    expect(missing.length).toBeGreaterThan(0);
    const again = await plannerAsync(['push', '--out', layout.dir, '--registry', `${registry.host}/team`, '--json']);
    expect(again.code, again.stderr).toBe(0);
    const totals = json(again).totals;
    expect(totals.bytesUploaded).toBe(missing.reduce((s, [, size]) => s + size, 0));
    expect(totals.blobsUploaded).toBe(missing.length);
    await verifyAll(registry.host, 'team');
    expect(registry.blobDigests()).toEqual([...layout.blobs.keys()].sort());
  });
});
