import cliProgress from 'cli-progress';
import type { PushEvent } from '@planner/registry';
import type { PushData } from '../commands/push.js';
import { formatBytes, formatCount, table } from './format.js';
import type { Ui } from './ui.js';

const short = (digest: string): string => digest.slice(0, 19);

export interface PushProgress {
  event: (event: PushEvent) => void;
  stop: () => void;
}

/** One bar per blob upload on a terminal; plain lines on stderr otherwise (CI logs, pipes). */
export function createPushProgress(ui: Ui): PushProgress {
  if (ui.interactive) return barProgress(ui);
  return {
    event: (e) => {
      const line = plainLine(e, ui);
      if (line) ui.err(`${line}\n`);
    },
    stop: () => {},
  };
}

function plainLine(e: PushEvent, ui: Ui): string | undefined {
  switch (e.type) {
    case 'registry':
      return `${ui.c.bold(e.registry)}: ${e.url}, ${e.auth}`;
    case 'plan':
      return `${e.registry}: ${formatCount(e.blobs)} blobs (${formatBytes(e.bytes)}) for ${formatCount(e.images)} images, ${formatCount(e.present)} already there`;
    case 'blob-done':
      if (e.action === 'skipped') return undefined;
      return `${e.action === 'uploaded' ? 'uploaded' : 'mounted '} ${short(e.digest)} ${formatBytes(e.size).padStart(10)}  ${e.registry}/${e.repository}`;
    case 'retry':
      return ui.c.yellow(`retry ${e.attempt}: ${e.what} (${e.reason}), waiting ${(e.delayMs / 1000).toFixed(1)}s`);
    case 'manifest':
      return `${e.action === 'pushed' ? ui.c.green('pushed') : 'unchanged'} ${e.target} ${e.digest}`;
    default:
      return undefined;
  }
}

function barProgress(ui: Ui): PushProgress {
  // A MultiBar lives only while uploads run: log lines written while it draws go through
  // its buffer (each erasing the line it lands on), and it is flushed before it stops.
  let multi: cliProgress.MultiBar | undefined;
  const bars = new Map<string, cliProgress.SingleBar>();
  const id = (e: { repository: string; digest: string }): string => `${e.repository}@${e.digest}`;
  const open = (): cliProgress.MultiBar =>
    (multi ??= new cliProgress.MultiBar(
      { format: ' {bar} {percentage}% {what} {done}/{size}', hideCursor: true, clearOnComplete: true, fps: 8, stream: process.stderr },
      cliProgress.Presets.shades_classic,
    ));
  const close = (): void => {
    if (!multi) return;
    multi.update();
    multi.stop();
    multi = undefined;
  };
  const log = (line: string | undefined): void => {
    if (!line) return;
    if (multi) multi.log(`\u001b[2K${line}\n`);
    else ui.err(`${line}\n`);
  };
  return {
    event: (e) => {
      if (e.type === 'blob-start' && e.action === 'upload') {
        bars.set(id(e), open().create(e.size, 0, { what: `${short(e.digest)} -> ${e.repository}`, done: formatBytes(0), size: formatBytes(e.size) }));
      } else if (e.type === 'blob-progress') {
        bars.get(id(e))?.update(e.sent, { done: formatBytes(e.sent) });
      } else if (e.type === 'blob-done') {
        const bar = bars.get(id(e));
        if (bar && multi) {
          multi.remove(bar);
          bars.delete(id(e));
        }
        log(plainLine(e, ui));
        if (bars.size === 0) close();
      } else {
        log(plainLine(e, ui));
      }
    },
    stop: close,
  };
}

export function renderPush(data: PushData, ui: Ui): string {
  const rows = data.images.map((i) => [ui.c.bold(i.target), short(i.manifestDigest), formatBytes(i.bytesUploaded), formatBytes(i.bytesSkipped), formatCount(i.blobsMounted), i.manifest]);
  const t = data.totals;
  const lines = [
    table(['image', 'manifest', 'uploaded', 'skipped (present)', 'mounted', 'tag'], rows, ['left', 'left', 'right', 'right', 'right', 'left']),
    '',
    `${ui.c.bold(formatCount(t.images))} images to ${formatCount(t.registries)} ${t.registries === 1 ? 'registry' : 'registries'} from ${data.layout}`,
    `  uploaded   ${ui.c.green(formatBytes(t.bytesUploaded))} in ${formatCount(t.blobsUploaded)} blobs`,
    `  skipped    ${formatBytes(t.bytesSkipped)} in ${formatCount(t.blobsSkipped)} blobs already in the registry`,
    `  mounted    ${formatBytes(t.bytesMounted)} in ${formatCount(t.blobsMounted)} blobs from another repository (not sent)`,
  ];
  if (t.retries > 0) lines.push(`  retries    ${formatCount(t.retries)} (${formatBytes(t.bytesResent)} sent again)`);
  if (data.shard && data.layers) {
    lines.push(
      `  shard      ${data.shard.index}/${data.shard.count}: owns ${formatCount(data.layers.owned)} layers (${formatBytes(data.layers.ownedBytes)}), uploaded ${formatCount(data.layers.uploaded)} of them` +
        (data.layers.tookOver > 0 ? `, took over ${formatCount(data.layers.tookOver)} from other shards` : ''),
    );
  }
  return lines.join('\n');
}
