/** One store object as Nix describes it. `references` never contains the path itself. */
export interface PathInfo {
  path: string;
  narHash: string;
  narSize: number;
  /** Absolute store paths, sorted byte-wise, self-reference removed. */
  references: readonly string[];
}

/** A closure: every path reachable from some roots, keyed by absolute store path. */
export type Closure = ReadonlyMap<string, PathInfo>;
