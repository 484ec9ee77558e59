#!/usr/bin/env bash
# Runs the pnpm this repository pins (package.json "packageManager"), without needing a
# global install: the one already running us, a pnpm on PATH of the same version, or npx.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
version=$(node -p "require('$root/package.json').packageManager.split('@')[1]")
if [ -n "${npm_execpath:-}" ] && [[ "$npm_execpath" == *pnpm* ]]; then
  exec node "$npm_execpath" "$@"
elif command -v pnpm >/dev/null 2>&1 && [ "$(pnpm --version 2>/dev/null)" = "$version" ]; then
  exec pnpm "$@"
else
  exec npx --yes "pnpm@$version" "$@"
fi
