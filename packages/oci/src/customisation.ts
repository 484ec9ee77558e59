import { lstatSync, readdirSync, type Dirent } from 'node:fs';
import path from 'node:path';
import { readError, sortEntries, type TarEntry } from './entries.js';

/**
 * The customisation layer's entries: the image's `contents` linked into `/` the way nixpkgs'
 * symlinkJoin (lndir) does it. Directories of every root are merged into real directories
 * (mode 0755); every file and symlink becomes a symlink to its absolute store path, so
 * `/bin/sh` or `/etc/ssl/certs/ca-bundle.crt` resolve into the store layers below. When two
 * roots provide the same name the earlier root in `contents` wins (lndir -silent). A symlink
 * to a directory is linked, not merged into. Roots that are not directories add nothing here
 * (they are still in the image through the store layers).
 */
export function customisationEntries(contents: readonly string[]): TarEntry[] {
  const nodes = new Map<string, TarEntry>();
  const join = (dir: string, rel: string): void => {
    let children: Dirent[];
    try {
      // File types from readdir: no lstat per file (roots can hold thousands).
      children = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    } catch (error) {
      throw readError(dir, error);
    }
    for (const child of children) {
      const name = child.name;
      const src = path.join(dir, name);
      const target = rel ? `${rel}/${name}` : name;
      const existing = nodes.get(target);
      if (child.isDirectory()) {
        if (!existing) nodes.set(target, { name: target, kind: 'dir', mode: 0o755, size: 0 });
        if (!existing || existing.kind === 'dir') join(src, target);
      } else if (!existing) {
        nodes.set(target, { name: target, kind: 'symlink', mode: 0o777, size: 0, linkname: src });
      }
    }
  };
  for (const root of contents) {
    let st;
    try {
      st = lstatSync(root);
    } catch (error) {
      throw readError(root, error);
    }
    if (st.isDirectory()) join(root, '');
  }
  return sortEntries([...nodes.values()]);
}
