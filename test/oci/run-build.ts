/**
 * Runs buildImages from a JSON spec file, for tests that need the library in another process
 * (another user, a process to kill). Prints the summary, or the PlannerError as JSON, on stdout.
 */
import { readFileSync } from 'node:fs';
import { isPlannerError } from '@planner/errors';
import { buildImages } from '@planner/oci';

const spec = JSON.parse(readFileSync(process.argv[2]!, 'utf8'));
try {
  const summary = await buildImages(spec);
  process.stdout.write(JSON.stringify({ ok: true, summary }));
} catch (error) {
  if (!isPlannerError(error)) throw error;
  process.stdout.write(JSON.stringify({ ok: false, error: error.toJSON() }));
  process.exitCode = 1;
}
