import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { formatBytes } from '@planner/report';
import { json, planner, sharedData, tempDir } from '../helpers/cli.js';
import { bumpPath, commitAll, copyTree, initRepo, writeLock } from './fixtures.js';

/**
 * `planner report --html` opened in headless Chromium (Debian's `chromium`): the page loads
 * with no console messages (the page's CSP turns any network load into one), a screenshot
 * renders, and every figure in the DOM equals the `--json` figure.
 */

const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

function chromium(args: string[], profile: string): { stdout: string; stderr: string; code: number } {
  const r = spawnSync(
    CHROMIUM,
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      `--user-data-dir=${profile}`,
      '--enable-logging=stderr',
      '--v=0',
      ...args,
    ],
    { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, timeout: 120_000 },
  );
  return { stdout: r.stdout, stderr: r.stderr, code: r.status ?? 1 };
}

/** `attr="value"` pairs of every element that has `marker`, in document order. */
function elements(dom: string, marker: string): Record<string, string>[] {
  const out: Record<string, string>[] = [];
  const re = /<([a-z]+)\s([^>]*)>/g;
  for (let m = re.exec(dom); m; m = re.exec(dom)) {
    if (!m[2]!.includes(marker)) continue;
    const attrs: Record<string, string> = { tag: m[1]! };
    for (const a of m[2]!.matchAll(/([a-z-]+)="([^"]*)"/g)) attrs[a[1]!] = a[2]!;
    attrs.after = dom.slice(m.index + m[0].length, dom.indexOf('<', m.index + m[0].length));
    out.push(attrs);
  }
  return out;
}

const unescape = (s: string): string =>
  s
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');

let dir: string;
let html: string;
let report: any;
let dom: string;
let consoleLines: string[];

