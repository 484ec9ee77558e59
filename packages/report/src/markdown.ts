import { formatBytes, formatChange, formatCount, formatGrowth, formatLess, plural, formatPercent, formatRatio, storeName } from './format.js';
import { BUMP_NOTE, BUMP_TITLE, bumpTable } from './bump-table.js';
import type { CheckData, CheckOutcome, ReportData } from './types.js';

/** Markdown for PR comments and $GITHUB_STEP_SUMMARY. Deterministic: no dates, no temp paths. */

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function mdTable(header: string[], rows: string[][], align: ('l' | 'r')[] = []): string {
  const sep = header.map((_, i) => ((align[i] ?? 'l') === 'r' ? '---:' : '---'));
  return [header, sep, ...rows].map((r) => `| ${r.map(cell).join(' | ')} |`).join('\n');
}

function code(text: string): string {
  return `\`${text.replace(/`/g, "'")}\``;
}

export interface MarkdownOptions {
  /** Longest image table before it goes into a collapsed <details> block (default 30). */
  collapseAfter?: number;
}

function maybeCollapse(summary: string, body: string, rows: number, options: MarkdownOptions): string {
  return rows > (options.collapseAfter ?? 30) ? `<details><summary>${summary}</summary>\n\n${body}\n\n</details>` : `#### ${summary}\n\n${body}`;
}

export function reportMarkdown(data: ReportData, options: MarkdownOptions = {}): string {
  const planner = data.strategies[0]!;
  const auto = data.savings.find((s) => s.baseline === 'auto-layer')!;
  const lower = data.savings.find((s) => s.baseline === 'lower-bound')!;
  const hasPush = planner.pushBytes !== null;
  const vsAuto = formatLess(auto.registry.ratio);
  const out: string[] = [];
  out.push('### planner report');
  out.push('');
  out.push(
    `**${formatBytes(planner.registryBytes)}** in the registry for ${plural(data.totals.images, 'image')}: ` +
      `**${vsAuto}** ${vsAuto === 'the same' ? 'as' : 'than'} per-image auto-layer (buildLayeredImage), ` +
      `${formatPercent(lower.registry.ratio === null ? null : 1 / lower.registry.ratio - 1)} above the lower bound.`,
  );
  if (data.base) out.push('', `Push and pull measured against ${data.base.ref ? code(data.base.ref) : code(data.base.lockFile ?? 'base lock')}.`);
  out.push('');
  const strategyRows = data.strategies.map((s) => {
    const sv = data.savings.find((x) => x.baseline === s.id);
    const row = [
      s.id === 'planner' ? `**${s.label}**` : s.label,
      s.id === 'lower-bound' ? '-' : formatCount(s.layers),
      formatBytes(s.registryBytes),
      sv ? formatRatio(sv.registry.ratio) : '1.00x',
      formatBytes(s.coldPullBytes),
    ];
    if (hasPush) row.push(s.pushBytes === null ? '-' : formatBytes(s.pushBytes), sv?.push ? formatRatio(sv.push.ratio) : s.id === 'planner' ? '1.00x' : '-');
    return row;
  });
  const header = ['strategy', 'layers', 'registry', 'vs planner', 'cold pull (all services)'];
  if (hasPush) header.push('update push', 'vs planner');
  out.push(mdTable(header, strategyRows, ['l', 'r', 'r', 'r', 'r', 'r', 'r']));
  out.push('');
  out.push('"vs planner" is the strategy\'s bytes divided by the planner\'s: 2.00x means the planner needs half.');
  out.push('');
  const imageRows = data.images.map((i) => {
    const row = [code(i.ref), formatBytes(i.closureBytes), `${i.layers}/${i.storeBudget}`, formatBytes(i.sharedBytes), formatBytes(i.privateBytes)];
    if (hasPush) row.push(i.pullBytes === null ? '-' : formatBytes(i.pullBytes));
    return row;
  });
  const imageHeader = ['image', 'closure', 'layers/budget', 'shared', 'private'];
  if (hasPush) imageHeader.push('pull');
  out.push(maybeCollapse(`Images (${data.images.length})`, mdTable(imageHeader, imageRows, ['l', 'r', 'r', 'r', 'r', 'r']), data.images.length, options));
  out.push('');
  if (data.sharedLayers.length > 0) {
    out.push(`#### Top shared layers`);
    out.push('');
    const rows = data.sharedLayers.map((l) => [
      `#${l.position}`,
      formatBytes(l.narSize),
      formatCount(l.images.length),
      formatBytes(l.savedBytes),
      l.largestPaths.map(storeName).join(', ') + (l.paths > l.largestPaths.length ? ` (+${l.paths - l.largestPaths.length})` : ''),
      l.images.length > 4 ? `${l.images.slice(0, 4).join(', ')}, +${l.images.length - 4}` : l.images.join(', '),
    ]);
    out.push(mdTable(['layer', 'size', 'images', 'saved', 'largest paths', 'used by'], rows, ['l', 'r', 'r', 'r', 'l', 'l']));
    out.push('');
  }
  if (data.bumps.length > 0) {
    out.push(`#### ${BUMP_TITLE}`);
    out.push('');
    out.push(mdTable(...bumpTable(data)));
    out.push('');
    out.push(BUMP_NOTE);
    out.push('');
  }
  return `${out.join('\n').trimEnd()}\n`;
}

