/** Runs at most `limit` of the given tasks at a time; tasks queue in call order. */
export function createLimiter(limit: number): <T>(task: () => Promise<T>) => Promise<T> {
  if (!Number.isInteger(limit) || limit < 1) throw new Error(`limit must be a positive integer, got ${limit}`);
  let active = 0;
  const queue: (() => void)[] = [];
  const next = (): void => {
    active--;
    queue.shift()?.();
  };
  return <T>(task: () => Promise<T>): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const run = (): void => {
        active++;
        task().then(resolve, reject).finally(next);
      };
      if (active < limit) run();
      else queue.push(run);
    });
}

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
