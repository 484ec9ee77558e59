import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';

export const NIX_FLAGS = ['--extra-experimental-features', 'nix-command flakes'];

export function nix(args: string[], cwd?: string): string {
  return execFileSync('nix', [...NIX_FLAGS, ...args], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 256 * 1024 * 1024 });
}

/**
 * A tiny derivation library for fixtures: builder /bin/sh, PATH from the host (sandbox is
 * off, there is no nixpkgs). Write it next to a fixture's default.nix and import it.
 */
export const FIXTURE_LIB = `
{
  run = name: script: deps: derivation {
    inherit name;
    system = builtins.currentSystem;
    builder = "/bin/sh";
    args = [ "-c" script ];
    PATH = "/usr/bin:/bin";
    deps = deps;
  };
}
`;

export function writeFixtureLib(dir: string): string {
  const file = path.join(dir, 'lib.nix');
  writeFileSync(file, FIXTURE_LIB);
  return file;
}

/** Builds attributes of a Nix file and returns their output paths (Nix 2.8 has no --print-out-paths). */
export function buildAttrs(file: string, attrs: string[]): string[] {
  nix(['build', '--no-link', '-f', file, ...attrs]);
  // nix build --json does not keep the installables' order; ask for the out paths in order.
  const list = attrs.map((a) => `(d.${JSON.stringify(a)}).outPath`).join(' ');
  return JSON.parse(nix(['eval', '--impure', '--json', '--expr', `let d = import ${JSON.stringify(file)}; in [ ${list} ]`])) as string[];
}

export function pathInfo(paths: string[]): { path: string; narHash: string; narSize: number; references: string[] }[] {
  const value = JSON.parse(nix(['path-info', '--json', '--recursive', ...paths])) as unknown;
  if (Array.isArray(value)) return value as never;
  return Object.entries(value as Record<string, any>).map(([p, v]) => ({ path: p, ...v }));
}