const ICON: Record<CheckOutcome['status'], string> = { pass: 'pass', fail: '**FAIL**', skip: 'skip' };

export function checkMarkdown(data: CheckData, options: MarkdownOptions = {}): string {
  const out: string[] = [];
  const against = data.base.ref ? code(data.base.ref) : code(data.base.lockFile ?? 'base lock');
  out.push(`### planner check: ${data.passed ? 'passed' : 'FAILED'}`);
  out.push('');
  out.push(
    `Against ${against}: push **${formatBytes(data.pushBytes)}** ` +
      `(${plural(data.layers.added.length, 'layer')} added, ${formatCount(data.layers.removed.length)} removed, ${formatCount(data.layers.unchanged)} unchanged).`,
  );
  const sv = data.savings.vsAutoLayer;
  out.push(
    '',
    `Registry storage ${formatLess(sv.head, 'per-image auto-layer')}` + (sv.base !== null && sv.change !== null ? ` (base ${formatRatio(sv.base)}, change ${formatChange(sv.change)}).` : '.'),
  );
  out.push('');
  out.push(
    mdTable(
      ['check', 'result', 'details'],
      data.checks.map((c) => [c.name, ICON[c.status], c.message + (c.status === 'fail' && c.hint ? ` — ${c.hint}` : '')]),
    ),
  );
  out.push('');
  const changed = data.images.filter((i) => i.status !== 'unchanged');
  if (changed.length > 0) {
    const rows = changed.map((i) => [
      code(i.ref),
      i.status,
      formatBytes(i.pullBytes),
      i.layers.base === null ? '-' : String(i.layers.base),
      i.layers.head === null ? '-' : `${i.layers.head}/${i.layers.storeBudget}`,
      i.closure.headBytes === null ? '-' : formatBytes(i.closure.headBytes),
      formatGrowth(i.closure),
    ]);
    out.push(
      maybeCollapse(
        `Changed images (${changed.length} of ${data.images.length})`,
        mdTable(['image', 'status', 'pull', 'layers before', 'layers/budget', 'closure', 'growth'], rows, ['l', 'l', 'r', 'r', 'r', 'r', 'r']),
        changed.length,
        options,
      ),
    );
  } else {
    out.push(`No image changed (${data.images.length} images).`);
  }
  out.push('');
  if (data.layers.added.length > 0) {
    const rows = [...data.layers.added]
      .sort((a, b) => b.narSize - a.narSize || (a.id < b.id ? -1 : 1))
      .slice(0, 10)
      .map((l) => [
        code(l.id.slice(0, 12)),
        formatBytes(l.narSize),
        formatCount(l.images.length),
        l.largestPaths.map(storeName).join(', ') + (l.paths > l.largestPaths.length ? ` (+${l.paths - l.largestPaths.length})` : ''),
      ]);
    out.push(`#### Largest layers to push`);
    out.push('');
    out.push(mdTable(['layer', 'size', 'images', 'largest paths'], rows, ['l', 'r', 'r', 'l']));
    out.push('');
  }
  const failed = data.checks.filter((c) => c.status === 'fail' && c.hint);
  if (failed.length > 0) {
    out.push('**To fix:**');
    out.push('');
    for (const c of failed) out.push(`- ${c.name}: ${c.hint}`);
    out.push('');
  }
  return `${out.join('\n').trimEnd()}\n`;
}
