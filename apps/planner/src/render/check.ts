import { checkMarkdown, formatChange, formatGrowth, plural, storeName, type CheckData } from '@planner/report';
import type { CheckCommandData } from '../commands/check.js';
import { formatBytes, formatCount, formatLess, formatRatio, table } from './format.js';
import type { Ui } from './ui.js';

export function renderCheckText(data: CheckData, ui: Ui): string {
  const out: string[] = [];
  const against = data.base.ref ? `${data.base.ref}${data.base.commit ? ` (${data.base.commit.slice(0, 12)})` : ''}` : data.base.lockFile;
  out.push(
    `against ${against}: push ${ui.c.bold(formatBytes(data.pushBytes))}, ` +
      `${plural(data.layers.added.length, 'layer')} added (${formatBytes(data.layers.addedBytes)}), ` +
      `${formatCount(data.layers.removed.length)} removed (${formatBytes(data.layers.removedBytes)}), ` +
      `${formatCount(data.layers.unchanged)} unchanged (${formatBytes(data.layers.unchangedBytes)})`,
  );
  const sv = data.savings.vsAutoLayer;
  out.push(`registry storage ${formatLess(sv.head, 'per-image auto-layer')}` + (sv.base !== null && sv.change !== null ? ` (base ${formatRatio(sv.base)}, change ${formatChange(sv.change)})` : ''));
  const changed = data.images.filter((i) => i.status !== 'unchanged');
  if (changed.length > 0) {
    out.push('');
    const rows = changed.map((i) => {
      const over = i.layers.head !== null && i.layers.storeBudget !== null && i.layers.head > i.layers.storeBudget;
      const budget = i.layers.head === null ? '-' : `${i.layers.head}/${i.layers.storeBudget}`;
      return [
        i.ref,
        i.status,
        formatBytes(i.pullBytes),
        i.layers.base === null ? '-' : String(i.layers.base),
        over ? ui.c.red(budget) : budget,
        i.closure.headBytes === null ? '-' : formatBytes(i.closure.headBytes),
        formatGrowth(i.closure),
      ];
    });
    out.push(table(['image', 'status', 'pull', 'layers before', 'layers/budget', 'closure', 'growth'], rows, ['left', 'left', 'right', 'right', 'right', 'right', 'right']));
    out.push(ui.c.dim(`${formatCount(data.images.length - changed.length)} of ${formatCount(data.images.length)} images unchanged`));
  } else {
    out.push(ui.c.dim(`no image changed (${formatCount(data.images.length)} images)`));
  }
  if (data.layers.added.length > 0) {
    out.push('', ui.c.bold('largest layers to push'));
    const rows = [...data.layers.added]
      .sort((a, b) => b.narSize - a.narSize || (a.id < b.id ? -1 : 1))
      .slice(0, 5)
      .map((l) => [l.id.slice(0, 12), formatBytes(l.narSize), formatCount(l.images.length), l.largestPaths.map(storeName).join(', ')]);
    out.push(table(['layer', 'size', 'images', 'largest paths'], rows, ['left', 'right', 'right', 'left']));
  }
  out.push('');
  for (const c of data.checks) {
    const mark = c.status === 'pass' ? ui.c.green('pass') : c.status === 'fail' ? ui.c.red('FAIL') : ui.c.dim('skip');
    out.push(`${mark}  ${c.name}${c.code ? ` [${c.code}]` : ''}: ${c.message.slice(c.message.indexOf(':') + 2)}`);
    if (c.status === 'fail' && c.hint) out.push(`      ${ui.c.dim('hint:')} ${c.hint}`);
  }
  const failed = data.checks.filter((c) => c.status === 'fail');
  out.push('');
  out.push(failed.length === 0 ? ui.c.green('planner check passed') : ui.c.red(`planner check failed: ${failed.map((c) => c.name).join(', ')}`));
  return out.join('\n');
}

export function renderCheck(data: CheckCommandData, ui: Ui): string {
  return data.markdown ? checkMarkdown(data.check) : renderCheckText(data.check, ui);
}
