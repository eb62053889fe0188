#!/usr/bin/env bash
# End-to-end benchmarks, side by side: builds in Release, then for each server — the Hub with its in-memory log
# (Hub__Log__Kind=Memory: fan-out without fsync), the Hub in its default configuration (SQLite log, Durability=Flush:
# synchronous=FULL), and the baseline app (Clients.All.SendAsync per event) — starts it as a child process on a free
# port on 127.0.0.1, drives it with tests/Hub.LoadGen, and stops it by its PID. Each round, on each server: 10 and 100
# subscribers at max rate with batches of 100, each also with one stalled subscriber (it stops reading its socket);
# 10 subscribers with batches of 10 and of 50 (requests/s: the request's own cost); a fixed 2,000 and 10,000 events/s
# to 100 subscribers (latency); and durable ingest (no subscribers, 8 publishers × 100, ~200-byte events) on the
# SQLite hub and on a second one with Durability=Process. Then idle subscribed connections on a fresh server each
# (memory per connection). Medians over the rounds; writes docs/benchmarks.md with a table of the issue's targets.
#
#   ./bench.sh                 # about 13 minutes on 2 cores (3 rounds)
#   ./bench.sh --runs 1        # one round (about 6 minutes)
#   ./bench.sh --quick         # smoke: one round of 2 s runs, no stalled scenarios, 200 idle connections (about 2 minutes)
#   ./bench.sh --core          # also the core BenchmarkDotNet suites (adds about 3 minutes)
#
# With --nodes, instead: several hub nodes on one PostgreSQL log (a throwaway cluster from tests/postgres.sh, a fresh
# database per setup) beside the Hub's default single SQLite node. Setups sqlite-1, pg-1, pg-2 and pg-3 (1 to 3 nodes),
# side by side, the runs going round them in turn; 30 subscribers spread evenly over the setup's nodes, 4 publishers × 100
# at max rate on node A ("one") or spread over every node ("all"); then a fixed 2,000 events/s published on node A
# and received by 10 subscribers on node B (pg-2; on one node for sqlite-1 and pg-1). Writes docs/benchmarks-nodes.md.
#
#   ./bench.sh --nodes --runs 3   # about 5 minutes on 2 cores
set -euo pipefail
cd "$(dirname "$0")"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

runs=3
duration=8
quick=0
idle_connections=1000
core=0
nodes=0
out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --quick) quick=1; runs=1; duration=2; idle_connections=200; shift ;;
    --core) core=1; shift ;;
    --nodes) nodes=1; shift ;;
    --out) out=$2; shift 2 ;;
    *) echo "usage: $0 [--runs N] [--duration S] [--quick] [--core] [--nodes] [--out FILE]" >&2; exit 2 ;;
  esac
done
if [ -z "$out" ]; then
  if [ "$nodes" -eq 1 ]; then out=docs/benchmarks-nodes.md; else out=docs/benchmarks.md; fi
fi

