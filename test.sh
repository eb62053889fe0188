#!/usr/bin/env bash
# Runs every test of Hub on a fresh machine with the .NET SDK and Node/npm: installs what the tests need (Debian's
# Chromium, npm packages from package-lock.json), builds in Release, runs the .NET suites (unit and integration, on
# Kestrel at 127.0.0.1 with real WebSockets), the contract suite (the official @microsoft/signalr client against a real
# hub process) and the page tests (headless Chromium), then prints one line: "N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

log_dir=$(mktemp -d)
trap 'rm -rf "$log_dir"' EXIT

echo "== install: Chromium for the page tests (Debian's package), npm packages for the Node tests and the client generators"
if [ ! -x "${CHROMIUM:-/usr/bin/chromium}" ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
for dir in tests/contract tests/browser tests/clients; do
  (cd "$dir" && npm ci --no-audit --no-fund)
done

echo "== build (Release)"
dotnet build Hub.sln -c Release

passed=0
failed=0
status=0

echo "== .NET tests"
set +e
dotnet test Hub.sln -c Release --no-build 2>&1 | tee "$log_dir/dotnet.log"
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1
set -e
while read -r f p; do
  passed=$((passed + p)); failed=$((failed + f))
done < <(sed -nE 's/.*(Passed|Failed)!\s+-\s+Failed:\s+([0-9]+),\s+Passed:\s+([0-9]+).*/\2 \3/p' "$log_dir/dotnet.log")

echo "== contract tests (official @microsoft/signalr client, plain HTTP)"
set +e
(cd tests/contract && HUB_DLL="$PWD/../../src/Hub.Server/bin/Release/net10.0/Hub.Server.dll" npm test 2>&1) | tee "$log_dir/contract.log"
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1
set -e

echo "== page tests (headless Chromium: dashboard, demo, hub-client.js in the browser)"
export SCREENSHOT_DIR="${SCREENSHOT_DIR:-$PWD/tests/browser/screenshots/$(date -u +%Y%m%dT%H%M%SZ)}"
set +e
(cd tests/browser && HUB_DLL="$PWD/../../src/Hub.Server/bin/Release/net10.0/Hub.Server.dll" npm test 2>&1) | tee "$log_dir/browser.log"
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1
set -e
echo "screenshots: $SCREENSHOT_DIR"


echo "== generated TypeScript client (@hey-api/openapi-ts, from the build-time OpenAPI document, against a real hub process)"
set +e
(cd tests/clients && HUB_DLL="$PWD/../../src/Hub.Server/bin/Release/net10.0/Hub.Server.dll" npm test 2>&1) | tee "$log_dir/clients.log"
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1
set -e

for node_log in "$log_dir/contract.log" "$log_dir/browser.log" "$log_dir/clients.log"; do
  p=$(sed -nE 's/^# pass ([0-9]+)$/\1/p' "$node_log" | tail -n 1)
  f=$(sed -nE 's/^# fail ([0-9]+)$/\1/p' "$node_log" | tail -n 1)
  # A suite that printed no count (it did not run) counts as one failure.
  [ -n "$p$f" ] || f=1
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
done

if [ "$passed" -eq 0 ]; then
  echo "no test ran" >&2
  status=1
fi

echo "$passed passed, $failed failed"
exit "$status"
