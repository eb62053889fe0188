#!/usr/bin/env bash
# Runs every test of Hub on a fresh machine with the .NET SDK and Node/npm: installs what the tests need (Debian's
# Chromium and PostgreSQL, npm packages from package-lock.json), starts a throwaway PostgreSQL cluster (tests/postgres.sh:
# its connection string is HUB_TEST_POSTGRES; it is stopped and removed on exit), builds in Release, runs the .NET suites (unit and integration, on
# Kestrel at 127.0.0.1 with real WebSockets), the contract suite (the official @microsoft/signalr client against a real
# hub process) and the page tests (headless Chromium), then prints one line: "N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

log_dir=$(mktemp -d)
cleanup() {
  tests/postgres.sh stop || true
  rm -rf "$log_dir"
}
trap cleanup EXIT

echo "== install: Chromium for the page tests (Debian's package), npm packages for the Node tests and the client generators"
if [ ! -x "${CHROMIUM:-/usr/bin/chromium}" ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
echo "== PostgreSQL: Debian's package if missing, a throwaway cluster on 127.0.0.1 (the engine's tests and the multi-node tests)"
pg_env=$(tests/postgres.sh start) # an assignment, so that a failed start stops the run (set -e)
eval "$pg_env"
for dir in tests/contract tests/browser tests/clients; do
  (cd "$dir" && npm ci --no-audit --no-fund)
done

echo "== build (Release)"
dotnet build Hub.sln -c Release

passed=0
failed=0
status=0

# A suite is honest only if it printed its summary, ran at least one test, skipped none and failed none; anything
# else fails the run (and counts as one failure when the suite printed no count of its own).
refuse() { echo "test.sh: $1" >&2; status=1; }

echo "== .NET tests"
set +e
dotnet test Hub.sln -c Release --no-build 2>&1 | tee "$log_dir/dotnet.log"
[ "${PIPESTATUS[0]}" -eq 0 ] || refuse "dotnet test exited non-zero"
set -e
# Every test project (IsTestProject) must print its own "Passed!/Failed! - Failed: f, Passed: p, Skipped: s, Total: t … - Name.dll" line.
for project in $(grep -l '<IsTestProject>true</IsTestProject>' tests/*/*.csproj); do
  assembly=$(basename "$project" .csproj)
  summary=$(grep -E "(Passed|Failed)!.* - ${assembly}\.dll" "$log_dir/dotnet.log" | tail -n 1 || true)
  if [ -z "$summary" ]; then
    refuse "$assembly printed no test summary"; failed=$((failed + 1)); continue
  fi
  read -r f p s t < <(sed -nE 's/.*Failed:\s+([0-9]+),\s+Passed:\s+([0-9]+),\s+Skipped:\s+([0-9]+),\s+Total:\s+([0-9]+).*/\1 \2 \3 \4/p' <<<"$summary")
  if [ -z "${t:-}" ]; then refuse "$assembly: unreadable summary: $summary"; failed=$((failed + 1)); continue; fi
  [ "$t" -gt 0 ] || refuse "$assembly ran zero tests"
  [ "$s" -eq 0 ] || refuse "$assembly skipped $s tests"
  [ "$f" -eq 0 ] || refuse "$assembly: $f failed"
  passed=$((passed + p)); failed=$((failed + f))
done

hub_dll="$PWD/src/Hub.Server/bin/Release/net10.0/Hub.Server.dll"
# node --test prints "# tests N", "# pass N", "# fail N", "# skipped N", "# todo N" at the end of a run.
node_suite() {
  local name=$1 dir=$2; shift 2
  local log="$log_dir/$name.log"
  set +e
  (cd "$dir" && HUB_DLL="$hub_dll" "$@" 2>&1) | tee "$log"
  [ "${PIPESTATUS[0]}" -eq 0 ] || refuse "$name exited non-zero"
  set -e
  local t p f s d
  t=$(sed -nE 's/^# tests ([0-9]+)$/\1/p' "$log" | tail -n 1)
  p=$(sed -nE 's/^# pass ([0-9]+)$/\1/p' "$log" | tail -n 1)
  f=$(sed -nE 's/^# fail ([0-9]+)$/\1/p' "$log" | tail -n 1)
  s=$(sed -nE 's/^# skipped ([0-9]+)$/\1/p' "$log" | tail -n 1)
  d=$(sed -nE 's/^# todo ([0-9]+)$/\1/p' "$log" | tail -n 1)
  if [ -z "$t" ] || [ -z "$p" ] || [ -z "$f" ]; then
    refuse "$name printed no test summary"; failed=$((failed + 1)); return
  fi
  [ "$t" -gt 0 ] || refuse "$name ran zero tests"
  [ "${s:-0}" -eq 0 ] || refuse "$name skipped $s tests"
  [ "${d:-0}" -eq 0 ] || refuse "$name has $d todo tests"
  [ "$f" -eq 0 ] || refuse "$name: $f failed"
  passed=$((passed + p)); failed=$((failed + f))
}

echo "== contract tests (official @microsoft/signalr client, plain HTTP)"
node_suite contract tests/contract npm test

echo "== page tests (headless Chromium: dashboard, demo, hub-client.js in the browser)"
export SCREENSHOT_DIR="${SCREENSHOT_DIR:-$PWD/tests/browser/screenshots/$(date -u +%Y%m%dT%H%M%SZ)}"
node_suite browser tests/browser npm test
echo "screenshots: $SCREENSHOT_DIR"

echo "== generated TypeScript client (@hey-api/openapi-ts, from the build-time OpenAPI document, against a real hub process)"
node_suite clients tests/clients npm test

[ "$passed" -gt 0 ] || refuse "no test ran"
[ "$failed" -eq 0 ] || status=1

# Name what failed where the last lines of the run (all a CI summary may show) can be read.
if [ "$status" -ne 0 ]; then
  echo "== what failed"
  grep -hE '^\s+Failed [A-Za-z_].* \[' "$log_dir/dotnet.log" | sed -E 's/^\s+/  .NET: /' | head -n 40 || true
  for name in contract browser clients; do
    [ -f "$log_dir/$name.log" ] && grep -hE '^not ok ' "$log_dir/$name.log" | sed -E "s/^/  $name: /" | head -n 20 || true
  done
fi

echo "$passed passed, $failed failed"
exit "$status"
