import { existsSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { isPlannerError, PlannerError } from '@planner/errors';
import { parseClosure } from './parse.js';
import { isStorePath } from './storepath.js';
import type { Closure } from './types.js';

/** Flags that turn on the experimental CLI for our own calls only (never in the user's nix.conf). */
export const NIX_FEATURES = ['--extra-experimental-features', 'nix-command flakes'];

export interface NixOptions {
  /** The `nix` binary (default: `nix` on PATH, or $PLANNER_NIX). */
  nix?: string;
  storeDir: string;
  /** Directory nix runs in. */
  cwd: string;
}

/** A root as written in a manifest, with the directory relative references resolve from. */
export interface Installable {
  spec: string;
  baseDir: string;
  /** Where it came from, for error messages. */
  file: string;
  /** Directory where the search for flake.nix stops (the workspace root). */
  stopDir?: string;
}

export interface NixRun {
  stdout: string;
  stderr: string;
}

/** Runs nix with our feature flags; a failure becomes E_NIX carrying nix's own stderr. */
export async function runNix(args: string[], options: NixOptions): Promise<NixRun> {
  const bin = options.nix ?? process.env.PLANNER_NIX ?? 'nix';
  const run = await execa(bin, [...NIX_FEATURES, ...args], { cwd: options.cwd, stdin: 'ignore', stripFinalNewline: false, reject: false });
  if (run.exitCode === undefined && run.signal === undefined) {
    // It never ran: not installed (ENOENT), or not runnable.
    throw new PlannerError('E_NIX_MISSING', `cannot run ${bin}: ${run.code === 'ENOENT' ? 'not found on PATH' : (run.code ?? run.shortMessage)}`, {
      hint: 'install Nix (Debian: `apt-get install nix-bin`), or give every manifest a "closure" file so Nix is not needed',
      cause: run,
    });
  }
  if (run.exitCode === 0) return { stdout: run.stdout, stderr: run.stderr };
  const tail = run.stderr.trim().split('\n').slice(-30).join('\n');
  throw new PlannerError('E_NIX', `nix ${args[0] ?? ''} failed (${run.signal ?? `exit ${run.exitCode}`}):\n${tail}`, {
    hint: "the lines above are nix's own error; fix the derivation or installable it names",
    details: { args, exitCode: run.exitCode ?? null, stderr: tail },
  });
}

function nixString(value: string): string {
  return `"${value.replace(/[\\"$]/g, (c) => `\\${c}`)}"`;
}

function attrPath(attr: string): string {
  return attr
    .split('.')
    .map((part) => nixString(part))
    .join('.');
}

function findFlakeDir(start: string, stop: string | undefined): string | undefined {
  let dir = start;
  for (;;) {
    if (existsSync(path.join(dir, 'flake.nix'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir || (stop !== undefined && dir === stop)) return undefined;
    dir = parent;
  }
}

/** Turns one installable into a Nix expression evaluating to the derivation. */
export function installableExpression(item: Installable, storeDir: string): string {
  const { spec } = item;
  if (isStorePath(spec, storeDir)) return `builtins.storePath ${nixString(spec)}`;
  const hash = spec.indexOf('#');
  if (hash < 0) {
    throw new PlannerError('E_MANIFEST_INVALID', `${item.file}: content ${JSON.stringify(spec)} is neither a store path under ${storeDir} nor an installable (ref#attr)`, {
      file: item.file,
      hint: 'write a store path, a flake installable like .#quotes, or a Nix file installable like ./default.nix#quotes',
    });
  }
  const ref = spec.slice(0, hash);
  const attr = spec.slice(hash + 1);
  const local = ref === '' || ref.startsWith('.') || ref.startsWith('/');
  if (local && ref.endsWith('.nix')) {
    const file = path.resolve(item.baseDir, ref);
    if (!existsSync(file)) {
      throw new PlannerError('E_MANIFEST_INVALID', `${item.file}: ${JSON.stringify(spec)} names ${file}, which does not exist`, {
        file: item.file,
        hint: 'paths in installables are relative to the manifest',
      });
    }
    const value = `(let f = import ${nixString(file)}; in if builtins.isFunction f then f {} else f)`;
    return attr === '' ? value : `${value}.${attrPath(attr)}`;
  }
  let flakeRef = ref;
  if (local) {
    const dir = findFlakeDir(path.resolve(item.baseDir, ref || '.'), item.stopDir);
    if (!dir) {
      throw new PlannerError('E_MANIFEST_INVALID', `${item.file}: ${JSON.stringify(spec)}: no flake.nix in ${path.resolve(item.baseDir, ref || '.')} or above`, {
        file: item.file,
        hint: 'point the installable at a directory with flake.nix, or use a Nix file installable (./default.nix#attr)',
      });
    }
    flakeRef = dir;
  }
  const flake = `(builtins.getFlake ${nixString(flakeRef)})`;
  const a = attr === '' ? 'default' : attrPath(attr);
  return `(let f = ${flake}; s = builtins.currentSystem; in f.packages.\${s}.${a} or f.legacyPackages.\${s}.${a} or f.${a})`;
}

/**
 * Realises every installable with ONE `nix eval` (to learn the derivations) and ONE `nix build` call and returns the output paths of each,
 * in input order.
 */
export async function realise(installables: readonly Installable[], options: NixOptions): Promise<string[][]> {
  const results: string[][] = installables.map(() => []);
  const toBuild: { index: number; expr: string }[] = [];
  for (const [index, item] of installables.entries()) {
    if (isStorePath(item.spec, options.storeDir)) results[index] = [item.spec];
    else toBuild.push({ index, expr: installableExpression(item, options.storeDir) });
  }
  if (toBuild.length === 0) return results;
  // `nix build --json` does not report results in installable order, so learn each
  // installable's derivation first (one eval) and match the build results by drvPath.
  const attrs = toBuild.map((b, i) => `i${i} = ${b.expr};`).join('\n');
  const expr = `{\n${attrs}\n}`;
  const evalDrv = (e: string): Promise<NixRun> => runNix(['eval', '--impure', '--json', '--expr', e], options);
  let evaluated: NixRun;
  try {
    evaluated = await evalDrv(`builtins.mapAttrs (n: v: v.drvPath) ${expr}`);
  } catch (error) {
    // The error names our generated attribute set, not the manifest: find the first
    // installable that fails alone (only on this error path) and name its manifest.
    for (const b of toBuild) {
      const own = await evalDrv(`(${b.expr}).drvPath`).then(
        () => undefined,
        (e: unknown) => e,
      );
      if (own !== undefined) throw blame(own, installables[b.index]!);
    }
    throw error;
  }
  const drvs = nixJson(evaluated.stdout, 'nix eval') as Record<string, string>;
  let stdout: string;
  try {
    ({ stdout } = await runNix(['build', '--impure', '--no-link', '--json', '--expr', expr, ...toBuild.map((_, i) => `i${i}`)], options));
  } catch (error) {
    // A failed build names derivations: the manifests whose installables they are.
    const text = nixStderr(error);
    const culprits = toBuild.filter((_, i) => drvs[`i${i}`] !== undefined && text.includes(drvs[`i${i}`]!)).map((b) => installables[b.index]!);
    throw culprits.length > 0 ? blame(error, ...culprits) : error;
  }
  const built = nixJson(stdout, 'nix build --json') as { drvPath?: string; outputs?: Record<string, string> }[];
  const byDrv = new Map(built.map((b) => [b.drvPath, b.outputs ?? {}]));
  for (const [i, b] of toBuild.entries()) {
    const outputs = byDrv.get(drvs[`i${i}`]);
    if (!outputs) throw new Error(`nix build --json did not report ${drvs[`i${i}`]} (installable ${installables[b.index]!.spec})`);
    results[b.index] = Object.keys(outputs)
      .sort()
      .map((k) => outputs[k]!);
  }
  return results;
}

/** Nix's --json output, parsed; anything else is E_NIX (not a bug of ours). */
function nixJson(stdout: string, what: string): unknown {
  try {
    return JSON.parse(stdout);
  } catch (error) {
    throw new PlannerError('E_NIX', `${what} printed output that is not JSON: ${(error as Error).message}`, {
      hint: 'check that `nix` is a working Nix (2.8 or newer); PLANNER_NIX may point elsewhere',
      cause: error,
    });
  }
}

/** What a failed nix run printed (its E_NIX details), to find the paths it names; '' for other errors. */
export function nixStderr(error: unknown): string {
  return isPlannerError(error) ? String((error.details as { stderr?: string } | undefined)?.stderr ?? error.message) : '';
}

/**
 * A nix error of one installable, named by its manifest: "services/quotes/image.json:
 * ./default.nix#quotez: nix eval failed ...", with the manifest as the error's file.
 */
export function blame(error: unknown, ...items: Installable[]): unknown {
  if (!isPlannerError(error) || items.length === 0) return error;
  const where = [...new Set(items.map((item) => `${item.file}: ${item.spec}`))].join('; ');
  return new PlannerError(error.code, `${where}: ${error.message}`, {
    file: items[0]!.file,
    ...(error.hint ? { hint: error.hint } : {}),
    ...(error.details ? { details: error.details } : {}),
    exitCode: error.exitCode,
    cause: error,
  });
}

/** Queries the closure of all `paths` in ONE `nix path-info --json --recursive` call. */
export async function queryClosure(paths: readonly string[], options: NixOptions): Promise<Closure> {
  if (paths.length === 0) return new Map();
  const { stdout } = await runNix(['path-info', '--json', '--recursive', ...[...new Set(paths)].sort()], options);
  return parseClosure(nixJson(stdout, 'nix path-info'), { storeDir: options.storeDir, file: 'nix path-info --json --recursive' }).closure;
}
