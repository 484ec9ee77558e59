import { existsSync } from 'node:fs';
import path from 'node:path';
import fg from 'fast-glob';
import { PlannerError } from '@planner/errors';
import { CONFIG_FILE, findConfigFile, readConfig } from './config.js';
import { readJsonFile } from './json.js';
import { validateAgainstSchema } from './schema.js';
import type { Service, ServiceManifest, Workspace } from './types.js';

/** Directories never searched for manifests. */
export const ALWAYS_IGNORED = ['**/node_modules/**', '**/.git/**', '**/.planner/**', '**/result', '**/result-*', '**/result/**', '**/result-*/**'];

/**
 * How the `services` globs match manifests (fast-glob options), the same in the working
 * tree and in a base revision read from git: files only, no symlinks followed, no dotfiles.
 */
export const MANIFEST_GLOB = { ignore: ALWAYS_IGNORED, onlyFiles: true, followSymbolicLinks: false, dot: false } as const;

export interface LoadWorkspaceOptions {
  /** Directory to start the search for planner.config.json from (default: process.cwd()). */
  cwd?: string;
  /** Explicit config file; skips the search. */
  configFile?: string;
}

export async function loadWorkspace(options: LoadWorkspaceOptions = {}): Promise<Workspace> {
  const cwd = path.resolve(options.cwd ?? process.cwd());
  const configFile = options.configFile ? path.resolve(cwd, options.configFile) : findConfigFile(cwd);
  if (!configFile && !existsSync(cwd)) {
    throw new PlannerError('E_CONFIG_NOT_FOUND', `no such directory: ${cwd}`, { hint: 'run planner inside the workspace, or pass -C DIR naming an existing directory' });
  }
  if (!configFile) {
    throw new PlannerError('E_CONFIG_NOT_FOUND', `no ${CONFIG_FILE} in ${cwd} or any parent directory`, {
      hint: `create ${CONFIG_FILE} at the workspace root (it may be just {}), or pass -C DIR / --config FILE`,
    });
  }
  const config = await readConfig(configFile);
  const root = path.dirname(configFile);
  const manifests = await fg(config.services, { ...MANIFEST_GLOB, ignore: [...MANIFEST_GLOB.ignore], cwd: root, absolute: true });
  manifests.sort();
  // Planning nothing would write an empty lock over a real one: a glob that matches nothing
  // is far likelier a mistake than a repository without images.
  if (manifests.length === 0) {
    throw new PlannerError('E_NO_SERVICES', `no image manifest matches ${config.services.map((g) => JSON.stringify(g)).join(', ')} under ${root}`, {
      file: configFile,
      hint: `"services" in ${CONFIG_FILE} are globs relative to it (default ["**/image.json"]); give each service an image.json`,
      details: { services: config.services },
    });
  }
  const services = await Promise.all(manifests.map((file) => readService(file, config.maxLayers)));
  const byRef = new Map<string, Service>();
  for (const service of services) {
    const other = byRef.get(service.ref);
    if (other) {
      throw new PlannerError('E_DUPLICATE_IMAGE', `two services are both ${service.ref}: ${other.manifestPath} and ${service.manifestPath}`, {
        file: service.manifestPath,
        hint: 'give each image a unique name:tag',
      });
    }
    byRef.set(service.ref, service);
  }
  services.sort((a, b) => (a.ref < b.ref ? -1 : a.ref > b.ref ? 1 : 0));
  return { root, configFile, config, services };
}

export async function readService(manifestPath: string, defaultMaxLayers: number): Promise<Service> {
  const raw = await readJsonFile(manifestPath, { missing: 'E_MANIFEST_PARSE', parse: 'E_MANIFEST_PARSE' }, 'manifest');
  return serviceFromManifest(raw, manifestPath, defaultMaxLayers);
}

/** Validates a parsed manifest and resolves its relative paths. */
export function serviceFromManifest(raw: unknown, manifestPath: string, defaultMaxLayers: number): Service {
  validateAgainstSchema('manifest', raw, manifestPath);
  const manifest = raw as ServiceManifest;
  const dir = path.dirname(manifestPath);
  return {
    ref: `${manifest.name}:${manifest.tag}`,
    name: manifest.name,
    tag: manifest.tag,
    manifestPath,
    dir,
    manifest,
    maxLayers: manifest.maxLayers ?? defaultMaxLayers,
    ...(manifest.closure !== undefined ? { closureFile: path.resolve(dir, manifest.closure) } : {}),
    ...(manifest.fromImage !== undefined ? { fromImage: path.resolve(dir, manifest.fromImage) } : {}),
  };
}
