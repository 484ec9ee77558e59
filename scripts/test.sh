#!/usr/bin/env bash
# The whole test suite: system tools, dependencies, typecheck, lint, format, unit and end-to-end tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-system.sh
bash scripts/pnpm.sh install --frozen-lockfile --reporter=silent
node scripts/build.mjs --quiet
npx tsc -p tsconfig.json
npx eslint .
npx prettier --check --log-level warn "**/*.{ts,mjs,js}"
report=$(mktemp)
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@" || status=$?
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped`);
' "$report" 2>/dev/null || true
rm -f "$report"
exit $status
