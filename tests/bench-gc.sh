#!/usr/bin/env bash
# GC cliffs: p99 publish→receive at a fixed 10,000 events/s to 100 subscribers with a full retention window, the memory
# log beside SQLite and the plain-SignalR baseline, side by side in one run (the runs going round the servers in turn),
# medians of N rounds, with each server's gen2 collections and GC pause time during the measured runs (dotnet-counters,
# the runtime's System.Runtime meter: dotnet.gc.collections by generation, dotnet.gc.pause.time).
#
# Before measuring, each hub is filled with --fill events at max rate (1 subscriber), so that the memory log holds
# its whole retention window (Hub:Log:Retention:MaxEvents, 1,000,000 by default) as it did at the end of bench.sh.
# --before DIR adds the same hubs built from another checkout (e.g. `git worktree`/`git archive` of main, built with
# `dotnet build src/Hub.Server -c Release`), labelled *-before. --wks adds the memory hub on workstation GC.
#
#   tests/bench-gc.sh --runs 3 --before /tmp/gc-before --out docs/benchmarks-gc.md   # about 6 minutes on 2 cores
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

runs=3
before=""
wks=0
fill=1100000
out=docs/benchmarks-gc.md
counters=${DOTNET_COUNTERS:-/tmp/gct/dotnet-counters}
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --before) before=$2; shift 2 ;;
    --wks) wks=1; shift ;;
    --fill) fill=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) echo "usage: $0 [--runs N] [--before DIR] [--wks] [--fill EVENTS] [--out FILE]" >&2; exit 2 ;;
  esac
done
if [ ! -x "$counters" ]; then
  echo "dotnet-counters not found at $counters: dotnet tool install --tool-path /tmp/gct dotnet-counters (or set DOTNET_COUNTERS)" >&2
  exit 2
fi

started=$(date +%s)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
work=$(mktemp -d)
declare -A pids urls dirs
source tests/bench-servers.sh
trap 'stop_servers; rm -rf "$work"' EXIT

build_servers "$before"


servers=(hub-memory hub-sqlite)
[ -n "$before" ] && servers+=(hub-memory-before hub-sqlite-before)
[ "$wks" -eq 1 ] && servers+=(hub-memory-wks)
servers+=(baseline)
results=$work/results
mkdir -p "$results"

echo "== start: ${servers[*]}"
for server in "${servers[@]}"; do
  case "$server" in
    *-wks) start_server "$server" DOTNET_gcServer=0 ;; # workstation GC, beside the default (server GC)
    *) start_server "$server" ;;
  esac
done

echo "== fill each memory hub with $fill events (max rate, 1 subscriber)"
for server in "${servers[@]}"; do
  case "$server" in hub-memory*) ;; *) continue ;; esac # SQLite keeps a 10,000-event tail in memory however full its file is
  dotnet "$loadgen" --url "${urls[$server]}" --target hub --label "fill/$server" --subscribers 1 --publishers 4 --batch 100 \
    --duration 120 --events "$fill" --drain 2 --json >/dev/null 2>"$work/fill.txt" || { cat "$work/fill.txt" >&2; exit 1; }
  echo "   $server: head $(curl -s "${urls[$server]}/api/topics" | python3 -c 'import json,sys; t=json.load(sys.stdin); print(max((x.get("lastSequence",0) for x in t), default=0))' 2>/dev/null || echo '?')"
done

# one_run SERVER RUN: the latency scenario, with dotnet-counters on the server for its duration.
one_run() {
  local server=$1 run=$2 target=hub counters_pid
  [ "$server" = baseline ] && target=baseline
  "$counters" collect -p "${pids[$server]}" --counters System.Runtime --refresh-interval 1 --format csv \
    -o "$results/gc.$server.$run.csv" >/dev/null 2>&1 &
  counters_pid=$!
  sleep 1
  dotnet "$loadgen" --url "${urls[$server]}" --target "$target" --server-pid "${pids[$server]}" --label "lat/$server" \
    --subscribers 100 --rate 10000 --duration 4 --publishers 4 --batch 100 --drain 5 \
    >"$results/lat.$server.$run.json" 2>"$work/table.txt" || { cat "$work/table.txt" >&2; exit 1; }
  kill "$counters_pid" 2>/dev/null || true
  wait "$counters_pid" 2>/dev/null || true
  sed -n '1,4p' "$work/table.txt"
}

echo "== $runs round(s) of 10,000 events/s to 100 subscribers on each server"
for run in $(seq 1 "$runs"); do
  for server in "${servers[@]}"; do one_run "$server" "$run"; done
  echo "   round $run done ($(( $(date +%s) - started )) s so far)"
done
stop_servers

elapsed=$(( $(date +%s) - started ))
{
  echo "# GC cliffs: p99 at 10,000 events/s to 100 subscribers with a full retention window"
  echo
  echo "Written by \`tests/bench-gc.sh --runs $runs${before:+ --before DIR}\` ($runs round(s), the servers side by side and the runs going round them in turn; medians; $elapsed s in all)."
  echo
  echo "- date: $(date -u +%Y-%m-%dT%H:%MZ)"
  echo "- machine: $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n 1), $(awk '/MemTotal/ {printf "%.0f GiB RAM", $2/1048576}' /proc/meminfo), $(uname -sr)"
  echo "- .NET: $(dotnet --version) SDK"
  echo "- load average (1, 5, 15 min) at the start: $load_before; at the end: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine shows here)"
  echo "- commit: $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src tests || echo ' (with local changes)')${before:+; *-before: the checkout in \`$before\`}"
  echo
  echo "Each memory hub was first filled with $fill events at max rate (so the memory log holds its 1,000,000-event retention"
  echo "window); then 4 publishers POST batches of 100 at a fixed 10,000 events/s for 4 s to 100 subscribers."
  echo
  dotnet "$loadgen" --summarize "$results" | sed -n '/p99/,/^$/p'
  echo
  echo "GC during each measured run (dotnet-counters, 1 s samples of the System.Runtime meter; medians over the runs):"
  echo
  python3 - "$results" "${servers[@]}" <<'PY'
import csv, glob, statistics, sys
folder, servers = sys.argv[1], sys.argv[2:]
print("| server | gen0 | gen1 | gen2 collections | GC pause time, total | most pause time in one 1 s sample | gen2 heap after a GC, largest |")
print("|---|---:|---:|---:|---:|---:|---:|")
for server in servers:
    rows = []
    for path in sorted(glob.glob(f"{folder}/gc.{server}.*.csv")):
        gens, pause, worst, heap = {"gen0": 0.0, "gen1": 0.0, "gen2": 0.0}, 0.0, 0.0, 0.0
        with open(path, newline="") as f:
            for r in csv.DictReader(f):
                name = r.get("Counter Name", "")
                value = float(r.get("Mean/Increment") or 0)
                if name.startswith("dotnet.gc.collections"):
                    for g in gens:
                        if g in name:
                            gens[g] += value
                elif name.startswith("dotnet.gc.last_collection.heap.size") and "gen2" in name:
                    heap = max(heap, value)
                elif name.startswith("dotnet.gc.pause.time"):
                    pause += value
                    worst = max(worst, value)
        rows.append((gens["gen0"], gens["gen1"], gens["gen2"], pause, worst, heap))
    if not rows:
        continue
    m = [statistics.median(c) for c in zip(*rows)]
    print(f"| {server} | {m[0]:.0f} | {m[1]:.0f} | {m[2]:.0f} | {m[3]*1000:.0f} ms | {m[4]*1000:.0f} ms | {m[5]/1048576:.0f} MiB |")
PY
} >"$out"
echo "== wrote $out ($elapsed s)"
