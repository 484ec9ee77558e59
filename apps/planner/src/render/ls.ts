import type { LsData } from '../commands/ls.js';
import { formatBytes, formatCount, table } from './format.js';
import type { Ui } from './ui.js';

function rootName(path: string): string {
  const base = path.slice(path.lastIndexOf('/') + 1);
  return base.slice(33);
}

export function renderLs(data: LsData, ui: Ui): string {
  const rows = data.images.map((image) => [
    ui.c.bold(image.ref),
    image.roots.map(rootName).join(', '),
    formatCount(image.paths),
    formatBytes(image.bytes),
    formatBytes(image.sharedBytes),
    formatBytes(image.privateBytes),
  ]);
  const t = data.totals;
  return [
    table(['image', 'roots', 'paths', 'closure', 'shared', 'private'], rows, ['left', 'left', 'right', 'right', 'right', 'right']),
    '',
    `${ui.c.bold(formatCount(t.images))} images in ${data.workspace}`,
    `  sum of all closures   ${formatBytes(t.closureBytes)} (${formatCount(t.closurePaths)} paths)`,
    `  unique store paths    ${formatCount(t.uniquePaths)}`,
    `  unique bytes          ${ui.c.green(formatBytes(t.uniqueBytes))}  (every path once: the lower bound on registry storage)`,
    `  distinct image sets   ${formatCount(t.imageSets)}`,
  ].join('\n');
}
