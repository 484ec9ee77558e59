import { PlannerError } from '@planner/errors';

/** Nix's base-32 alphabet (no e, o, u, t). */
const HASH = /^[0123456789abcdfghijklmnpqrsvwxyz]{32}$/;
/** Characters Nix allows in a store path name. */
const NAME = /^[A-Za-z0-9+\-._?=]+$/;

/**
 * Checks that `path` is a direct child of `storeDir` with a valid `<hash>-<name>` base name.
 * Throws E_STORE_PATH naming the file it came from.
 */
export function checkStorePath(path: string, storeDir: string, file: string): void {
  const fail = (why: string): never => {
    throw new PlannerError('E_STORE_PATH', `${file}: ${JSON.stringify(path)} ${why}`, {
      file,
      hint: `store paths look like ${storeDir}/<32-char hash>-<name>; check the closure export or the config's storeDir`,
      details: { path },
    });
  };
  if (typeof path !== 'string') fail('is not a string');
  if (path.split('/').includes('..')) fail('contains ".."');
  if (!path.startsWith(`${storeDir}/`)) fail(`is outside the store directory ${storeDir}`);
  const base = path.slice(storeDir.length + 1);
  if (base.includes('/')) fail('is not a top-level store path');
  const why = validateBaseName(base);
  if (why) fail(why);
}

/** Returns why a store path base name is invalid, or undefined when it is valid. */
export function validateBaseName(base: string): string | undefined {
  if (base.length < 34 || base[32] !== '-') return 'is not of the form <32-char hash>-<name>';
  if (!HASH.test(base.slice(0, 32))) return 'has an invalid hash part (Nix base-32 has no e, o, u or t)';
  const name = base.slice(33);
  if (name.length > 211) return 'has a name longer than 211 characters';
  if (!NAME.test(name)) return `has an invalid name ${JSON.stringify(name)} (allowed: letters, digits, + - . _ ? =)`;
  if (name.startsWith('.')) return 'has a name starting with "."';
  return undefined;
}

export function isStorePath(value: string, storeDir: string): boolean {
  if (!value.startsWith(`${storeDir}/`)) return false;
  const base = value.slice(storeDir.length + 1);
  return !base.includes('/') && validateBaseName(base) === undefined;
}
