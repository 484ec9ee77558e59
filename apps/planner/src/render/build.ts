import cliProgress from 'cli-progress';
import type { BuildProgress } from '@planner/oci';
import type { BuildData } from '../commands/build.js';
import { formatBytes, formatCount, formatLess, heading, table } from './format.js';
import { renderPush } from './push.js';
import type { Ui } from './ui.js';

/** The builder's events, plus what a sharded build's command adds around it. */
export type BuildViewEvent = BuildProgress | { type: 'layer-published'; id: string; kind: string; digest: string; size: number; uploaded: boolean; cache: string };

export interface BuildProgressView {
  event: (event: BuildViewEvent) => void;
  stop: () => void;
}

function startLine(e: Extract<BuildProgress, { type: 'start' }>): string {
  const remote = e.remote ?? 0;
  const awaited = e.awaited ?? 0;
  const toBuild = e.layers - e.cached - remote - awaited;
  const shard = e.remote !== undefined ? `, ${formatCount(remote)} in the registry, ${formatCount(awaited)} from other shards` : '';
  return `${formatCount(e.layers)} store layers: ${formatCount(e.cached)} in the cache${shard}, ${formatCount(toBuild)} to build (${formatBytes(e.bytesToBuild)} of store paths)`;
}

/** Lines for a sharded build's exchange with its peers (the same on a terminal and in CI). */
function exchangeLine(e: BuildViewEvent): string | undefined {
  if (e.type === 'wait') return `waiting for ${formatCount(e.layers)} layers other shards build`;
  if (e.type === 'take-over') return `${formatCount(e.layers)} layers did not arrive in time: building them here`;
  if (e.type === 'layer-published') {
    return `${e.uploaded ? 'published' : 'recorded '} ${e.kind.padEnd(13)} ${e.id.slice(0, 32).padEnd(32)} ${formatBytes(e.size).padStart(10)}  ${short(e.digest)} -> ${e.cache}`;
  }
  return undefined;
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
  const plain = (e: BuildViewEvent): void => {
    const line = exchangeLine(e);
    if (line) ui.err(`${line}\n`);
    else if (e.type === 'start') {
      total = e.layers;
      ui.err(`${startLine(e)}\n`);
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
      const line = exchangeLine(e);
      if (line) {
        multi.log(`${line}\n`);
        if (e.type === 'take-over') {
          total += e.layers;
          bar.setTotal(total);
        }
      } else if (e.type === 'start') {
        // Layers other shards deliver are not this run's work.
        total = e.layers - (e.awaited ?? 0);
        bar.setTotal(Math.max(1, total));
        done = e.cached + (e.remote ?? 0);
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
    stop: () => {
      // Flush lines logged since the last redraw, or the last ones are lost.
      multi.update();
      multi.stop();
    },
  };
}

/** Compressed blob bytes: the report's figures are uncompressed NAR bytes, hence other ratios. */
function sharingLine(s: BuildData['sharing']): string {
  if (s.storeLayers === 0) return 'no store layers';
  const ratio = s.perImageBytes === s.uniqueBytes ? 'the same: no store layer is shared' : formatLess(s.ratio);
  return `${formatCount(s.storeLayers)} store layers stored once: ${formatBytes(s.uniqueBytes)} of compressed layers vs ${formatBytes(s.perImageBytes)} if every image had its own copy (${ratio})`;
}

export function renderBuild(data: BuildData, ui: Ui): string {
  const rows = data.images.map((i) => [ui.c.bold(i.ref), formatCount(i.layers.length), formatCount(i.layers.filter((l) => !l.cached).length), formatBytes(i.size), short(i.manifestDigest)]);
  const l = data.layers;
  // A shard also builds layers only other shards' images use: count those of its own images here.
  const builtHere = data.shard ? new Set(data.images.flatMap((i) => i.layers.filter((x) => !x.cached).map((x) => `${x.kind}:${x.digest}`))).size : l.built;
  const lines = [
    heading(ui.c.bold(`Build: ${formatCount(data.images.length)} images in ${data.out} (${data.compression})`)),
    table(['image', 'layers', 'built', 'size', 'manifest'], rows, ['left', 'right', 'right', 'right', 'left']),
    '',
    `  layers         ${formatCount(l.distinct)} distinct: ${ui.c.green(formatCount(builtHere))} built, ${formatCount(l.reused)} reused from the cache${data.shard ? `, ${formatCount(l.remote)} from other shards` : ''}`,
    `  written        ${formatBytes(l.bytesWritten)} (${formatBytes(l.bytesIn)} of tar compressed) in ${(data.durationMs / 1000).toFixed(1)}s`,
    `  sharing        ${sharingLine(data.sharing)}`,
  ];
  if (data.shard) {
    const sh = data.shard;
    const x = sh.layers;
    lines.push(
      `  shard          ${sh.index}/${sh.count}: ${formatCount(sh.images.length)} of the images; ${formatCount(x.owned)} layers owned, ${formatCount(x.built)} built, ${formatCount(x.published)} published to ${sh.cache}`,
    );
    if (x.tookOver > 0) lines.push(ui.c.yellow(`                 ${formatCount(x.tookOver)} layers taken over after --shard-wait (their shard did not deliver)`));
    if (x.remote > 0) lines.push(`                 ${formatCount(x.remote)} layers from other shards: in the registry, not in this layout`);
  }
  const archives = data.images.filter((i) => i.dockerArchive);
  if (archives.length > 0) lines.push(`  docker-archive ${archives.map((i) => i.dockerArchive).join(', ')}`);
  if (data.push) lines.push('', renderPush(data.push, ui));
  return lines.join('\n');
}
