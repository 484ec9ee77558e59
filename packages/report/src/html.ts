import { formatBytes, formatCount, formatLess, formatPercent, formatRatio, plural, storeName } from './format.js';
import type { ReportData, StrategyFigures } from './types.js';
import { BUMP_NOTE, BUMP_TITLE } from './bump-table.js';

/**
 * `planner report --html FILE`: one self-contained page (inline CSS and SVG, no scripts,
 * no network loads). Every figure is printed as text and carried in a data attribute
 * (`data-bytes`, `data-ratio`, ...), so tests and scrapers read the same numbers the page shows.
 */

function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

function num(n: number, digits = 1): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(digits);
}

const CSS = `
:root { --fg:#1b1f24; --muted:#57606a; --bg:#fff; --line:#d0d7de; --shared:#0969da; --private:#bf8700; --planner:#1a7f37; --base:#8c959f; --cell0:#ddf4ff; }
@media (prefers-color-scheme: dark) { :root { --fg:#e6edf3; --muted:#8d96a0; --bg:#0d1117; --line:#30363d; --shared:#4493f8; --private:#d29922; --planner:#3fb950; --base:#6e7681; --cell0:#0c2d6b; } }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); margin: 24px auto; max-width: 1240px; padding: 0 16px; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 32px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
.muted { color: var(--muted); }
.figures { display: grid; grid-template-columns: repeat(auto-fill, minmax(210px, 1fr)); gap: 12px; margin: 16px 0; }
.figure { border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px; }
.figure .v { font-size: 22px; font-weight: 600; display: block; } .figure .k { color: var(--muted); font-size: 12px; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th.r, td.r { text-align: right; }
tr.planner td { font-weight: 600; }
svg text { fill: var(--fg); font: 12px system-ui, sans-serif; } svg text.m { fill: var(--muted); }
.bar-planner { fill: var(--planner); } .bar-other { fill: var(--base); }
.shared { fill: var(--shared); } .private { fill: var(--private); }
.legend span { display: inline-block; width: 10px; height: 10px; margin: 0 4px 0 12px; vertical-align: middle; }
.scroll { overflow-x: auto; }
code { font-size: 12px; }
`;

function figure(key: string, label: string, bytes: number, extra = ''): string {
  return `<div class="figure" data-figure="${esc(key)}" data-bytes="${bytes}"><span class="v">${esc(formatBytes(bytes))}</span><span class="k">${esc(label)}${extra}</span></div>`;
}

type Measure = 'registryBytes' | 'coldPullBytes' | 'pushBytes';
const MEASURES: { key: Measure; label: string }[] = [
  { key: 'registryBytes', label: 'Registry storage' },
  { key: 'coldPullBytes', label: 'Cold pull (a host running every service)' },
  { key: 'pushBytes', label: 'Update push (this change)' },
];

function comparisonChart(strategies: StrategyFigures[]): string {
  const measures = MEASURES.filter((m) => strategies.some((s) => s[m.key] !== null));
  const labelW = 330;
  const barW = 640;
  const rowH = 22;
  const groupGap = 30;
  let y = 0;
  const parts: string[] = [];
  for (const m of measures) {
    const max = Math.max(1, ...strategies.map((s) => s[m.key] ?? 0));
    parts.push(`<text x="0" y="${y + 14}" font-weight="600">${esc(m.label)}</text>`);
    y += 22;
    for (const s of strategies) {
      const value = s[m.key];
      if (value === null) continue;
      const w = Math.max(1, (barW * value) / max);
      parts.push(
        `<g data-strategy="${s.id}" data-measure="${m.key}" data-bytes="${value}">` +
          `<title>${esc(`${s.label}: ${formatBytes(value)} (${formatCount(value)} bytes)`)}</title>` +
          `<text x="0" y="${y + 15}" class="m">${esc(s.label)}</text>` +
          `<rect x="${labelW}" y="${y + 3}" width="${num(w, 2)}" height="${rowH - 6}" rx="2" class="${s.id === 'planner' ? 'bar-planner' : 'bar-other'}"/>` +
          `<text x="${num(labelW + w + 6, 2)}" y="${y + 15}" class="value">${esc(formatBytes(value))}</text></g>`,
      );
      y += rowH;
    }
    y += groupGap;
  }
  const width = labelW + barW + 90;
  return `<svg id="comparison-chart" role="img" aria-label="baseline comparison" width="${width}" height="${y}" viewBox="0 0 ${width} ${y}" xmlns="http://www.w3.org/2000/svg">${parts.join('')}</svg>`;
}

