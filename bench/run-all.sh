#!/usr/bin/env bash
# Runs every benchmark; each prints ratios against baselines measured in the same run.
# Output is also kept in bench/out/<name>.txt. Pass names to run a subset:
#   bash bench/run-all.sh load realism storage churn speed build push
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p bench/out
declare -A benches=(
  [load]="npx tsx bench/loading/load.ts"
  [realism]="npx tsx bench/layering/realism.ts"
  [storage]="npx tsx bench/layering/storage.ts"
  [churn]="npx tsx bench/layering/churn.ts"
  [speed]="node --import tsx bench/layering/speed.ts"
  [build]="npx tsx bench/build/build.bench.ts"
  [push]="npx tsx bench/push/push.ts"
)
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(load realism storage churn speed build push)
for name in "${names[@]}"; do
  cmd=${benches[$name]:?unknown bench $name}
  echo "== $name: $cmd"
  $cmd 2>&1 | tee "bench/out/$name.txt"
done
