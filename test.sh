#!/usr/bin/env bash
# Runs every test in the solution and ends with one line: "N passed, N failed[, N skipped]".
# Usage: ./test.sh [extra dotnet test arguments, e.g. --filter Category!=Slow]
# Anything the tests need beyond the .NET SDK is installed and started here.
set -uo pipefail
cd "$(dirname "$0")"

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT

dotnet build WsGateway.sln -c Release -nologo -v quiet || { echo "0 passed, 1 failed"; exit 1; }

dotnet test WsGateway.sln -c Release --no-build -nologo \
  --logger "trx" --results-directory "$results" "$@"
status=$?

# Sum the counters of every TRX file: dotnet test's own summary is per assembly.
passed=0; failed=0; skipped=0
for f in "$results"/*.trx; do
  [ -f "$f" ] || continue
  line=$(grep -o '<Counters [^>]*>' "$f" | head -n 1)
  get() { echo "$line" | sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p"; }
  passed=$((passed + $(get passed)))
  failed=$((failed + $(get failed) + $(get error) + $(get timeout) + $(get aborted)))
  skipped=$((skipped + $(get notExecuted)))
done
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
if [ "$skipped" -gt 0 ]; then
  echo "$passed passed, $failed failed, $skipped skipped"
else
  echo "$passed passed, $failed failed"
fi
exit "$status"