started=$(date +%s)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
work=$(mktemp -d)
declare -A pids urls dirs
source tests/bench-servers.sh
pg_started=0
cleanup() {
  stop_servers
  if [ "$pg_started" -eq 1 ]; then tests/postgres.sh stop || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

build_servers
hub_dir=${dirs[now]}


results=$work/results
mkdir -p "$results"
servers=(hub-memory hub-sqlite baseline)
fixed=$(( (duration + 1) / 2 ))
declare -A scenarios=(
  [s10]="--subscribers 10"
  [s10-stalled]="--subscribers 10 --stalled 1"
  [s100]="--subscribers 100"
  [s100-stalled]="--subscribers 100 --stalled 1"
  [b10]="--subscribers 10 --batch 10"
  [b50]="--subscribers 10 --batch 50"
  [lat2k]="--subscribers 100 --rate 2000 --duration $fixed"
  [lat]="--subscribers 100 --rate 10000 --duration $fixed"
  [ingest]="--subscribers 0 --publishers 8 --batch 100 --payload 150 --duration $fixed --drain 1"
)
order=(s10 s10-stalled s100 s100-stalled b10 b50 lat2k lat)
[ "$quick" -eq 1 ] && order=(s10 s100 b10 b50 lat2k lat)
ingest_servers=(hub-sqlite hub-sqlite-process)
load=(--duration "$duration" --publishers 4 --batch 100 --drain 5) # a scenario's own options come after, and win

# one_run SCENARIO SERVER RUN [EXTRA ARGS…]: one run of the load generator; its JSON line in the results folder.
one_run() {
  local name=$1 server=$2 run=$3 target=hub; shift 3
  [ "$server" = baseline ] && target=baseline
  # shellcheck disable=SC2086 # the scenario's options are words
  dotnet "$loadgen" --url "${urls[$server]}" --target "$target" --server-pid "${pids[$server]}" --label "$name/$server" \
    "$@" ${scenarios[$name]:-} >"$results/$name.$server.$run.json" 2>"$work/table.txt" || { cat "$work/table.txt" >&2; exit 1; }
  sed -n '1,3p' "$work/table.txt"
}

machine_lines() {
  echo "- date: $(date -u +%Y-%m-%dT%H:%MZ)"
  echo "- machine: $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n 1), $(awk '/MemTotal/ {printf "%.0f GiB RAM", $2/1048576}' /proc/meminfo), $(uname -sr)"
  echo "- .NET: $(dotnet --version) SDK, runtime $(dotnet --list-runtimes | sed -n 's/^Microsoft.AspNetCore.App \([^ ]*\).*/ASP.NET Core \1/p' | tail -n 1)"
  echo "- load average (1, 5, 15 min) at the start: $load_before; at the end: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine shows here)"
  echo "- commit: $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src tests || echo ' (with local changes)')"
}

if [ "$nodes" -eq 1 ]; then
  echo "== PostgreSQL: a throwaway cluster (tests/postgres.sh: Debian's package if missing, 127.0.0.1, a free port)"
  pg_env=$(tests/postgres.sh start) # an assignment, so that a failed start stops the run (set -e)
  eval "$pg_env"
  pg_started=1
  pg_port=$(sed -nE 's/.*Port=([0-9]+).*/\1/p' <<<"$HUB_TEST_POSTGRES")
  psql_run() { psql -q -v ON_ERROR_STOP=1 "host=127.0.0.1 port=$pg_port user=postgres dbname=postgres" -c "$1" >/dev/null; }

  # start_node SETUP INDEX SETTINGS…: one hub node of a setup on a free port, its URL appended to nodes_of[SETUP].
  declare -A nodes_of
  start_node() {
    local setup=$1 index=$2 port url name; shift 2
    port=$(free_port)
    url="http://127.0.0.1:$port"
    name="$setup-$index"
    (cd "$hub_dir" && exec env Hub__Auth__Mode=None "$@" dotnet Hub.Server.dll --urls "$url" --environment Production --Logging:LogLevel:Default=Warning) >"$work/$name.log" 2>&1 &
    pids[$name]=$!
    urls[$name]=$url
    nodes_of[$setup]="${nodes_of[$setup]:+${nodes_of[$setup]},}$url"
    for _ in $(seq 1 150); do
      if curl -s -o /dev/null -f "$url/health/ready"; then return 0; fi
      sleep 0.1
    done
    echo "$name did not become ready:" >&2; cat "$work/$name.log" >&2; exit 1
  }

  setups=(sqlite-1 pg-1 pg-2 pg-3)
  echo "== start the setups: ${setups[*]}"
  rm -rf "$work/data"; mkdir -p "$work/data"
  start_node sqlite-1 0 Hub__Log__Sqlite__Path="$work/data/hub.db"
  for setup in pg-1 pg-2 pg-3; do
    database="hub_bench_${setup//-/_}"
    psql_run "CREATE DATABASE $database"
    connection="$(sed -E 's/Database=[^;]*/Database='"$database"'/' <<<"$HUB_TEST_POSTGRES")"
    for index in $(seq 0 $(( ${setup#pg-} - 1 ))); do
      start_node "$setup" "$index" Hub__Log__Kind=Postgres Hub__Log__Postgres__ConnectionString="$connection"
    done
  done

  # node_run SCENARIO SETUP RUN [EXTRA ARGS…]: one run of the load generator against the setup's nodes.
  node_run() {
    local name=$1 setup=$2 run=$3; shift 3
    dotnet "$loadgen" --url "${nodes_of[$setup]}" --target hub --label "$name/$setup" "$@" \
      >"$results/$name.$setup.$run.json" 2>"$work/table.txt" || { cat "$work/table.txt" >&2; exit 1; }
    sed -n '1,4p' "$work/table.txt"
  }
  spread=(--subscribers 30 --publishers 4 --batch 100 --duration "$duration" --drain 5 --subscribe-on all)
  latency_run() {
    local setup=$1 run=$2 where=(--publish-on 0 --subscribe-on 0)
    [ "$setup" = pg-2 ] && where=(--publish-on 0 --subscribe-on 1)
    node_run latency "$setup" "$run" --subscribers 10 --publishers 2 --rate 2000 --duration "$(( (duration + 1) / 2 ))" --drain 5 "${where[@]}"
  }

  echo "== warm-up (discarded): 1 s of load on each setup"
  for setup in "${setups[@]}"; do node_run one "$setup" warm-up "${spread[@]}" --duration 1 --drain 2 >/dev/null; done
  rm -f "$results"/*.warm-up.json
  echo "== $runs round(s): publishers on node A, on every node, and 2,000 events/s from A to B"
  for run in $(seq 1 "$runs"); do
    for setup in "${setups[@]}"; do node_run one "$setup" "$run" "${spread[@]}" --publish-on 0; done
    for setup in "${setups[@]}"; do node_run all "$setup" "$run" "${spread[@]}" --publish-on all; done
    for setup in sqlite-1 pg-1 pg-2; do latency_run "$setup" "$run"; done
    echo "   round $run done ($(( $(date +%s) - started )) s so far)"
  done
  stop_servers

  elapsed=$(( $(date +%s) - started ))
  {
    echo "# Several nodes on one PostgreSQL log: end-to-end benchmarks"
    echo
    echo "Written by \`./bench.sh --nodes\` ($runs round(s) of each scenario on each setup, the setups side by side and the runs going round them in turn; medians; $elapsed s in all)."
    echo
    machine_lines
    echo "- PostgreSQL: $(psql -tA "host=127.0.0.1 port=$pg_port user=postgres dbname=postgres" -c 'SHOW server_version') on the same cores, a throwaway cluster (\`tests/postgres.sh\`: \`fsync=off\`, so a commit reaches the kernel, not the disk)"
    echo
    echo "Setups: **sqlite-1** is one Hub node in its default configuration (SQLite log, \`synchronous=FULL\`); **pg-N** is N"
    echo "Hub nodes (separate processes) on one PostgreSQL database (\`Hub__Log__Kind=Postgres\`). Everything (the nodes,"
    echo "PostgreSQL and the load generator) shares the same $(nproc) cores: more nodes add no cores here, only the work of"
    echo "reading each event once per node. 30 subscribers (WebSockets, maxDemand 1000 / minDemand 500) spread evenly over"
    echo "the setup's nodes; 4 publishers POST batches of 100 at max rate for ${duration} s, on node A or spread over every node;"
    echo "\"delivered/s, all subscribers\" is every subscriber's events added up ÷ the publishing window. Latency: 2 publishers"
    echo "at a fixed 2,000 events/s on node A, 10 subscribers on node B (on the single node for sqlite-1 and pg-1), from the"
    echo "moment each event was due to its arrival."
    echo
    dotnet "$loadgen" --summarize-nodes "$results"
  } >"$out"
  echo "== wrote $out ($elapsed s)"
  exit 0
fi

# All three servers run side by side and the runs go round them in turn, so that the noise of this shared machine
# falls on each alike and a ratio compares runs minutes apart at most.
echo "== start the servers: ${servers[*]} ${ingest_servers[*]:1}"
# start NAME: a server of this run, its log's durability said (Flush, the default, or Process for hub-sqlite-process).
start() {
  case "$1" in
    hub-sqlite-process) start_server "$1" Hub__Log__Sqlite__Durability=Process ;;
    hub-sqlite) start_server "$1" Hub__Log__Sqlite__Durability=Flush ;;
    *) start_server "$1" ;;
  esac
}
for server in "${servers[@]}" "${ingest_servers[@]:1}"; do start "$server"; done
# Warm-up, discarded: until the runtime has finished compiling the hot code at its final tier (tiered compilation with
# PGO recompiles each hot method once or twice; measured with perf on the hub, the JIT still took ~17% of its CPU
# 10 s into a load and under 1% after 20 s), so that the rounds compare servers, not how far each got in compiling.
warm_s10=12 warm_s100=6 warm_b10=3
[ "$quick" -eq 1 ] && warm_s10=1 warm_s100=1 warm_b10=1
echo "== warm-up (discarded): ${warm_s10} s of 10 subscribers, ${warm_s100} s of 100, ${warm_b10} s of batches of 10 on each server"
for server in "${servers[@]}"; do
  one_run s10 "$server" warm-up "${load[@]}" --duration "$warm_s10" --drain 2 >/dev/null
  one_run s100 "$server" warm-up "${load[@]}" --duration "$warm_s100" --drain 2 >/dev/null
  one_run b10 "$server" warm-up "${load[@]}" --duration "$warm_b10" --drain 2 >/dev/null
done
for server in "${ingest_servers[@]}"; do one_run ingest "$server" warm-up >/dev/null; done # its own fixed duration
rm -f "$results"/*.warm-up.json
echo "== end to end: $runs round(s) of each scenario on each server"
for run in $(seq 1 "$runs"); do
  for name in "${order[@]}"; do
    for server in "${servers[@]}"; do one_run "$name" "$server" "$run" "${load[@]}"; done
  done
  for server in "${ingest_servers[@]}"; do one_run ingest "$server" "$run" "${load[@]}"; done
  echo "   round $run done ($(( $(date +%s) - started )) s so far)"
done
stop_servers

echo "== memory per idle connection: a fresh server each, $idle_connections subscribers"
for server in "${servers[@]}"; do
  start "$server"
  one_run idle "$server" 1 --subscribers "$idle_connections" --idle --settle 3
  stop_servers
done

if [ "$core" -eq 1 ]; then
  echo "== core benchmarks (BenchmarkDotNet, short runs)"
  dotnet run -c Release --project tests/Hub.Benchmarks -- --filter '*FanOutBenchmarks*' '*DemandDispatch*' '*PartitionDispatch*' \
    --artifacts "$work/core" >"$work/core.log" 2>&1 || { tail -n 30 "$work/core.log" >&2; exit 1; }
fi

elapsed=$(( $(date +%s) - started ))
{
  echo "# End-to-end benchmarks"
  echo
  echo "Written by \`./bench.sh\` ($runs round(s) of each scenario on each server, the servers side by side and the runs going round them in turn; medians; $elapsed s in all)."
  echo
  machine_lines
  echo
  echo "Servers: **hub-memory** is the Hub with \`Hub__Log__Kind=Memory\` (pure fan-out, no fsync); **hub-sqlite** is the Hub"
  echo "in its default configuration (SQLite log, \`Hub:Log:Sqlite:Durability\` = \`Flush\`: a 202 waits for the group commit's fsync);"
  echo "**hub-sqlite-process** (ingest only) is the same with \`Durability\` = \`Process\` (no fsync: survives a killed process, not a"
  echo "power cut); **baseline** is \`tests/Hub.Baseline\`, a plain SignalR hub whose \`POST /api/events\` awaits \`Clients.All.SendAsync\` per event."
  echo "Every server runs in the Production environment, the hubs with \`Hub:Auth:Mode\` \`None\` (no credentials, like the baseline);"
  echo "each is warmed up first (${warm_s10} s at 10 subscribers, ${warm_s100} s at 100, ${warm_b10} s with batches of 10, discarded) so that the"
  echo "runtime has compiled the hot code at its final tier before the rounds."
  echo "The load generator (\`tests/Hub.LoadGen\`) runs on the same cores as the server: every subscriber is its own"
  echo "WebSocket speaking SignalR's JSON protocol (on the Hub it subscribes with maxDemand 1000 / minDemand 500 and asks"
  echo "again as it handles events); 4 publishers POST batches of 100 events (of 10 or 50 in the batch scenarios) as fast as"
  echo "they are answered, or at a fixed rate; a stalled subscriber stops reading its socket. Max-rate runs last ${duration} s,"
  echo "fixed-rate and ingest runs ${fixed} s. Ingest: no subscribers, 8 publishers × 100 events of ~200 bytes."
  echo "A client's rate is what it received ÷ the publishing window (or until its last event, if later)."
  echo
  dotnet "$loadgen" --summarize "$results"
  if [ "$core" -eq 1 ]; then
    echo
    echo "### Core (BenchmarkDotNet, tests/Hub.Benchmarks' short job)"
    echo
    cat "$work"/core/results/*-report-github.md 2>/dev/null || echo "(no core results)"
  fi
} >"$out"
echo "== wrote $out ($elapsed s)"
