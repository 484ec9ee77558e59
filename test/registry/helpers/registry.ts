/**
 * Debian's docker-registry (distribution 2.8) on 127.0.0.1, on a free port, with its own
 * config and storage in a temporary directory. Basic auth uses a bcrypt htpasswd made by
 * perl's crypt() (libxcrypt), token auth a JWT issuer from ./token-server.ts.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

export const REGISTRY_BIN = '/usr/bin/docker-registry';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

/** A bcrypt hash via the system crypt(3); docker-registry's htpasswd accepts only bcrypt. */
export function bcrypt(password: string): string {
  const salt = randomBytes(16)
    .toString('base64')
    .replace(/[^A-Za-z0-9]/g, '.')
    .slice(0, 22)
    .replace(/.$/, 'u');
  return execFileSync('perl', ['-e', 'print crypt($ARGV[0], $ARGV[1])', password, `$2b$05$${salt}`], { encoding: 'utf8' });
}

export type RegistryAuth = { kind: 'none' } | { kind: 'htpasswd'; users: Record<string, string> } | { kind: 'token'; realm: string; service: string; issuer: string; rootCertBundle: string };

export interface TestRegistry {
  host: string;
  port: number;
  dir: string;
  storage: string;
  start: () => Promise<void>;
  stop: () => Promise<void>;
  /** Digests of every blob in storage (layers, configs and manifests alike). */
  blobDigests: () => string[];
  log: () => string;
}

/** A self-signed certificate for 127.0.0.1 (made by openssl), for a TLS registry. */
export function selfSignedCert(dir: string): { cert: string; key: string } {
  const cert = path.join(dir, 'tls.crt');
  const key = path.join(dir, 'tls.key');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], {
    stdio: 'ignore',
  });
  return { cert, key };
}

function canConnect(port: number, address = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, address);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export async function startRegistry(dir: string, auth: RegistryAuth = { kind: 'none' }, tls?: { cert: string; key: string }, address = '127.0.0.1'): Promise<TestRegistry> {
  const port = await freePort();
  const storage = path.join(dir, 'storage');
  mkdirSync(storage, { recursive: true });
  let authYaml = '';
  if (auth.kind === 'htpasswd') {
    const file = path.join(dir, 'htpasswd');
    writeFileSync(
      file,
      Object.entries(auth.users)
        .map(([u, p]) => `${u}:${bcrypt(p)}`)
        .join('\n') + '\n',
    );
    authYaml = `auth:\n  htpasswd:\n    realm: planner-test\n    path: ${file}\n`;
  } else if (auth.kind === 'token') {
    authYaml = `auth:\n  token:\n    realm: ${auth.realm}\n    service: ${auth.service}\n    issuer: ${auth.issuer}\n    rootcertbundle: ${auth.rootCertBundle}\n`;
  }
  const config = path.join(dir, 'config.yml');
  writeFileSync(
    config,
    `version: 0.1
log:
  level: info
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: ${storage}
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: ${address}:${port}
  secret: planner-test-secret
${tls ? `  tls:\n    certificate: ${tls.cert}\n    key: ${tls.key}\n` : ''}${authYaml}`,
  );
  let child: ChildProcess | undefined;
  // Logs go to a file, not a pipe: tests block in spawnSync while the registry works, and a
  // full pipe would stall it.
  const logFile = path.join(dir, 'registry.log');
  const output = (): string => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');
  const start = async (): Promise<void> => {
    const fd = openSync(logFile, 'a');
    const c = spawn(REGISTRY_BIN, ['serve', config], { stdio: ['ignore', fd, fd] });
    closeSync(fd);
    child = c;
    for (let i = 0; i < 200; i++) {
      if (c.exitCode !== null) throw new Error(`docker-registry exited: ${output()}`);
      if (await canConnect(port, address)) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`docker-registry did not start on ${port}: ${output()}`);
  };
  const stop = async (): Promise<void> => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      c.once('exit', () => resolve());
      c.kill('SIGTERM');
    });
  };
  const blobDigests = (): string[] => {
    const root = path.join(storage, 'docker/registry/v2/blobs/sha256');
    if (!existsSync(root)) return [];
    const out: string[] = [];
    for (const prefix of readdirSync(root)) {
      for (const hex of readdirSync(path.join(root, prefix))) {
        if (existsSync(path.join(root, prefix, hex, 'data'))) out.push(`sha256:${hex}`);
      }
    }
    return out.sort();
  };
  await start();
  return { host: `${address}:${port}`, port, dir, storage, start, stop, blobDigests, log: output };
}
