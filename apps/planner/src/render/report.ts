import { BUMP_NOTE, BUMP_TITLE, bumpTable, formatPercent, plural, reportMarkdown, storeName, type ReportData } from '@planner/report';
import type { ReportCommandData } from '../commands/report.js';
import { formatBytes, formatCount, formatLess, formatRatio, heading, table } from './format.js';
import type { Ui } from './ui.js';

export function renderReportTable(data: ReportData, ui: Ui): string {
  const planner = data.strategies[0]!;
  const hasPush = planner.pushBytes !== null;
  const out: string[] = [];
  const auto = data.savings.find((s) => s.baseline === 'auto-layer')!;
  const single = data.savings.find((s) => s.baseline === 'single')!;
  const lower = data.strategies.find((s) => s.id === 'lower-bound')!;
  const vsAuto = formatLess(auto.registry.ratio, 'per-image buildLayeredImage (auto-layer)');
  // `planner build` prints compressed blob bytes; say which these are, or its ratio and ours look contradictory.
  out.push(heading(ui.c.bold('Savings report (sizes: uncompressed NAR bytes)')));
  out.push(
    `${ui.c.bold(formatBytes(planner.registryBytes))} in the registry for ${plural(data.totals.images, 'image')}: ` +
      `${vsAuto.includes('x less') ? ui.c.green(vsAuto) : vsAuto.includes('x more') ? ui.c.red(vsAuto) : vsAuto}, ` +
      `${formatLess(single.registry.ratio, 'one layer per image')}, ` +
      `${formatPercent(lower.registryBytes === 0 ? null : planner.registryBytes / lower.registryBytes - 1)} above the lower bound.`,
  );
  if (data.base) out.push(ui.c.dim(`push and pull measured against ${data.base.ref ?? data.base.lockFile}`));
  out.push('');
  const header = ['strategy', 'layers', 'registry', 'vs planner', 'cold pull'];
  if (hasPush) header.push('update push', 'vs planner');
  const rows = data.strategies.map((s) => {
    const sv = data.savings.find((x) => x.baseline === s.id);
    // The lower bound has no layer budget: its layer count is the number of distinct image sets, no layering to compare.
    const lowerBound = s.id === 'lower-bound';
    const row = [
      s.id === 'planner' ? ui.c.bold(s.label) : lowerBound ? 'lower bound: each path once' : s.label,
      lowerBound ? '-' : formatCount(s.layers),
      formatBytes(s.registryBytes),
      sv ? formatRatio(sv.registry.ratio ?? Number.NaN) : '1.00x',
      formatBytes(s.coldPullBytes),
    ];
    if (hasPush) row.push(s.pushBytes === null ? '-' : formatBytes(s.pushBytes), sv ? (sv.push ? formatRatio(sv.push.ratio ?? Number.NaN) : '-') : '1.00x');
    return row;
  });
  out.push(table(header, rows, ['left', 'right', 'right', 'right', 'right', 'right', 'right']));
  out.push('');
  const imageHeader = ['image', 'closure', 'layers used/budget', 'shared', 'private'];
  if (hasPush) imageHeader.push('pull');
  const imageRows = data.images.map((i) => {
    const over = i.layers > i.storeBudget;
    const row = [i.ref, formatBytes(i.closureBytes), over ? ui.c.red(`${i.layers}/${i.storeBudget}`) : `${i.layers}/${i.storeBudget}`, formatBytes(i.sharedBytes), formatBytes(i.privateBytes)];
    if (hasPush) row.push(i.pullBytes === null ? '-' : formatBytes(i.pullBytes));
    return row;
  });
  out.push(table(imageHeader, imageRows, ['left', 'right', 'right', 'right', 'right', 'right']));
  out.push(ui.c.dim('layers used/budget: store layers; the budget is maxLayers minus 1 customisation layer and any base image layers.'));
  if (data.sharedLayers.length > 0) {
    out.push('', ui.c.bold('Top shared layers'));
    const layerRows = data.sharedLayers.map((l) => [
      `#${l.position}`,
      formatBytes(l.narSize),
      formatCount(l.images.length),
      formatBytes(l.savedBytes),
      l.largestPaths.map(storeName).join(', ') + (l.paths > l.largestPaths.length ? ui.c.dim(` (+${l.paths - l.largestPaths.length})`) : ''),
      l.images.length > 3 ? `${l.images.slice(0, 3).join(', ')}, +${l.images.length - 3}` : l.images.join(', '),
    ]);
    out.push(table(['layer', 'size', 'images', 'saved', 'largest paths', 'used by'], layerRows, ['left', 'right', 'right', 'right', 'left', 'left']));
  }
  if (data.bumps.length > 0) {
    const [header, rows, align] = bumpTable(data);
    out.push('', ui.c.bold(BUMP_TITLE));
    out.push(
      table(
        header,
        rows,
        align.map((a) => (a === 'r' ? 'right' : 'left')),
      ),
    );
    out.push(ui.c.dim(BUMP_NOTE));
  }
  return out.join('\n');
}

export function renderReport(data: ReportCommandData, ui: Ui): string {
  return data.format === 'markdown' ? reportMarkdown(data.report) : renderReportTable(data.report, ui);
}
