import { readFile } from 'node:fs/promises';
import { PlannerError } from '@planner/errors';
import { parseLock, type Plan } from '@planner/layering';

export interface LockFile {
  plan: Plan;
  /** The file's text as committed, to tell whether a new plan changes it. */
  text: string;
}

/** Reads and validates planner.lock.json; undefined when there is none. */
export async function readLockFile(file: string): Promise<LockFile | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new PlannerError('E_READ', `cannot read ${file}: ${(error as Error).message}`, { file, hint: 'check that the file is readable', cause: error });
  }
  return { plan: parseLock(text, file), text };
}
