#!/usr/bin/env bash
# The whole test suite: system tools, dependencies, typecheck, unit and end-to-end tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-system.sh
bash scripts/pnpm.sh install --frozen-lockfile --reporter=silent
node scripts/build.mjs --quiet
npx tsc -p tsconfig.json
npx vitest run "$@"
