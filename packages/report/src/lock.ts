import { readFile } from 'node:fs/promises';
import { PlannerError } from '@planner/errors';
import { parseLock, serializeLock, type Plan } from '@planner/layering';

/** Reads and validates a lock file; undefined when it does not exist. */
export async function readLockFile(file: string): Promise<Plan | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new PlannerError('E_READ', `cannot read ${file}: ${(error as Error).message}`, { file, hint: 'check that the file is readable', cause: error });
  }
  return parseLock(text, file);
}

/** Whether two plans write the same lock (the committed file's formatting does not matter). */
export function sameLock(a: Plan, b: Plan): boolean {
  return serializeLock(a) === serializeLock(b);
}
