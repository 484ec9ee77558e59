import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { PlannerError } from '@planner/errors';
import type { Credentials } from './types.js';

/** Environment variables read for credentials (documented in docs/push.md). */
export const ENV_USER = 'PLANNER_REGISTRY_USER';
export const ENV_PASSWORD = 'PLANNER_REGISTRY_PASSWORD';

/** One parsed auth file (containers auth.json or Docker config.json). */
export interface AuthFile {
  path: string;
  /** `auths` entries keyed by the file's own key (`ghcr.io`, `https://index.docker.io/v1/`, `quay.io/org`). */
  auths: Record<string, { auth?: string; username?: string; password?: string }>;
}

export interface CredentialSources {
  /** `--creds user:password`. */
  creds?: string;
  env: Readonly<Record<string, string | undefined>>;
  /** In lookup order. */
  authFiles: readonly AuthFile[];
}

/** Parses `user:password` (the password may contain colons); never echoes the value. */
export function parseCredsFlag(value: string): { username: string; password: string } {
  const colon = value.indexOf(':');
  if (colon <= 0) {
    throw new PlannerError('E_USAGE', '--creds must be USER:PASSWORD', {
      hint: `or set ${ENV_USER} and ${ENV_PASSWORD}, or log in with \`skopeo login\`/\`docker login\``,
    });
  }
  return { username: value.slice(0, colon), password: value.slice(colon + 1) };
}

/** The key of an auth file entry, normalised: no scheme, no `/v1/`-style suffix, Docker Hub aliases folded. */
export function normaliseAuthKey(key: string): string {
  let k = key
    .trim()
    .replace(/^[a-z]+:\/\//, '')
    .replace(/\/+$/, '');
  k = k.replace(/\/v[12]$/, '');
  const slash = k.indexOf('/');
  const host = slash === -1 ? k : k.slice(0, slash);
  const rest = slash === -1 ? '' : k.slice(slash);
  const folded = host === 'index.docker.io' || host === 'registry-1.docker.io' ? 'docker.io' : host;
  return folded + rest;
}

function decodeEntry(entry: { auth?: string; username?: string; password?: string }): { username: string; password: string } | undefined {
  if (entry.username && entry.password) return { username: entry.username, password: entry.password };
  if (!entry.auth) return undefined;
  const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return undefined;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/**
 * Credentials for `registry/repository`, first match wins: `--creds`, the environment,
 * then each auth file, where the most specific key matches (`quay.io/org/repo` before
 * `quay.io/org` before `quay.io`), as containers-auth.json(5) says.
 */
export function findCredentials(sources: CredentialSources, registry: string, repository: string): Credentials | undefined {
  if (sources.creds !== undefined) return { ...parseCredsFlag(sources.creds), source: '--creds' };
  const user = sources.env[ENV_USER];
  const password = sources.env[ENV_PASSWORD];
  if (user && password !== undefined) return { username: user, password, source: `$${ENV_USER}` };
  const wanted = normaliseAuthKey(`${registry}/${repository}`);
  for (const file of sources.authFiles) {
    let best: { length: number; value: { username: string; password: string } } | undefined;
    for (const [key, entry] of Object.entries(file.auths)) {
      const k = normaliseAuthKey(key);
      if (wanted !== k && !wanted.startsWith(`${k}/`)) continue;
      const value = decodeEntry(entry);
      if (value && (!best || k.length > best.length)) best = { length: k.length, value };
    }
    if (best) return { ...best.value, source: file.path };
  }
  return undefined;
}

/** Auth file paths in lookup order, from the environment. */
export function authFilePaths(env: Readonly<Record<string, string | undefined>>, home = homedir()): string[] {
  const paths: string[] = [];
  if (env.REGISTRY_AUTH_FILE) {
    paths.push(env.REGISTRY_AUTH_FILE);
  } else if (env.XDG_RUNTIME_DIR) {
    paths.push(join(env.XDG_RUNTIME_DIR, 'containers', 'auth.json'));
  }
  paths.push(join(env.DOCKER_CONFIG ?? join(home, '.docker'), 'config.json'));
  return paths;
}

/** Reads the auth files that exist; a file that is there but unreadable is an error, naming the file. */
export async function readAuthFiles(paths: readonly string[]): Promise<AuthFile[]> {
  const files: AuthFile[] = [];
  for (const path of paths) {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw new PlannerError('E_CREDENTIALS', `cannot read auth file ${path}`, { file: path, cause: error });
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      // The parse error message could quote file content, which holds secrets: say only where.
      throw new PlannerError('E_CREDENTIALS', `auth file ${path} is not valid JSON`, {
        file: path,
        hint: 'fix or remove the file, or log in again with `skopeo login`',
      });
    }
    const auths = (parsed as { auths?: unknown } | null)?.auths;
    if (auths === undefined) continue;
    if (typeof auths !== 'object' || auths === null || Array.isArray(auths)) {
      throw new PlannerError('E_CREDENTIALS', `auth file ${path}: "auths" must be an object`, { file: path });
    }
    const entries: AuthFile['auths'] = {};
    for (const [key, value] of Object.entries(auths as Record<string, unknown>)) {
      if (typeof value !== 'object' || value === null) continue;
      const v = value as Record<string, unknown>;
      entries[key] = {
        ...(typeof v.auth === 'string' ? { auth: v.auth } : {}),
        ...(typeof v.username === 'string' ? { username: v.username } : {}),
        ...(typeof v.password === 'string' ? { password: v.password } : {}),
      };
    }
    files.push({ path, auths: entries });
  }
  return files;
}

/** Everything credential lookup needs from the process: flag, environment, auth files. */
export async function loadCredentialSources(options: { creds?: string; env?: Readonly<Record<string, string | undefined>>; home?: string }): Promise<CredentialSources> {
  const env = options.env ?? process.env;
  if (options.creds !== undefined) parseCredsFlag(options.creds);
  return {
    ...(options.creds !== undefined ? { creds: options.creds } : {}),
    env,
    authFiles: await readAuthFiles(authFilePaths(env, options.home)),
  };
}
