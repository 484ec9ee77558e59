import { serializeLock, type Plan } from '@planner/layering';

/** Whether two plans write the same lock (the committed file's formatting does not matter). */
export function sameLock(a: Plan, b: Plan): boolean {
  return serializeLock(a) === serializeLock(b);
}
