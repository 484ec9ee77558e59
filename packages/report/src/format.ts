/** Number formatting shared by messages, Markdown and HTML (no colour here). */

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** 4617089024 -> "4.3 GiB" (binary units, one decimal above bytes). */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${UNITS[unit]}`;
}

/** "+1.2 MiB" / "-300 B" / "0 B". */
export function formatSignedBytes(bytes: number): string {
  return bytes > 0 ? `+${formatBytes(bytes)}` : bytes < 0 ? `-${formatBytes(-bytes)}` : '0 B';
}

/** An image's closure growth against the base: "+1.2 MiB (+4.0%)", "0 B (+0.0%)", "-" for a new image. */
export function formatGrowth(closure: { growthBytes: number | null; growthRatio: number | null }): string {
  if (closure.growthBytes === null) return '-';
  const ratio = closure.growthRatio === null ? '' : ` (${formatSignedPercent(closure.growthRatio)})`;
  return `${formatSignedBytes(closure.growthBytes)}${ratio}`;
}

export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

/** "2.60x", "-" for null. */
export function formatRatio(ratio: number | null): string {
  return ratio !== null && Number.isFinite(ratio) ? `${ratio.toFixed(2)}x` : '-';
}

export function formatPercent(fraction: number | null): string {
  return fraction !== null && Number.isFinite(fraction) ? `${(fraction * 100).toFixed(1)}%` : '-';
}

/** "+52.4%", "-3.0%", "+0.0%". */
export function formatSignedPercent(fraction: number): string {
  return `${fraction >= 0 ? '+' : ''}${formatPercent(fraction)}`;
}

/** The part of a store path after the hash: "openssl-3.0.20". */
export function storeName(storePath: string): string {
  const base = storePath.slice(storePath.lastIndexOf('/') + 1);
  return /^[0-9a-z]{32}-/.test(base) ? base.slice(33) : base;
}

/** A change of a ratio: "+0.12", "-0.03", "0.00" (no sign for what rounds to zero). */
export function formatChange(delta: number): string {
  const text = Math.abs(delta).toFixed(2);
  return text === '0.00' ? '0.00' : `${delta > 0 ? '+' : '-'}${text}`;
}

/** "1 image", "3 images" (count formatted with thousands separators). */
export function plural(n: number, word: string, many = `${word}s`): string {
  return `${formatCount(n)} ${n === 1 ? word : many}`;
}

/**
 * A savings ratio (`baseline / planner`) in words: "2.16x less than X", "1.05x more than X"
 * when below 1 (never "0.95x less"), "the same as X" when it rounds to 1.00x, "- vs X"
 * when unknown. Without `than`, just "2.16x less" / "the same".
 */
export function formatLess(ratio: number | null, than?: string): string {
  const known = ratio !== null && Number.isFinite(ratio) && ratio > 0;
  const factor = known ? Math.max(ratio, 1 / ratio).toFixed(2) : '';
  if (than === undefined) return !known ? '-' : factor === '1.00' ? 'the same' : `${factor}x ${ratio > 1 ? 'less' : 'more'}`;
  return !known ? `- vs ${than}` : factor === '1.00' ? `the same as ${than}` : `${factor}x ${ratio > 1 ? 'less' : 'more'} than ${than}`;
}
