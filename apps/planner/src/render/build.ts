import cliProgress from 'cli-progress';
import type { BuildProgress } from '@planner/oci';
import type { BuildData } from '../commands/build.js';
import { formatBytes, formatCount, formatRatio, table } from './format.js';
import { renderPush } from './push.js';
import type { Ui } from './ui.js';

export interface BuildProgressView {
  event: (event: BuildProgress) => void;
  stop: () => void;
}

const short = (digest: string): string => digest.slice(7, 19);

function rate(bytes: number, ms: number): string {
  return ms > 0 ? `${formatBytes((bytes * 1000) / ms)}/s` : '-';
}

/**
 * On a terminal: one bar for layers (done/total) with bytes and throughput, one line per
 * layer being built. Elsewhere (CI, pipes): one plain line per built layer and a closing
 * line; cached layers are only counted.
 */
export function createBuildProgress(ui: Ui): BuildProgressView {
  if (ui.json) return { event: () => {}, stop: () => {} };
  const started = Date.now();
  let total = 0;
  let done = 0;
  let bytesIn = 0;
  const inflight = new Map<string, number>();
  const plain = (e: BuildProgress): void => {
    if (e.type === 'start') {
      total = e.layers;
      ui.err(`${formatCount(e.layers)} store layers: ${formatCount(e.cached)} in the cache, ${formatCount(e.layers - e.cached)} to build (${formatBytes(e.bytesToBuild)} of store paths)\n`);
    } else if (e.type === 'layer-done' && !e.cached) {
      done++;
      bytesIn += e.record.tarSize;
      ui.err(`built ${e.kind.padEnd(13)} ${e.id.slice(0, 32).padEnd(32)} ${formatBytes(e.record.tarSize).padStart(10)} -> ${formatBytes(e.record.size).padStart(10)}  ${short(e.record.digest)}\n`);
    } else if (e.type === 'archive-done') {
      ui.err(`wrote ${e.file}\n`);
    }
  };
  if (!ui.interactive) {
    return {
      event: plain,
      stop: () => {
        if (done > 0) ui.err(`built ${formatCount(done)} layers, ${formatBytes(bytesIn)} of tar at ${rate(bytesIn, Date.now() - started)}\n`);
      },
    };
  }
  const multi = new cliProgress.MultiBar(
    {
      format: ' {bar} {value}/{total} layers  {bytes}  {rate}',
      hideCursor: true,
      clearOnComplete: true,
      stopOnComplete: false,
      fps: 8,
      stream: process.stderr,
    },
    cliProgress.Presets.shades_classic,
  );
  const bar = multi.create(1, 0, { bytes: formatBytes(0), rate: '-' });
  const update = (): void => {
    const live = [...inflight.values()].reduce((s, n) => s + n, 0);
    bar.update(done, { bytes: formatBytes(bytesIn + live), rate: rate(bytesIn + live, Date.now() - started) });
  };
  return {
    event: (e) => {
      if (e.type === 'start') {
        total = e.layers;
        bar.setTotal(Math.max(1, total));
        done = e.cached;
        update();
      } else if (e.type === 'layer-bytes') {
        inflight.set(e.id, e.bytesIn);
        update();
      } else if (e.type === 'layer-done') {
        inflight.delete(e.id);
        if (!e.cached) {
          if (e.kind === 'store') done++;
          bytesIn += e.record.tarSize;
          multi.log(`built ${e.kind.padEnd(13)} ${e.id.slice(0, 32).padEnd(32)} ${formatBytes(e.record.tarSize).padStart(10)} -> ${formatBytes(e.record.size).padStart(10)}\n`);
        }
        update();
      } else if (e.type === 'archive-done') {
        multi.log(`wrote ${e.file}\n`);
      }
    },
    stop: () => multi.stop(),
  };
}

export function renderBuild(data: BuildData, ui: Ui): string {
  const rows = data.images.map((i) => [
    ui.c.bold(i.ref),
    formatCount(i.layers.length),
    formatCount(i.layers.filter((l) => !l.cached).length),
    formatBytes(i.size),
    short(i.manifestDigest),
  ]);
  const l = data.layers;
  const s = data.sharing;
  const lines = [
    table(['image', 'layers', 'built', 'size', 'manifest'], rows, ['left', 'right', 'right', 'right', 'left']),
    '',
    `${ui.c.bold(formatCount(data.images.length))} images in ${data.out} (${data.compression})`,
    `  layers         ${formatCount(l.distinct)} distinct: ${ui.c.green(formatCount(l.built))} built, ${formatCount(l.reused)} reused from the cache`,
    `  written        ${formatBytes(l.bytesWritten)} (${formatBytes(l.bytesIn)} of tar compressed) in ${(data.durationMs / 1000).toFixed(1)}s`,
    `  sharing        ${formatCount(s.storeLayers)} store layers: ${formatBytes(s.uniqueBytes)} stored once vs ${formatBytes(s.perImageBytes)} if every image had its own copy (${formatRatio(s.ratio)} less)`,
  ];
  const archives = data.images.filter((i) => i.dockerArchive);
  if (archives.length > 0) lines.push(`  docker-archive ${archives.map((i) => i.dockerArchive).join(', ')}`);
  if (data.push) lines.push('', renderPush(data.push, ui));
  return lines.join('\n');
}
