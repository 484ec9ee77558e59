import { formatBytes, formatCount, formatRatio, storeName } from './format.js';
import type { ReportData } from './types.js';

/** The library bumps section, the same in the terminal, Markdown and HTML. */
export const BUMP_TITLE = 'Library bumps: pushed again / changed bytes';

export const BUMP_NOTE =
  'A bump gives the library and everything depending on it new hashes; each strategy pushes again the layers holding a changed path. 1.00x = only what changed (lower is better).';

/** Header, rows and alignment of the library bumps table. */
export function bumpTable(data: ReportData): [string[], string[][], ('l' | 'r')[]] {
  const strategies = data.bumps[0]?.push.filter((p) => p.id !== 'lower-bound').map((p) => p.id) ?? [];
  const labels = strategies.map((id) => data.strategies.find((s) => s.id === id)?.label ?? id);
  const rows = data.bumps.map((b) => [storeName(b.path), formatCount(b.images), formatBytes(b.changedBytes), ...strategies.map((id) => formatRatio(b.push.find((p) => p.id === id)!.ratioToChanged))]);
  return [['library', 'images', 'changed', ...labels], rows, ['l', 'r', 'r', ...strategies.map(() => 'r' as const)]];
}
