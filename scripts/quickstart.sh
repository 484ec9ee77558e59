#!/usr/bin/env bash
# The main job, on a fresh machine: install what is missing (Nix and friends from Debian's
# packages when root, otherwise print the command), install dependencies, then build every
# service image of the example monorepo with shared layers and print the savings report.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-system.sh
bash scripts/pnpm.sh install --frozen-lockfile --reporter=silent
node scripts/build.mjs --quiet
planner() { node apps/planner/dist/planner.js "$@"; }
start=$(date +%s)
planner build --all -C examples/x
echo
planner report -C examples/x
echo "main job took $(( $(date +%s) - start )) s (Nix builds, planning, layer builds and the report)"
