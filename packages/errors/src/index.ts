/**
 * The one error type for everything a user can cause. Bugs stay plain `Error`.
 * Codes are stable: scripts match on them, docs/errors.md lists them.
 */
export type PlannerErrorCode =
  // configuration and discovery
  | 'E_CONFIG_NOT_FOUND'
  | 'E_CONFIG_PARSE'
  | 'E_CONFIG_INVALID'
  | 'E_MANIFEST_PARSE'
  | 'E_MANIFEST_INVALID'
  | 'E_MANIFEST_UNKNOWN_FIELD'
  | 'E_DUPLICATE_IMAGE'
  | 'E_NO_SERVICES'
  | 'E_UNKNOWN_IMAGE'
  // closures
  | 'E_CLOSURE_MISSING'
  | 'E_CLOSURE_PARSE'
  | 'E_CLOSURE_SHAPE'
  | 'E_STORE_PATH'
  | 'E_MISSING_REFERENCE'
  | 'E_SIZE_CONFLICT'
  | 'E_BAD_SIZE'
  | 'E_CYCLE'
  | 'E_ROOT_NOT_IN_CLOSURE'
  | 'E_NIX'
  | 'E_NIX_MISSING'
  // planning
  | 'E_BUDGET'
  | 'E_LOCK_PARSE'
  | 'E_LOCK_DRIFT'
  // building
  | 'E_STORE_PATH_MISSING'
  | 'E_READ'
  | 'E_NO_SPACE'
  | 'E_WRITE'
  | 'E_BASE_IMAGE'
  | 'E_COMPRESSION'
  // registry
  | 'E_REGISTRY'
  | 'E_REGISTRY_AUTH'
  | 'E_REGISTRY_INSECURE'
  | 'E_REGISTRY_UNREACHABLE'
  | 'E_CREDENTIALS'
  | 'E_LAYOUT_INVALID'
  // check / report / usage
  | 'E_GIT'
  | 'E_USAGE'
  | 'E_CHECK_FAILED';

export interface PlannerErrorOptions {
  /** What the user should do about it. */
  hint?: string;
  /** The file the problem is in, if any. */
  file?: string;
  /** Extra structured detail for --json output (never secrets). */
  details?: Record<string, unknown>;
  cause?: unknown;
  /** Process exit code the CLI uses: 2 for bad input (default), 1 for a failed run. */
  exitCode?: 1 | 2;
}

export class PlannerError extends Error {
  readonly code: PlannerErrorCode;
  readonly hint: string | undefined;
  readonly file: string | undefined;
  readonly details: Record<string, unknown> | undefined;
  readonly exitCode: 1 | 2;

  constructor(code: PlannerErrorCode, message: string, options: PlannerErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PlannerError';
    this.code = code;
    this.hint = options.hint;
    this.file = options.file;
    this.details = options.details;
    this.exitCode = options.exitCode ?? 2;
  }

  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      message: this.message,
      ...(this.hint ? { hint: this.hint } : {}),
      ...(this.file ? { file: this.file } : {}),
      ...(this.details ? { details: this.details } : {}),
    };
  }
}

export function isPlannerError(error: unknown): error is PlannerError {
  return error instanceof PlannerError;
}
export { choicesHint, closestMatch } from './suggest.js';