function imageBars(data: ReportData): string {
  const labelW = 260;
  const barW = 700;
  const rowH = 16;
  const max = Math.max(1, ...data.images.map((i) => i.closureBytes));
  const rows = data.images.map((image, k) => {
    const y = k * rowH;
    const ws = (barW * image.sharedBytes) / max;
    const wp = (barW * image.privateBytes) / max;
    return (
      `<g class="image-bar" data-image="${esc(image.ref)}" data-shared-bytes="${image.sharedBytes}" data-private-bytes="${image.privateBytes}" data-closure-bytes="${image.closureBytes}">` +
      `<title>${esc(`${image.ref}: ${formatBytes(image.sharedBytes)} shared, ${formatBytes(image.privateBytes)} private, ${image.layers}/${image.storeBudget} layers`)}</title>` +
      `<text x="${labelW - 6}" y="${y + 12}" text-anchor="end">${esc(image.ref)}</text>` +
      `<rect x="${labelW}" y="${y + 2}" width="${num(ws, 2)}" height="${rowH - 4}" class="shared"/>` +
      `<rect x="${num(labelW + ws, 2)}" y="${y + 2}" width="${num(wp, 2)}" height="${rowH - 4}" class="private"/>` +
      `<text x="${num(labelW + ws + wp + 6, 2)}" y="${y + 12}" class="m">${esc(formatBytes(image.closureBytes))}</text></g>`
    );
  });
  const height = data.images.length * rowH + 4;
  const width = labelW + barW + 80;
  return `<svg id="image-bars" role="img" aria-label="shared and private bytes per image" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" xmlns="http://www.w3.org/2000/svg">${rows.join('')}</svg>`;
}

/** Images by layers: one row per image, one column per layer (bottom first), width by bytes. */
function heatmap(data: ReportData): string {
  const labelW = 260;
  const plotW = 900;
  const rowH = 12;
  const layers = data.layers;
  const total = Math.max(
    1,
    layers.reduce((s, l) => s + l.narSize, 0),
  );
  // Every column gets a sliver (at most a quarter of an equal share), the rest goes by bytes:
  // with hundreds of layers, equal minimums alone would fill the plot and hide the sizes.
  const minW = Math.min(2, plotW / Math.max(1, layers.length) / 4);
  const spare = Math.max(0, plotW - minW * layers.length);
  const xs: number[] = [];
  const ws: number[] = [];
  let x = labelW;
  for (const l of layers) {
    const w = minW + (spare * l.narSize) / total;
    xs.push(x);
    ws.push(w);
    x += w;
  }
  const column = new Map(layers.map((l, k) => [l.id, k]));
  const maxUsers = Math.max(1, ...layers.map((l) => l.images.length));
  const usedBy = new Map<string, number[]>();
  for (const l of layers)
    for (const ref of l.images) {
      let cols = usedBy.get(ref);
      if (!cols) usedBy.set(ref, (cols = []));
      cols.push(column.get(l.id)!);
    }
  const rows = data.images.map((image, r) => {
    const y = r * rowH;
    const cols = usedBy.get(image.ref) ?? [];
    const cells = cols.map((k) => {
      const l = layers[k]!;
      // Opacity grows with how many images share the layer: dark columns are the shared base.
      const opacity = 0.35 + (0.65 * (l.images.length - 1)) / Math.max(1, maxUsers - 1);
      return `<rect x="${num(xs[k]!, 2)}" y="${y}" width="${num(ws[k]!, 2)}" height="${rowH - 1}" class="${l.images.length > 1 ? 'shared' : 'private'}" fill-opacity="${num(opacity, 2)}" data-layer="${k}"/>`;
    });
    return `<g class="heat-row" data-image="${esc(image.ref)}" data-layers="${cols.length}"><text x="${labelW - 6}" y="${y + 10}" text-anchor="end" font-size="10">${esc(image.ref)}</text>${cells.join('')}</g>`;
  });
  const height = data.images.length * rowH + 4;
  const width = labelW + plotW + 10;
  const titles = layers
    .map(
      (l, k) =>
        `<rect class="heat-col" x="${num(xs[k]!, 2)}" y="0" width="${num(ws[k]!, 2)}" height="${height}" fill="transparent" data-layer="${k}" data-layer-id="${l.id}" data-bytes="${l.narSize}" data-images="${l.images.length}"><title>${esc(`layer #${k} ${l.id.slice(0, 12)}: ${formatBytes(l.narSize)}, ${l.paths} paths, ${l.images.length} image(s); ${l.largestPaths.map(storeName).join(', ')}`)}</title></rect>`,
    )
    .join('');
  return `<svg id="heatmap" role="img" aria-label="which image uses which layer" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" xmlns="http://www.w3.org/2000/svg">${rows.join('')}${titles}</svg>`;
}

