import { readFile } from 'node:fs/promises';
import { PlannerError } from '@planner/errors';
import { blame, nixStderr, queryClosure, realise, type Installable, type NixOptions } from './nix.js';
import { parseClosure, reachable } from './parse.js';
import { isStorePath } from './storepath.js';
import type { Closure } from './types.js';

/** What the loader needs to know about one image. */
export interface ClosureSource {
  ref: string;
  /** Manifest file, for messages. */
  file: string;
  /** Directory relative contents and closure files resolve from. */
  dir: string;
  contents: readonly string[];
  /** Absolute path of an exported closure file; when set, Nix is not used for this image. */
  closureFile?: string;
}

export interface LoadedImageClosure {
  ref: string;
  /** Root store paths, in manifest order, deduplicated. */
  roots: string[];
  closure: Closure;
}

export interface LoadClosuresOptions extends NixOptions {
  /** Where the search for flake.nix stops (the workspace root). */
  stopDir?: string;
}

async function readClosureFile(source: ClosureSource & { closureFile: string }, storeDir: string, checked: Set<string>): Promise<LoadedImageClosure> {
  let text: string;
  try {
    text = await readFile(source.closureFile, 'utf8');
  } catch (error) {
    throw new PlannerError('E_CLOSURE_MISSING', `${source.file}: closure file ${source.closureFile} ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : 'cannot be read'}`, {
      file: source.file,
      hint: 'fix the manifest\'s "closure" path (relative to the manifest), or drop it to let Nix compute the closure',
      cause: error,
    });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new PlannerError('E_CLOSURE_PARSE', `${source.closureFile}: malformed JSON: ${(error as Error).message}`, {
      file: source.closureFile,
      hint: 're-export it with `nix path-info --json --recursive <roots> > closure.json`',
      cause: error,
    });
  }
  const { closure } = parseClosure(value, { storeDir, file: source.closureFile, checked });
  const roots: string[] = [];
  for (const root of source.contents) {
    if (!isStorePath(root, storeDir)) {
      throw new PlannerError('E_MANIFEST_INVALID', `${source.file}: with a "closure" file, every entry of "contents" must be a store path; got ${JSON.stringify(root)}`, {
        file: source.file,
        hint: 'replace installables by their store paths, or drop "closure" and let planner run Nix',
      });
    }
    if (!closure.has(root)) {
      throw new PlannerError('E_ROOT_NOT_IN_CLOSURE', `${source.file}: root ${root} is not in its closure file ${source.closureFile}`, {
        file: source.closureFile,
        hint: "export the closure of exactly the manifest's contents",
        details: { path: root },
      });
    }
    if (!roots.includes(root)) roots.push(root);
  }
  return { ref: source.ref, roots, closure: reachable(closure, roots) };
}

/**
 * Loads every image's closure: from its closure file when it has one, otherwise from Nix
 * with one `nix build` and one `nix path-info --recursive` for all images together.
 */
export async function loadClosures(sources: readonly ClosureSource[], options: LoadClosuresOptions): Promise<LoadedImageClosure[]> {
  const fromFiles = sources.filter((s): s is ClosureSource & { closureFile: string } => s.closureFile !== undefined);
  const fromNix = sources.filter((s) => s.closureFile === undefined);
  const loaded = new Map<string, LoadedImageClosure>();
  const checked = new Set<string>();
  for (const result of await Promise.all(fromFiles.map((s) => readClosureFile(s, options.storeDir, checked)))) {
    loaded.set(result.ref, result);
  }
  if (fromNix.length > 0) {
    const installables: Installable[] = [];
    const owner: number[] = [];
    for (const [i, source] of fromNix.entries()) {
      for (const spec of source.contents) {
        installables.push({ spec, baseDir: source.dir, file: source.file, ...(options.stopDir ? { stopDir: options.stopDir } : {}) });
        owner.push(i);
      }
    }
    const outputs = await realise(installables, options);
    const rootsOf: string[][] = fromNix.map(() => []);
    for (const [k, paths] of outputs.entries()) {
      const roots = rootsOf[owner[k]!]!;
      for (const p of paths) if (!roots.includes(p)) roots.push(p);
    }
    const all = await queryClosure(rootsOf.flat(), options).catch((error: unknown) => {
      // A store path in "contents" that is not in the store: name the manifests giving it.
      const text = nixStderr(error);
      throw blame(error, ...installables.filter((_, k) => outputs[k]!.some((p) => text.includes(`'${p}'`))));
    });
    for (const [i, source] of fromNix.entries()) {
      const roots = rootsOf[i]!;
      for (const root of roots) {
        if (!all.has(root)) {
          throw new PlannerError('E_NIX', `${source.file}: nix path-info did not return ${root}`, { file: source.file });
        }
      }
      loaded.set(source.ref, { ref: source.ref, roots, closure: reachable(all, roots) });
    }
  }
  return sources.map((s) => loaded.get(s.ref)!);
}
