import type { ImageConfigInput } from './types.js';

/** The OCI image config (image-spec `config.md`), fields in the order we write them. */
export interface OciImageConfig {
  created: string;
  architecture: string;
  os: string;
  variant?: string;
  config: Record<string, unknown>;
  rootfs: { type: 'layers'; diff_ids: string[] };
  history: HistoryEntry[];
}

export interface HistoryEntry {
  created?: string;
  created_by?: string;
  comment?: string;
  empty_layer?: boolean;
}

export function goArch(arch: string = process.arch): string {
  return ({ x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' } as Record<string, string>)[arch] ?? arch;
}

export function createdAt(sourceDateEpoch: number | undefined): string {
  const env = process.env.SOURCE_DATE_EPOCH;
  const seconds = sourceDateEpoch ?? (env && /^\d+$/.test(env) ? Number(env) : 0);
  return new Date(seconds * 1000).toISOString().replace(/\.000Z$/, 'Z');
}

function sortedObject<T>(value: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

const KEY_ORDER = ['User', 'ExposedPorts', 'Env', 'Entrypoint', 'Cmd', 'Volumes', 'WorkingDir', 'Labels', 'StopSignal'] as const;

/**
 * The container config: the base image's config overlaid with the manifest's, as dockerTools
 * does: Env is the base's list followed by ours (a variable set by both keeps only our value),
 * ExposedPorts, Volumes and Labels are merged (ours win), every other field is replaced.
 * Keys come out in a fixed order and maps sorted, so the bytes do not depend on input order.
 */
export function mergeContainerConfig(base: Record<string, unknown> | undefined, ours: ImageConfigInput | undefined): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...(base ?? {}) };
  const o = ours ?? {};
  for (const key of ['User', 'Entrypoint', 'Cmd', 'WorkingDir', 'StopSignal'] as const) {
    if (o[key] !== undefined) merged[key] = o[key];
  }
  if (o.Env !== undefined) {
    const names = new Set(o.Env.map((e) => e.split('=')[0]));
    const baseEnv = Array.isArray(merged.Env) ? (merged.Env as string[]) : [];
    merged.Env = [...baseEnv.filter((e) => !names.has(e.split('=')[0])), ...o.Env];
  }
  for (const key of ['ExposedPorts', 'Volumes', 'Labels'] as const) {
    if (o[key] === undefined) continue;
    const b = merged[key] && typeof merged[key] === 'object' ? (merged[key] as Record<string, unknown>) : {};
    merged[key] = { ...b, ...(o[key] as Record<string, unknown>) };
  }
  const out: Record<string, unknown> = {};
  for (const key of KEY_ORDER) {
    const v = merged[key];
    if (v === undefined || v === null) continue;
    out[key] = typeof v === 'object' && !Array.isArray(v) ? sortedObject(v as Record<string, unknown>) : v;
  }
  // Fields of the base config we do not know (Healthcheck, OnBuild, ...) stay, in sorted order.
  for (const key of Object.keys(merged).sort()) {
    if (!(key in out) && merged[key] !== undefined && merged[key] !== null && !(KEY_ORDER as readonly string[]).includes(key)) out[key] = merged[key];
  }
  return out;
}
