import type { PlanData } from '../commands/plan.js';
import { formatBytes, formatCount, formatLess, formatRatio, table } from './format.js';
import type { Ui } from './ui.js';

function lockLine(data: PlanData, ui: Ui): string {
  const { lock } = data;
  const file = ui.c.bold('planner.lock.json');
  const wrote = lock.changed ? `wrote ${file}` : `${file} unchanged`;
  const push = `${formatCount(lock.newLayers)} new layers (${formatBytes(lock.newLayerBytes)} to push)`;
  if (!lock.read) return `${wrote} (planned afresh)${lock.reusedLayers > 0 ? `: ${push}, ${formatCount(lock.reusedLayers)} layers as in the lock on disk` : ''}`;
  if (lock.mode === 'lock-other-store') {
    return `${wrote}: ${ui.c.yellow('planned afresh')}: the lock is for another store directory than this workspace's ${data.plan.storeDir}; ${push}`;
  }
  if (lock.mode === 'lock') {
    if (lock.newLayers === 0) return `${wrote}: every layer kept from the lock`;
    const dropped = lock.droppedLayers > 0 ? `; ${formatCount(lock.droppedLayers)} given up, as keeping them stored too much twice` : '';
    return `${wrote}: kept ${formatCount(lock.reusedLayers)} layers from the lock, ${formatCount(lock.newLayers)} new (${formatBytes(lock.newLayerBytes)} to push)${dropped}`;
  }
  const kept = lock.lockRegistryBytes ?? lock.registryBytes;
  const extra = lock.freshRegistryBytes === 0 ? 0 : kept / lock.freshRegistryBytes - 1;
  return (
    `${wrote}: ${ui.c.yellow('planned afresh')}: keeping the lock's layers would store ${formatBytes(kept - lock.freshRegistryBytes)} ` +
    `(+${(extra * 100).toFixed(1)}%) more than a fresh plan; ${push}`
  );
}

export function renderPlan(data: PlanData, ui: Ui): string {
  const s = data.summary;
  const lower = s.baselines.find((b) => b.kind === 'lower-bound');
  const out: string[] = [];
  out.push(
    `${ui.c.bold(formatCount(s.images))} images, ${ui.c.bold(formatCount(s.layers))} layers, ` +
      `${ui.c.bold(formatBytes(s.registryBytes))} in the registry` +
      (lower && s.uniqueBytes > 0 ? ` (${formatRatio(s.registryBytes / s.uniqueBytes)} the lower bound, ${formatBytes(s.uniqueBytes)})` : ''),
  );
  out.push(
    `layers per image: max ${formatCount(s.maxImageLayers)}, mean ${s.meanImageLayers.toFixed(1)}, ${formatCount(s.imagesAtBudget)} of ${formatCount(s.images)} at their budget ` +
      `(store-layer budget ${s.minBudget === s.maxBudget ? formatCount(s.minBudget) : `${formatCount(s.minBudget)}-${formatCount(s.maxBudget)}`}${data.plan.maxLayers ? `, maxLayers ${data.plan.maxLayers}` : ''}, churnWeight ${s.churnWeight})`,
  );
  out.push('');
  const rows = s.baselines
    .filter((b) => b.kind !== 'lower-bound')
    .map((b) => [b.label, formatCount(b.layers), formatBytes(b.registryBytes), (b.ratio >= 1 ? ui.c.green : ui.c.red)(formatLess(b.ratio, b.label))]);
  rows.unshift([ui.c.bold('planner (joint)'), formatCount(s.layers), formatBytes(s.registryBytes), '']);
  // The lower bound (each path once) has no layer budget: its layer count means nothing here.
  if (lower) rows.push(['lower bound: each path once', '-', formatBytes(lower.registryBytes), `${formatRatio(1 / lower.ratio)} this`]);
  out.push(table(['strategy', 'layers', 'registry', 'planner stores'], rows, ['left', 'right', 'right', 'left']));
  out.push('');
  out.push(lockLine(data, ui));
  return out.join('\n');
}
