import { PlannerError } from '@planner/errors';
import type { ImageTarget } from './types.js';

// Grammar of distribution's reference package, written out from the spec's description.
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/;
const HOST = /^(?:\[[0-9a-fA-F:.]+\]|[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*)(?::[0-9]+)?$/;
const TAG = /^[\w][\w.-]{0,127}$/;

/** A registry location: host (with port) and an optional repository prefix. */
export interface RegistryLocation {
  host: string;
  /** Path prefix under which images go, `acme` in `ghcr.io/acme`; may be empty. */
  prefix: string;
  /** The user wrote `http://`: plain HTTP requested (still needs --insecure or loopback). */
  plainHttp: boolean;
}

function looksLikeHost(component: string): boolean {
  return component.includes('.') || component.includes(':') || component === 'localhost' || component.startsWith('[');
}

/**
 * Parses `ghcr.io/acme`, `127.0.0.1:5000`, `localhost:5000/team`, `http://10.0.0.2:5000`.
 * A first component without a dot or port is not a host (as in `docker push`): `acme` means
 * `docker.io/acme`.
 */
export function parseRegistry(value: string, origin: string): RegistryLocation {
  let rest = value.trim();
  let plainHttp = false;
  if (rest.startsWith('http://')) {
    plainHttp = true;
    rest = rest.slice('http://'.length);
  } else if (rest.startsWith('https://')) {
    rest = rest.slice('https://'.length);
  }
  rest = rest.replace(/\/+$/, '');
  const parts = rest.split('/');
  const first = parts[0] ?? '';
  let host: string;
  let pathParts: string[];
  if (parts.length > 0 && looksLikeHost(first)) {
    host = first;
    pathParts = parts.slice(1);
  } else {
    host = 'docker.io';
    pathParts = parts.filter((p) => p !== '');
  }
  // A flag's value is a usage error; a config's or manifest's names its file in `origin`.
  const code = origin.startsWith('--') ? 'E_USAGE' : origin.includes('repository') ? 'E_MANIFEST_INVALID' : 'E_CONFIG_INVALID';
  if (!HOST.test(host)) {
    throw new PlannerError(code, `${origin}: "${value}" is not a valid registry host`, {
      hint: 'write the registry as host[:port][/prefix], e.g. "ghcr.io/acme" or "127.0.0.1:5000"',
      details: { registry: value },
    });
  }
  for (const part of pathParts) {
    if (!PATH_COMPONENT.test(part)) {
      const where = part === value ? `"${value}"` : `"${part}" in "${value}"`;
      throw new PlannerError(code, `${origin}: ${where} is not a valid registry (host[:port][/path]) or repository path component`, {
        hint: 'repository components are lower-case letters and digits, separated by ".", "_", "__" or "-"',
        details: { registry: value },
      });
    }
  }
  return { host, prefix: pathParts.join('/'), plainHttp };
}

/** Parses a full repository, `registry.fly.io/quotes`; the path part is required. */
export function parseRepository(value: string, origin: string): RegistryLocation {
  const location = parseRegistry(value, origin);
  if (location.prefix === '') {
    throw new PlannerError('E_MANIFEST_INVALID', `${origin}: repository "${value}" has no repository path`, {
      hint: 'write the repository as host/path, e.g. "registry.fly.io/quotes"',
      details: { repository: value },
    });
  }
  return location;
}

export function isValidTag(tag: string): boolean {
  return TAG.test(tag);
}

/** One image to place: its layout ref and, if its manifest says so, its own repository. */
export interface TargetRequest {
  /** `name:tag`. */
  ref: string;
  name: string;
  tag: string;
  /** The manifest's `repository` (full, with host), if any. */
  repository?: string;
  /** Where `repository` was written, for messages (the manifest path). */
  repositoryOrigin?: string;
}

export interface TargetOptions {
  /** `--registry`: wins over everything, so one flag redirects a whole push (to a test registry, say). */
  cliRegistry?: string;
  /** planner.config.json `registry`. */
  configRegistry?: string;
  /** Path of planner.config.json, for messages. */
  configOrigin?: string;
}

/**
 * Decides where each image goes. Precedence: `--registry` > manifest `repository` >
 * config `registry`. With `--registry`, an image with its own repository keeps the
 * repository's path, under the given registry.
 */
export function resolveTargets(images: readonly TargetRequest[], options: TargetOptions): ImageTarget[] {
  const cli = options.cliRegistry === undefined ? undefined : parseRegistry(options.cliRegistry, '--registry');
  const configOrigin = options.configOrigin ?? 'planner.config.json';
  const config = options.configRegistry === undefined ? undefined : parseRegistry(options.configRegistry, `${configOrigin} registry`);
  const targets: ImageTarget[] = [];
  for (const image of images) {
    if (!isValidTag(image.tag)) {
      throw new PlannerError('E_MANIFEST_INVALID', `image ${image.ref}: "${image.tag}" is not a valid tag`, {
        hint: 'tags are up to 128 letters, digits, "_", "." and "-", not starting with "." or "-"',
      });
    }
    const nameParts = image.name.split('/');
    if (!nameParts.every((p) => PATH_COMPONENT.test(p))) {
      throw new PlannerError('E_MANIFEST_INVALID', `image ${image.ref}: "${image.name}" is not a valid repository name`, {
        hint: 'image names are lower-case letters and digits, separated by ".", "_", "__", "-" or "/"',
      });
    }
    const own = image.repository === undefined ? undefined : parseRepository(image.repository, image.repositoryOrigin ?? `image ${image.ref} repository`);
    let host: string;
    let repository: string;
    let origin: string;
    let plainHttp = false;
    if (cli) {
      plainHttp = cli.plainHttp;
      host = cli.host;
      repository = join(cli.prefix, own ? own.prefix : image.name);
      origin = '--registry';
    } else if (own) {
      host = own.host;
      repository = own.prefix;
      plainHttp = own.plainHttp;
      origin = image.repositoryOrigin ?? `image ${image.ref} repository`;
    } else if (config) {
      host = config.host;
      repository = join(config.prefix, image.name);
      plainHttp = config.plainHttp;
      origin = `${configOrigin} registry`;
    } else {
      throw new PlannerError('E_USAGE', `no registry for image ${image.ref}`, {
        hint: 'set "registry" in planner.config.json, "repository" in the image manifest, or pass --registry',
      });
    }
    if (host === 'docker.io' && !repository.includes('/')) repository = `library/${repository}`;
    targets.push({
      ref: image.ref,
      registry: host,
      repository,
      tag: image.tag,
      reference: `${host}/${repository}:${image.tag}`,
      plainHttp,
      origin,
    });
  }
  return targets.sort((a, b) => (a.reference < b.reference ? -1 : a.reference > b.reference ? 1 : 0));
}

function join(prefix: string, name: string): string {
  return prefix === '' ? name : `${prefix}/${name}`;
}

/** Registries whose requests go over plain HTTP without asking: loopback only. */
export function isLoopbackHost(host: string): boolean {
  const bare = hostname(host);
  if (bare === 'localhost' || bare === '::1' || bare === '[::1]') return true;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(bare);
}

/** `127.0.0.1:5000` -> `127.0.0.1`, `[::1]:5000` -> `[::1]`. */
export function hostname(host: string): string {
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    return host.slice(0, end + 1);
  }
  const colon = host.lastIndexOf(':');
  return colon === -1 ? host : host.slice(0, colon);
}

/** The API host for a registry name: Docker Hub's name differs from its endpoint. */
export function apiHost(registry: string): string {
  return registry === 'docker.io' || registry === 'index.docker.io' ? 'registry-1.docker.io' : registry;
}