export interface HtmlOptions {
  /** Page title (default "planner report"). */
  title?: string;
}

export function reportHtml(data: ReportData, options: HtmlOptions = {}): string {
  const title = options.title ?? 'planner report';
  const planner = data.strategies[0]!;
  const hasPush = planner.pushBytes !== null;
  const auto = data.savings.find((s) => s.baseline === 'auto-layer')!;
  const strategyRows = data.strategies
    .map((s) => {
      const sv = data.savings.find((x) => x.baseline === s.id);
      const cells = [
        `<td>${esc(s.label)}</td>`,
        // The lower bound has no layer budget: its count of image sets is no layer count.
        `<td class="r" data-field="layers">${s.id === 'lower-bound' ? '-' : formatCount(s.layers)}</td>`,
        `<td class="r" data-field="registryBytes" data-bytes="${s.registryBytes}">${esc(formatBytes(s.registryBytes))}</td>`,
        `<td class="r" data-field="registryRatio" data-ratio="${sv?.registry.ratio ?? 1}">${esc(sv ? formatRatio(sv.registry.ratio) : '1.00x')}</td>`,
        `<td class="r" data-field="coldPullBytes" data-bytes="${s.coldPullBytes}">${esc(formatBytes(s.coldPullBytes))}</td>`,
      ];
      if (hasPush) cells.push(`<td class="r" data-field="pushBytes" data-bytes="${s.pushBytes ?? ''}">${esc(s.pushBytes === null ? '-' : formatBytes(s.pushBytes))}</td>`);
      return `<tr data-strategy="${s.id}"${s.id === 'planner' ? ' class="planner"' : ''}>${cells.join('')}</tr>`;
    })
    .join('\n');
  const imageRows = data.images
    .map(
      (i) =>
        `<tr data-image="${esc(i.ref)}"><td><code>${esc(i.ref)}</code></td><td class="r" data-field="closureBytes" data-bytes="${i.closureBytes}">${esc(formatBytes(i.closureBytes))}</td>` +
        `<td class="r" data-field="layers" data-layers="${i.layers}" data-budget="${i.storeBudget}">${i.layers}/${i.storeBudget}</td>` +
        `<td class="r" data-field="sharedBytes" data-bytes="${i.sharedBytes}">${esc(formatBytes(i.sharedBytes))}</td>` +
        `<td class="r" data-field="privateBytes" data-bytes="${i.privateBytes}">${esc(formatBytes(i.privateBytes))}</td>` +
        (hasPush ? `<td class="r" data-field="pullBytes" data-bytes="${i.pullBytes ?? ''}">${esc(i.pullBytes === null ? '-' : formatBytes(i.pullBytes))}</td>` : '') +
        `</tr>`,
    )
    .join('\n');
  const sharedRows = data.sharedLayers
    .map(
      (l) =>
        `<tr data-layer-id="${l.id}"><td>#${l.position} <code>${l.id.slice(0, 12)}</code></td><td class="r" data-bytes="${l.narSize}">${esc(formatBytes(l.narSize))}</td>` +
        `<td class="r">${l.images.length}</td><td class="r" data-bytes="${l.savedBytes}">${esc(formatBytes(l.savedBytes))}</td>` +
        `<td>${esc(l.largestPaths.map(storeName).join(', '))}${l.paths > l.largestPaths.length ? ` <span class="muted">(+${l.paths - l.largestPaths.length})</span>` : ''}</td>` +
        `<td title="${esc(l.images.join(', '))}">${esc(l.images.slice(0, 8).join(', '))}${l.images.length > 8 ? ` <span class="muted">+${l.images.length - 8} more</span>` : ''}</td></tr>`,
    )
    .join('\n');
  const bumpIds = data.bumps[0]?.push.filter((p) => p.id !== 'lower-bound').map((p) => p.id) ?? [];
  const bumpRows = data.bumps
    .map(
      (b) =>
        `<tr data-path="${esc(b.path)}"><td title="${esc(b.path)}"><code>${esc(storeName(b.path))}</code></td><td class="r">${formatCount(b.images)}</td>` +
        `<td class="r" data-field="changedBytes" data-bytes="${b.changedBytes}">${esc(formatBytes(b.changedBytes))}</td>` +
        bumpIds
          .map((id) => {
            const p = b.push.find((x) => x.id === id)!;
            return `<td class="r" data-strategy="${id}" data-bytes="${p.bytes}" data-ratio="${p.ratioToChanged ?? ''}">${esc(formatRatio(p.ratioToChanged))}</td>`;
          })
          .join('') +
        `</tr>`,
    )
    .join('\n');
  const bumpSection =
    data.bumps.length === 0
      ? ''
      : `<h2>${esc(BUMP_TITLE)}</h2>
<div class="scroll"><table id="bumps">
<thead><tr><th>library</th><th class="r">images</th><th class="r">changed</th>${bumpIds.map((id) => `<th class="r">${esc(data.strategies.find((s) => s.id === id)?.label ?? id)}</th>`).join('')}</tr></thead>
<tbody>
${bumpRows}
</tbody></table></div>
<p class="muted">${esc(BUMP_NOTE)}</p>
`;
  const lower = data.strategies.find((s) => s.id === 'lower-bound')!;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>${esc(title)}</title>
<style>${CSS}</style>
</head>
<body>
<h1>${esc(title)}</h1>
<p class="muted">${plural(data.totals.images, 'image')}, ${plural(data.totals.uniquePaths, 'unique store path')}, ${plural(data.totals.layers, 'layer')}${data.base ? `; push and pull against <code>${esc(data.base.ref ?? data.base.lockFile ?? 'base')}</code>` : ''}. Sizes are uncompressed NAR bytes.</p>
<section class="figures" id="figures">
${figure('planner.registryBytes', 'registry storage with planner', planner.registryBytes)}
${figure('auto-layer.registryBytes', 'per-image auto-layer (buildLayeredImage)', auto.registry.baselineBytes, ` — planner needs <b data-ratio="${auto.registry.ratio ?? ''}">${esc(formatLess(auto.registry.ratio))}</b>`)}
${figure('lower-bound.registryBytes', 'lower bound: every store path once', lower.registryBytes)}
${figure('totals.closureBytes', "sum of every image's closure", data.totals.closureBytes)}
${hasPush ? figure('planner.pushBytes', 'update push with planner', planner.pushBytes!) : ''}
</section>
<h2>Baselines</h2>
<div class="scroll"><table id="strategies">
<thead><tr><th>strategy</th><th class="r">layers</th><th class="r">registry</th><th class="r">vs planner</th><th class="r">cold pull</th>${hasPush ? '<th class="r">update push</th>' : ''}</tr></thead>
<tbody>
${strategyRows}
</tbody></table></div>
<p class="muted">"vs planner" is the strategy's registry bytes divided by the planner's. The planner stores ${esc(formatPercent(lower.registryBytes === 0 ? null : planner.registryBytes / lower.registryBytes - 1))} more than the lower bound.</p>
<div class="scroll">${comparisonChart(data.strategies)}</div>
<h2>Shared and private bytes per image</h2>
<p class="legend muted"><span class="shared" style="background:var(--shared)"></span>in layers other images use too<span style="background:var(--private)"></span>in layers only this image uses</p>
<div class="scroll">${imageBars(data)}</div>
<h2>Images by layers</h2>
<p class="muted">One row per image, one column per layer, bottom layer on the left; column width follows the layer's bytes, darker cells are layers more images share.</p>
<div class="scroll">${heatmap(data)}</div>
<h2>Top shared layers</h2>
<div class="scroll"><table id="shared-layers">
<thead><tr><th>layer</th><th class="r">size</th><th class="r">images</th><th class="r">saved</th><th>largest paths</th><th>used by</th></tr></thead>
<tbody>
${sharedRows}
</tbody></table></div>
${bumpSection}<h2>Images</h2>
<div class="scroll"><table id="images">
<thead><tr><th>image</th><th class="r">closure</th><th class="r">layers/budget</th><th class="r">shared</th><th class="r">private</th>${hasPush ? '<th class="r">pull</th>' : ''}</tr></thead>
<tbody>
${imageRows}
</tbody></table></div>
</body>
</html>
`;
}
