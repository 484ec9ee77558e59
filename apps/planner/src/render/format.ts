// Number formatting is shared with Markdown/HTML rendering in @planner/report; colour and
// terminal layout stay here.
export { formatBytes, formatCount, formatLess, formatPercent, formatRatio } from '@planner/report';

export type Align = 'left' | 'right';

/** Strips ANSI colour codes, to measure printed width. */
function visible(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\u001b\[[0-9;]*m/g, '');
}

/** A plain aligned text table; cells may carry colour. */
export function table(header: string[], rows: string[][], align: Align[] = []): string {
  const widths = header.map((h, i) => Math.max(visible(h).length, ...rows.map((r) => visible(r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((cell, i) => {
        const pad = ' '.repeat(Math.max(0, widths[i]! - visible(cell).length));
        return (align[i] ?? 'left') === 'right' ? pad + cell : cell + pad;
      })
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/**
 * A block's title with a `=` rule under it, so blocks printed one after another (build,
 * then report) stay apart without colour too. The title may carry colour.
 */
export function heading(title: string): string {
  return `${title}\n${'='.repeat(visible(title).length)}`;
}
