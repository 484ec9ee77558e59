import { plural, storeName, type ExplainData, type ExplainImageData, type ExplainPathData } from '@planner/report';
import { formatBytes, formatCount, table } from './format.js';
import type { Ui } from './ui.js';

function renderPath(data: ExplainPathData, ui: Ui): string {
  const out: string[] = [];
  out.push(`${ui.c.bold(data.path)}  ${formatBytes(data.narSize)}`);
  if (data.layer) {
    const l = data.layer;
    out.push(`layer #${l.position} ${l.id}: ${formatBytes(l.narSize)}, ${formatCount(l.otherPaths.length + 1)} paths, used by ${plural(l.images.length, 'image')}`);
    if (l.otherPaths.length > 0) {
      const shown = l.otherPaths.slice(0, 15);
      out.push(ui.c.dim('other paths in this layer:'));
      for (const p of shown) out.push(`  ${p.path}  ${ui.c.dim(formatBytes(p.narSize))}`);
      if (l.otherPaths.length > shown.length) out.push(ui.c.dim(`  ... ${l.otherPaths.length - shown.length} more (--json lists all)`));
    }
  }
  out.push('', `in ${ui.c.bold(plural(data.images.length, 'image'))}:`);
  for (const image of data.images) {
    out.push(`  ${ui.c.bold(image.ref)}: ${image.chain.map(storeName).join(ui.c.dim(' -> '))}`);
  }
  return out.join('\n');
}

function renderImage(data: ExplainImageData, ui: Ui): string {
  const rows = data.layers.map((l) => [
    `#${l.position}`,
    l.id.slice(0, 12),
    formatBytes(l.narSize),
    formatCount(l.paths),
    l.shared ? ui.c.green('shared') : 'private',
    formatCount(l.images),
    l.largestPaths.map(storeName).join(', '),
  ]);
  const shared = data.layers.filter((l) => l.shared).reduce((s, l) => s + l.narSize, 0);
  return [
    `${ui.c.bold(data.ref)}: ${formatBytes(data.closureBytes)} in ${formatCount(data.paths)} paths, ${data.layers.length}/${data.storeBudget} store layers` +
      ` (maxLayers ${data.maxLayers} = ${data.storeBudget} store + 1 customisation${data.baseLayers ? ` + ${data.baseLayers} base` : ''})`,
    `${formatBytes(shared)} in shared layers, ${formatBytes(data.closureBytes - shared)} private`,
    '',
    ui.c.dim('bottom layer first'),
    table(['layer', 'id', 'size', 'paths', 'shared', 'images', 'largest paths'], rows, ['left', 'left', 'right', 'right', 'left', 'right', 'left']),
  ].join('\n');
}

export function renderExplain(data: ExplainData, ui: Ui): string {
  return data.kind === 'path' ? renderPath(data, ui) : renderImage(data, ui);
}
