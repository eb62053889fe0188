#!/usr/bin/env bash
# Memory per idle connection (issue 17: under 30 KiB of RSS per idle connection holding one subscription), alone: the
# part of bench.sh that measures it, with more connection counts and rounds, without its 10 minutes of throughput runs.
# For each round, each count and each server in turn (the hub with its memory log, the hub in its default configuration
# on SQLite, the plain-SignalR baseline, and with --before DIR the same hubs built from another checkout, labelled
# *-before), a fresh server process: tests/Hub.LoadGen --idle connects that many WebSockets (subscribed on the hub, connect
# only on the baseline) after a warm-up round of 200 that come and go, lets them sit 3 s and reads the server's RSS (/proc/PID/status): (connected − before) ÷ count.
# Medians over the rounds, as a markdown table on stdout; also the cost of each connection beyond the first count
# (the slope between the two counts), which leaves out what does not grow with connections (code compiled at its
# final tier while the first ones connect, the garbage collector's first growth).
#
#   tests/bench-memory.sh                                  # 1,000 and 2,000 connections, 3 rounds: about 8 minutes on 2 cores
#   tests/bench-memory.sh --counts "1000 5000" --runs 5 --before /tmp/hub-before
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

runs=3
counts="1000 2000"
before=""
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --counts) counts=$2; shift 2 ;;
    --before) before=$2; shift 2 ;;
    *) echo "usage: $0 [--runs N] [--counts \"N1 N2\"] [--before DIR]" >&2; exit 2 ;;
  esac
done

work=$(mktemp -d)
declare -A pids urls dirs
source tests/bench-servers.sh
trap 'stop_servers; rm -rf "$work"' EXIT

echo "== build (Release)" >&2
for project in src/Hub.Server tests/Hub.Baseline tests/Hub.LoadGen; do
  dotnet build "$project" -c Release -v quiet -nologo | grep -E "error|Warn|Elapsed" >&2 || true
done
loadgen=$PWD/tests/Hub.LoadGen/bin/Release/net10.0/Hub.LoadGen.dll
dirs[now]=$PWD/src/Hub.Server/bin/Release/net10.0
[ -n "$before" ] && dirs[before]=$before/src/Hub.Server/bin/Release/net10.0
baseline_dir=$PWD/tests/Hub.Baseline/bin/Release/net10.0

servers=(hub-memory hub-sqlite)
[ -n "$before" ] && servers+=(hub-memory-before hub-sqlite-before)
servers+=(baseline)
mkdir -p "$work/results"
for run in $(seq 1 "$runs"); do
  for count in $counts; do
    for server in "${servers[@]}"; do
      start_server "$server"
      target=hub
      [ "$server" = baseline ] && target=baseline
      dotnet "$loadgen" --url "${urls[$server]}" --target "$target" --server-pid "${pids[$server]}" --label "idle/$server" \
        --subscribers "$count" --idle --settle 3 >"$work/results/$server.$count.$run.json" 2>"$work/table.txt" || { cat "$work/table.txt" >&2; exit 1; }
      echo "   round $run, $count connections, $server: $(grep -o 'per connection [0-9,]* B' "$work/table.txt")" >&2
      stop_servers
    done
  done
done

python3 - "$work/results" "$runs" "${servers[@]}" <<'PY'
import json, os, statistics, sys
folder, runs, servers = sys.argv[1], sys.argv[2], sys.argv[3:]
figures = {}
for name in os.listdir(folder):
    server, count, _ = name.rsplit('.', 3)[0], int(name.rsplit('.', 3)[1]), name
    report = json.load(open(os.path.join(folder, name)))['server']
    figures.setdefault((server, count), []).append(report)
counts = sorted({c for _, c in figures})
def kib(b): return f"{b / 1024:.1f} KiB"
print(f"Memory per idle connection: medians of {runs} rounds, a fresh server per run "
      "(RSS connected − RSS before, ÷ connections; the hub's connections each hold one subscription).")
print()
print("| server | " + " | ".join(f"{c:,} connections" for c in counts) + (" | each connection beyond the first count |" if len(counts) > 1 else " |"))
print("|---|" + "---:|" * (len(counts) + (1 if len(counts) > 1 else 0)))
for server in servers:
    cells, grown = [], {}
    for c in counts:
        runs_ = figures.get((server, c), [])
        per = statistics.median(r['bytesPerConnection'] for r in runs_)
        grown[c] = statistics.median((r['rssConnectedKb'] - r['rssBeforeKb']) * 1024 for r in runs_)
        cells.append(f"{kib(per)} ({', '.join(kib(r['bytesPerConnection']) for r in runs_)})")
    if len(counts) > 1:
        lo, hi = counts[0], counts[-1]
        cells.append(kib((grown[hi] - grown[lo]) / (hi - lo)))
    print(f"| {server} | " + " | ".join(cells) + " |")
PY
