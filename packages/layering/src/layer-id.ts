import { createHash } from 'node:crypto';

/**
 * A layer's content address: the first 32 hex chars of sha256 over its store paths,
 * sorted byte-wise and joined by '\n'. Equal path sets get equal ids in every image and
 * every run, which is what lets registries store a shared layer once.
 */
export function layerId(paths: readonly string[]): string {
  const sorted = isSorted(paths) ? paths : [...paths].sort(byteOrder);
  return createHash('sha256').update(sorted.join('\n')).digest('hex').slice(0, 32);
}

export function byteOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function isSorted(paths: readonly string[]): boolean {
  for (let i = 1; i < paths.length; i++) if (paths[i - 1]! >= paths[i]!) return false;
  return true;
}
