import { existsSync } from 'node:fs';
import path from 'node:path';
import { PlannerError } from '@planner/errors';
import { readJsonFile } from './json.js';
import { validateAgainstSchema } from './schema.js';
import type { CheckThresholds, PlannerConfig } from './types.js';

export const CONFIG_FILE = 'planner.config.json';
export const DEFAULT_SERVICES = ['**/image.json'];
export const DEFAULT_MAX_LAYERS = 100;
export const DEFAULT_STORE_DIR = '/nix/store';

/** Walks up from `start` to the first directory holding planner.config.json. */
export function findConfigFile(start: string): string | undefined {
  let dir = path.resolve(start);
  for (;;) {
    const candidate = path.join(dir, CONFIG_FILE);
    if (existsSync(candidate)) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

interface RawConfig {
  services?: string[];
  maxLayers?: number;
  churnWeight?: number;
  storeDir?: string;
  registry?: string;
  insecureRegistries?: string[];
  out?: string;
  cacheDir?: string;
  check?: CheckThresholds;
}

export async function readConfig(configFile: string): Promise<PlannerConfig> {
  const raw = await readJsonFile(configFile, { missing: 'E_CONFIG_NOT_FOUND', parse: 'E_CONFIG_PARSE' }, 'config');
  validateAgainstSchema('config', raw, configFile);
  const value = raw as RawConfig;
  const root = path.dirname(configFile);
  const storeDir = (value.storeDir ?? DEFAULT_STORE_DIR).replace(/\/+$/, '');
  if (storeDir === '' || storeDir.split('/').includes('..')) {
    throw new PlannerError('E_CONFIG_INVALID', `${configFile}: storeDir "${value.storeDir}" is not a clean absolute path`, {
      file: configFile,
      hint: 'use an absolute path such as /nix/store',
    });
  }
  return {
    services: value.services ?? DEFAULT_SERVICES,
    maxLayers: value.maxLayers ?? DEFAULT_MAX_LAYERS,
    ...(value.churnWeight !== undefined ? { churnWeight: value.churnWeight } : {}),
    storeDir,
    ...(value.registry !== undefined ? { registry: value.registry } : {}),
    ...(value.insecureRegistries !== undefined ? { insecureRegistries: value.insecureRegistries } : {}),
    out: path.resolve(root, value.out ?? '.planner/oci'),
    cacheDir: path.resolve(root, value.cacheDir ?? '.planner/cache'),
    check: value.check ?? {},
  };
}
