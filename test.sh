#!/usr/bin/env bash
# Runs every test in the solution and ends with one line: "N passed, N failed[, N skipped]".
# Usage: ./test.sh [--reference DIR] [--slow] [extra dotnet test arguments, e.g. --filter Category!=Slow]
#   --slow           the deployment's scale test at full size: 60,000 idle connections over four gateway processes
#                    (WSGW_SCALE_CONNECTIONS=60000; 12,000 without it), the figure docs/deployment.md quotes.
#   --reference DIR  also runs the reference suite (tests with [Trait("Category", "Reference")]): the checks against
#                    exchange schemas and captures the repository may not redistribute. DIR is laid out like
#                    tests/data/sbe, with exchanges/ and vectors/ (tests/data/sbe/README.md lists what it holds); it
#                    is passed to the tests as WSGW_SBE_REFERENCE. Without it, the suite is filtered out, not run,
#                    and not counted; the output says so.
# Anything the tests need beyond the .NET SDK is installed and started here.
set -uo pipefail

reference=""
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --reference=*) reference="${1#--reference=}"; shift ;;
    --reference)
      if [ $# -lt 2 ] || [ -z "$2" ]; then
        echo "test.sh: --reference needs a folder laid out like tests/data/sbe (with exchanges/ and vectors/)" >&2
        echo "0 passed, 1 failed"; exit 2
      fi
      reference="$2"; shift 2 ;;
    --slow) export WSGW_SCALE_CONNECTIONS=60000; shift ;;
    *) args+=("$1"); shift ;;
  esac
done
if [ -n "$reference" ]; then
  if [ ! -d "$reference/exchanges" ]; then
    echo "test.sh: --reference $reference: no exchanges/ folder there; expected a folder laid out like tests/data/sbe, with exchanges/ and vectors/ (see tests/data/sbe/README.md)" >&2
    echo "0 passed, 1 failed"; exit 2
  fi
  WSGW_SBE_REFERENCE="$(cd "$reference" && pwd)"
  export WSGW_SBE_REFERENCE
else
  # Leave the reference suite out: add it to the caller's --filter, if any, or add a filter.
  unset WSGW_SBE_REFERENCE
  exclude="Category!=Reference"
  filtered=0
  for i in "${!args[@]}"; do
    case "${args[$i]}" in
      --filter=*) args[$i]="--filter=(${args[$i]#--filter=})&$exclude"; filtered=1 ;;
      --filter) next=$((i + 1)); if [ -n "${args[$next]:-}" ]; then args[$next]="(${args[$next]})&$exclude"; filtered=1; fi ;;
    esac
  done
  [ "$filtered" -eq 1 ] || args+=(--filter "$exclude")
fi

cd "$(dirname "$0")"

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

# The browser tests (tests/WsGateway.Browser.Tests) drive Debian's chromium with npm playwright-core, pinned in
# js/package-lock.json. Installed here when missing, quietly; never a downloaded browser. If this fails, those tests
# fail and say what is missing.
browser_js=tests/WsGateway.Browser.Tests/js
command -v chromium >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium) >/dev/null 2>&1 \
  || echo "test.sh: could not install chromium (apt-get install --no-install-recommends chromium)" >&2
# The PostgreSQL sink tests start their own server (initdb and pg_ctl of Debian's postgresql-15, in a temp folder).
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq --no-install-recommends postgresql-15) >/dev/null 2>&1 \
  || echo "test.sh: could not install PostgreSQL (apt-get install --no-install-recommends postgresql-15)" >&2
# The sink tests (tests/WsGateway.Sinks.Tests) start their own nats-server cluster on 127.0.0.1.
command -v nats-server >/dev/null 2>&1 || [ -x /usr/sbin/nats-server ] || (apt-get update -qq && apt-get install -y -qq nats-server) >/dev/null 2>&1 \
  || echo "test.sh: could not install nats-server (apt-get install nats-server)" >&2
# The deployment tests (tests/WsGateway.Sinks.Tests/Deployment) put Debian's HAProxy in front of three gateways.
command -v haproxy >/dev/null 2>&1 || [ -x /usr/sbin/haproxy ] || (apt-get update -qq && apt-get install -y -qq --no-install-recommends haproxy) >/dev/null 2>&1 \
  || echo "test.sh: could not install haproxy (apt-get install --no-install-recommends haproxy)" >&2
if [ ! -f "$browser_js/node_modules/playwright-core/package.json" ] \
  || [ "$(node -p "require('./$browser_js/node_modules/playwright-core/package.json').version" 2>/dev/null)" != \
       "$(node -p "require('./$browser_js/package-lock.json').packages['node_modules/playwright-core'].version" 2>/dev/null)" ]; then
  (cd "$browser_js" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error >/dev/null) \
    || echo "test.sh: npm ci failed in $browser_js (needs node and npm)" >&2
fi
# The wss:// interoperability test (tests/WsGateway.Cli.Tests, TlsProcessTests) runs the npm ws package, pinned in
# js/package-lock.json, on Node.
cli_js=tests/WsGateway.Cli.Tests/js
if [ ! -f "$cli_js/node_modules/ws/package.json" ] \
  || [ "$(node -p "require('./$cli_js/node_modules/ws/package.json').version" 2>/dev/null)" != \
       "$(node -p "require('./$cli_js/package-lock.json').packages['node_modules/ws'].version" 2>/dev/null)" ]; then
  (cd "$cli_js" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) \
    || echo "test.sh: npm ci failed in $cli_js (needs node and npm)" >&2
fi

results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT

dotnet build WsGateway.sln -c Release -nologo -v quiet || { echo "0 passed, 1 failed"; exit 1; }

dotnet test WsGateway.sln -c Release --no-build -nologo \
  --logger "trx" --results-directory "$results" ${args[@]+"${args[@]}"}
status=$?

# The standalone server runs on the native transport by default (Linux); the connection suite (conformance table,
# lifecycle, fault and soak tests) and the examples run once more on Kestrel's transport.
for project in tests/WsGateway.Tests tests/WsGateway.Examples.Tests; do
  WSGW_TEST_TRANSPORT=kestrel dotnet test "$project" -c Release --no-build -nologo \
    --logger "trx;LogFilePrefix=kestrel" --results-directory "$results" ${args[@]+"${args[@]}"} || status=1
done

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
if [ -n "$reference" ]; then
  echo "test.sh: the reference suite ran, with the exchange data of $WSGW_SBE_REFERENCE"
else
  echo "test.sh: the reference suite did not run (tests of exchange schemas and captures that are not in the repository; not counted below); run it with ./test.sh --reference DIR, DIR laid out like tests/data/sbe (see tests/data/sbe/README.md)"
fi
if [ "$skipped" -gt 0 ]; then
  echo "$passed passed, $failed failed, $skipped skipped"
else
  echo "$passed passed, $failed failed"
fi
exit "$status"
