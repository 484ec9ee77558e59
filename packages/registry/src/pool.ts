/** A queued task not started because another one failed first. */
export class CancelledError extends Error {
  constructor() {
    super('cancelled after an earlier failure');
    this.name = 'CancelledError';
  }
}

/**
 * Settles every promise, then rethrows the failure that caused the others to stop (not a
 * cancellation): a failed blob must not leave uploads running unobserved while the process
 * reports and exits.
 */
export async function allOrFirstError<T>(promises: readonly Promise<T>[]): Promise<T[]> {
  const results = await Promise.allSettled(promises);
  const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  const failed = failures.find((r) => !(r.reason instanceof CancelledError)) ?? failures[0];
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<T>).value);
}
