import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { PlannerError } from '@planner/errors';

/**
 * Writes `text` to `file` atomically (a temp file renamed over it, with write-file-atomic):
 * an interrupted or failed run leaves the old file whole, never half a new one.
 */
export async function writeFileAtomically(file: string, text: string): Promise<void> {
  try {
    await mkdir(path.dirname(file), { recursive: true });
    await writeFileAtomic(file, text);
  } catch (error) {
    const full = (error as NodeJS.ErrnoException).code === 'ENOSPC';
    throw new PlannerError(full ? 'E_NO_SPACE' : 'E_WRITE', `cannot write ${file}: ${(error as Error).message}`, {
      file,
      hint: full ? 'free some disk space and run again' : 'check that the directory exists and is writable',
      exitCode: 1,
      cause: error,
    });
  }
}
