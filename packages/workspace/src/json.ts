import { readFile } from 'node:fs/promises';
import { PlannerError, type PlannerErrorCode } from '@planner/errors';

/** Reads and parses a JSON file, turning both failures into PlannerErrors naming the file. */
export async function readJsonFile(file: string, codes: { missing: PlannerErrorCode; parse: PlannerErrorCode }, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new PlannerError(codes.missing, code === 'ENOENT' ? `${what} not found: ${file}` : `cannot read ${what} ${file}: ${code ?? String(error)}`, {
      file,
      hint: `check that ${file} exists and is readable`,
      cause: error,
    });
  }
  return parseJsonText(text, file, codes.parse, what);
}

export function parseJsonText(text: string, file: string, code: PlannerErrorCode, what: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new PlannerError(code, `${what} ${file} is not valid JSON: ${(error as Error).message}`, {
      file,
      hint: 'fix the JSON syntax (a trailing comma or a missing quote is the usual cause)',
      cause: error,
    });
  }
}
