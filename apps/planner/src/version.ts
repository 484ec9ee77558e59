/** Kept in step with apps/planner/package.json; part of every layer cache key's format version. */
export const VERSION = '0.1.0';
