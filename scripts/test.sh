#!/usr/bin/env bash
# Command 2 of the README: the whole test suite, setting up everything it needs itself
# (npm packages, the build, the Temporal and MinIO binaries; the tests start a private stack).
# Extra arguments go to jest, e.g. scripts/test.sh tests/unit. Ends with one line:
#   tests: N passed, M failed
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here/.."
"$here/install.sh" || { echo "tests: 0 passed, 1 failed"; exit 1; }

results="$(mktemp)"
started=$(date +%s)
# In band: the integration tests share one Temporal server and kill worker processes on purpose.
npx jest --runInBand --json --outputFile="$results" "$@"
status=$?
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  // A suite that could not run at all counts as one failure, so it can never pass silently.
  const broken = r.testResults.filter((s) => s.status === "failed" && s.assertionResults.length === 0).length;
  console.log(`suite took ${process.argv[2]}s`);
  console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests + broken} failed`);
' "$results" "$(( $(date +%s) - started ))" || { echo "tests: 0 passed, 1 failed"; status=1; }
rm -f "$results"
exit $status
