/** Independent checks of what landed in a registry, with skopeo (run without blocking: token servers live in the test process). */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const sha = (data: Buffer): string => `sha256:${createHash('sha256').update(data).digest('hex')}`;

function creds(flag: string, value: string | undefined): string[] {
  return value ? [flag, value] : [];
}

/** Digest of the manifest bytes the registry serves for `reference`. */
export async function remoteDigest(reference: string, auth?: string): Promise<string> {
  const { stdout } = await run('skopeo', ['inspect', '--raw', '--tls-verify=false', ...creds('--creds', auth), `docker://${reference}`], { encoding: 'buffer', maxBuffer: 64 << 20 });
  return sha(stdout);
}

/** skopeo inspect (the config-level view), parsed. */
export async function inspect(reference: string, auth?: string): Promise<{ Digest: string; Layers: string[] }> {
  const { stdout } = await run('skopeo', ['inspect', '--tls-verify=false', ...creds('--creds', auth), `docker://${reference}`], { encoding: 'utf8' });
  return JSON.parse(stdout) as { Digest: string; Layers: string[] };
}

/**
 * Copies `reference` back into a fresh OCI layout with skopeo and returns the manifest digest
 * there; skopeo verifies every blob's digest while copying.
 */
export async function copyBack(reference: string, dir: string, auth?: string): Promise<string> {
  mkdirSync(dir, { recursive: true });
  await run('skopeo', ['copy', '--quiet', '--src-tls-verify=false', ...creds('--src-creds', auth), `docker://${reference}`, `oci:${dir}:copy`]);
  const index = JSON.parse(readFileSync(path.join(dir, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
  return index.manifests[0]!.digest;
}

/** A workspace with a config and one manifest per image (push reads no closures). */
export function writeWorkspace(dir: string, options: { config: Record<string, unknown>; images: { name: string; tag: string; repository?: string }[] }): void {
  writeFileSync(path.join(dir, 'planner.config.json'), JSON.stringify({ services: ['services/*/image.json'], ...options.config }, null, 2));
  for (const image of options.images) {
    const d = path.join(dir, 'services', image.name);
    mkdirSync(d, { recursive: true });
    writeFileSync(
      path.join(d, 'image.json'),
      JSON.stringify({ name: image.name, tag: image.tag, contents: [`/nix/store/${'a'.repeat(32)}-${image.name}`], ...(image.repository ? { repository: image.repository } : {}) }, null, 2),
    );
  }
}