beforeAll(async () => {
  expect(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y chromium (scripts/setup-system.sh)`).toBe(true);
  dir = path.join(tempDir('planner-html-'), 'debian-120');
  copyTree(path.join(sharedData, 'debian-120'), dir);
  initRepo(dir);
  await writeLock(dir);
  commitAll(dir, 'base');
  bumpPath(dir, 'libc6-2.36-9+deb12u14', 13_000_000);
  await writeLock(dir);
  commitAll(dir, 'rebuild libc6');
  html = path.join(tempDir('planner-html-out-'), 'report.html');
  const r = planner(['report', '--base', 'HEAD~1', '--html', html, '--json'], { cwd: dir });
  expect(r.code, r.stderr).toBe(0);
  report = json(r);
  const loaded = chromium(['--dump-dom', `file://${html}`], tempDir('planner-chromium-'));
  expect(loaded.code, loaded.stderr.slice(-2000)).toBe(0);
  dom = loaded.stdout;
  consoleLines = loaded.stderr.split('\n').filter((l) => l.includes(':CONSOLE'));
}, 300_000);

describe('planner report --html', () => {
  it('is one self-contained file: no scripts, no external loads, no console messages', () => {
    const text = readFileSync(html, 'utf8');
    expect(text).not.toMatch(/<script|<link|<img|<iframe|@import|url\(/i);
    expect(text.match(/(?:src|href)="/g)).toBeNull();
    expect(text).toContain(`Content-Security-Policy" content="default-src 'none'`);
    expect(consoleLines).toEqual([]);
  });

  it('renders: a screenshot of the whole report', () => {
    const shot = path.join(path.dirname(html), 'report.png');
    const r = chromium(['--screenshot=' + shot, '--window-size=1280,6000', '--hide-scrollbars', `file://${html}`], tempDir('planner-chromium-'));
    expect(r.code, r.stderr.slice(-2000)).toBe(0);
    const png = readFileSync(shot);
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect(png.readUInt32BE(16)).toBe(1280);
    expect(png.readUInt32BE(20)).toBe(6000);
    expect(statSync(shot).size).toBeGreaterThan(50_000);
    expect(r.stderr.split('\n').filter((l) => l.includes(':CONSOLE'))).toEqual([]);
  });

  it('shows the --json figures: baselines table and chart', () => {
    const rows = elements(dom, 'data-field=');
    for (const s of report.strategies) {
      const cells = elements(dom.slice(dom.indexOf(`<tr data-strategy="${s.id}"`)), 'data-field=').slice(0, 5);
      const cell = (field: string) => cells.find((c) => c['data-field'] === field)!;
      expect(Number(cell('registryBytes')['data-bytes'])).toBe(s.registryBytes);
      expect(cell('registryBytes').after).toBe(formatBytes(s.registryBytes));
      expect(Number(cell('coldPullBytes')['data-bytes'])).toBe(s.coldPullBytes);
      expect(Number(cell('pushBytes')['data-bytes'])).toBe(s.pushBytes);
      expect(cell('pushBytes').after).toBe(formatBytes(s.pushBytes));
      // The lower bound has no layer budget: no layer count shown (--json keeps its image sets).
      expect(cell('layers').after).toBe(s.id === 'lower-bound' ? '-' : s.layers.toLocaleString('en-US'));
      const sv = report.savings.find((x: { baseline: string }) => x.baseline === s.id);
      expect(Number(cell('registryRatio')['data-ratio'])).toBe(sv ? sv.registry.ratio : 1);
    }
    expect(rows.length).toBeGreaterThan(0);
    const bars = elements(dom, 'data-measure=');
    expect(bars).toHaveLength(3 * report.strategies.length);
    for (const bar of bars) {
      const s = report.strategies.find((x: { id: string }) => x.id === bar['data-strategy']);
      expect(Number(bar['data-bytes'])).toBe(s[bar['data-measure']!]);
    }
    const figure = elements(dom, 'data-figure="planner.registryBytes"')[0]!;
    expect(Number(figure['data-bytes'])).toBe(report.strategies[0].registryBytes);
  });

  it('shows the --json figures: per-image table, bars and heatmap', () => {
    const rows = elements(dom, 'data-image=').filter((e) => e.tag === 'tr');
    expect(rows.map((r) => unescape(r['data-image']!))).toEqual(report.images.map((i: { ref: string }) => i.ref));
    for (const image of report.images) {
      const from = dom.indexOf(`<tr data-image="${image.ref}"`);
      const cells = elements(dom.slice(from, dom.indexOf('</tr>', from)), 'data-field=');
      const cell = (field: string) => cells.find((c) => c['data-field'] === field)!;
      expect(Number(cell('closureBytes')['data-bytes'])).toBe(image.closureBytes);
      expect(cell('closureBytes').after).toBe(formatBytes(image.closureBytes));
      expect(Number(cell('sharedBytes')['data-bytes'])).toBe(image.sharedBytes);
      expect(Number(cell('privateBytes')['data-bytes'])).toBe(image.privateBytes);
      expect(Number(cell('pullBytes')['data-bytes'])).toBe(image.pullBytes);
      expect(cell('layers').after).toBe(`${image.layers}/${image.storeBudget}`);
    }
    const bars = elements(dom, 'class="image-bar"');
    expect(bars.map((b) => [unescape(b['data-image']!), Number(b['data-shared-bytes']), Number(b['data-private-bytes'])])).toEqual(
      report.images.map((i: { ref: string; sharedBytes: number; privateBytes: number }) => [i.ref, i.sharedBytes, i.privateBytes]),
    );
    // Heatmap: one row per image with one cell per layer it uses; one column per layer with its bytes.
    const heatRows = elements(dom, 'class="heat-row"');
    expect(heatRows.map((r) => [unescape(r['data-image']!), Number(r['data-layers'])])).toEqual(report.images.map((i: { ref: string; layers: number }) => [i.ref, i.layers]));
    const heatCells = elements(dom, 'fill-opacity=');
    expect(heatCells).toHaveLength(report.images.reduce((s: number, i: { layers: number }) => s + i.layers, 0));
    const columns = elements(dom, 'class="heat-col"');
    expect(columns.map((c) => [c['data-layer-id'], Number(c['data-bytes']), Number(c['data-images'])])).toEqual(
      report.layers.map((l: { id: string; narSize: number; images: string[] }) => [l.id, l.narSize, l.images.length]),
    );
  });

  it('shows the --json figures: library bumps', () => {
    const rows = elements(dom, 'data-path=').filter((e) => e.tag === 'tr');
    expect(rows.map((r) => unescape(r['data-path']!))).toEqual(report.bumps.map((b: { path: string }) => b.path));
    expect(rows.length).toBeGreaterThan(0);
    for (const bump of report.bumps as { path: string; changedBytes: number; push: { id: string; bytes: number; ratioToChanged: number }[] }[]) {
      const from = dom.indexOf(`<tr data-path="${bump.path}"`);
      const row = dom.slice(from, dom.indexOf('</tr>', from));
      expect(Number(elements(row, 'data-field="changedBytes"')[0]!['data-bytes'])).toBe(bump.changedBytes);
      const cells = elements(row, 'data-strategy=');
      expect(cells.map((c) => [c['data-strategy'], Number(c['data-bytes']), Number(c['data-ratio'])])).toEqual(
        bump.push.filter((p) => p.id !== 'lower-bound').map((p) => [p.id, p.bytes, p.ratioToChanged]),
      );
    }
  });
});
