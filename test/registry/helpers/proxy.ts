/**
 * A reverse proxy in front of a test registry: counts the request body bytes that reach
 * the registry (what a client really uploaded), can slow transfers down, and injects
 * faults on a fixed schedule: 500s (with Retry-After) and connection resets part way
 * through a request body. Loopback only; it stops with the test.
 */
import http from 'node:http';
import type net from 'node:net';

export interface ProxyOptions {
  /** Upstream `127.0.0.1:port`. */
  upstream: string;
  /** Answer every Nth request with a 500 (never the /v2/ ping), while faults remain. */
  fail500Every?: number;
  /** Only requests with these methods count for fail500Every (default: all). */
  failMethods?: string[];
  /** Reset the connection of every Nth upload request (PATCH/PUT with a body) half way through its body. */
  resetEvery?: number;
  /** Stop injecting after this many faults. */
  maxFaults?: number;
  /** Bytes per second passed upstream per request; unlimited when absent. */
  bytesPerSecond?: number;
}

export interface TestProxy {
  host: string;
  /** Request body bytes forwarded upstream in full (PATCH/PUT/POST bodies). */
  bodyBytes: () => number;
  faults: () => { http500: number; resets: number };
  /** Requests the upstream registry could not be reached for (it was down). */
  upstreamErrors: () => number;
  requests: () => { method: string; url: string }[];
  close: () => Promise<void>;
}

export async function startProxy(options: ProxyOptions): Promise<TestProxy> {
  const [upHost, upPort] = options.upstream.split(':') as [string, string];
  let failCounter = 0;
  let uploadCounter = 0;
  let http500 = 0;
  let resets = 0;
  let bodyBytes = 0;
  let upstreamErrors = 0;
  const log: { method: string; url: string }[] = [];
  const faultsLeft = (): boolean => http500 + resets < (options.maxFaults ?? Infinity);
  const sockets = new Set<net.Socket>();
  const server = http.createServer((req, res) => {
    log.push({ method: req.method ?? '', url: req.url ?? '' });
    const isPing = req.url === '/v2/' || req.url === '/v2';
    const eligible = !isPing && (!options.failMethods || options.failMethods.includes(req.method ?? ''));
    if (eligible) failCounter++;
    if (eligible && options.fail500Every && failCounter % options.fail500Every === 0 && faultsLeft()) {
      http500++;
      req.resume();
      res.writeHead(500, { 'content-type': 'application/json', 'retry-after': '0' });
      res.end(JSON.stringify({ errors: [{ code: 'UNKNOWN', message: 'injected by the test proxy' }] }));
      return;
    }
    const length = Number(req.headers['content-length'] ?? 0);
    const isUpload = (req.method === 'PATCH' || req.method === 'PUT') && length > 0;
    let resetAt = Infinity;
    if (isUpload) {
      uploadCounter++;
      if (options.resetEvery && uploadCounter % options.resetEvery === 0 && faultsLeft()) {
        resets++;
        resetAt = Math.floor(length / 2);
      }
    }
    const upstream = http.request({ host: upHost, port: Number(upPort), method: req.method, path: req.url, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on('error', () => {
      upstreamErrors++;
      res.destroy();
    });
    let sent = 0;
    const started = Date.now();
    req.on('data', (chunk: Buffer) => {
      let piece = chunk;
      if (sent + piece.length > resetAt) {
        piece = piece.subarray(0, resetAt - sent);
        upstream.write(piece);
        sent += piece.length;
        // Let the partial body reach the registry, then cut both sides.
        setTimeout(() => {
          upstream.destroy();
          req.socket.destroy();
        }, 50);
        req.pause();
        return;
      }
      sent += piece.length;
      const ok = upstream.write(piece);
      if (options.bytesPerSecond) {
        const due = (sent / options.bytesPerSecond) * 1000 - (Date.now() - started);
        if (due > 0) {
          req.pause();
          setTimeout(() => req.resume(), due);
          return;
        }
      }
      if (!ok) {
        req.pause();
        upstream.once('drain', () => req.resume());
      }
    });
    req.on('end', () => {
      bodyBytes += sent;
      upstream.end();
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    host: `127.0.0.1:${port}`,
    bodyBytes: () => bodyBytes,
    faults: () => ({ http500, resets }),
    upstreamErrors: () => upstreamErrors,
    requests: () => log,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
