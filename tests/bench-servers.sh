# Sourced by bench.sh, tests/bench-gc.sh and tests/bench-memory.sh: the servers a benchmark runs, each a child process on
# a free port of 127.0.0.1, stopped by PID. The sourcing script sets `work` (a temporary folder), declares
# `declare -A pids urls dirs`, and calls build_servers (or sets `dirs[now]` and `baseline_dir` itself).

# build_servers [BEFORE]: builds the hub, the baseline and the load generator (Release), and sets `dirs[now]` (the hub's
# build output), `dirs[before]` (BEFORE's, a checkout built alike, for servers named *-before), `baseline_dir` and
# `loadgen`. Its progress goes to stderr.
build_servers() {
  local project before=${1:-}
  echo "== build (Release)" >&2
  for project in src/Hub.Server tests/Hub.Baseline tests/Hub.LoadGen; do
    dotnet build "$project" -c Release -v quiet -nologo | grep -E "error|Warn|Elapsed" >&2 || true
  done
  dirs[now]=$PWD/src/Hub.Server/bin/Release/net10.0
  if [ -n "$before" ]; then dirs[before]=$before/src/Hub.Server/bin/Release/net10.0; fi
  baseline_dir=$PWD/tests/Hub.Baseline/bin/Release/net10.0
  loadgen=$PWD/tests/Hub.LoadGen/bin/Release/net10.0/Hub.LoadGen.dll
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

# start_server NAME [VAR=VALUE...]: starts hub-memory*, hub-sqlite* (a fresh database) or baseline, with the variables
# given in its environment and the build dirs[before] if NAME contains -before; waits until it answers. Its PID goes to
# pids[NAME], its address to urls[NAME]. A hub runs as it would be deployed (the Production environment, no developer
# exception page), with Hub:Auth:Mode None: no credentials, like the baseline.
start_server() {
  local name=$1 port url build=now
  shift
  port=$(free_port)
  url="http://127.0.0.1:$port"
  case "$name" in *-before*) build=before ;; esac
  case "$name" in
    hub-memory*)
      (cd "${dirs[$build]}" && exec env Hub__Auth__Mode=None "$@" Hub__Log__Kind=Memory dotnet Hub.Server.dll --urls "$url" --environment Production --Logging:LogLevel:Default=Warning) >"$work/$name.log" 2>&1 & ;;
    hub-sqlite*)
      rm -rf "$work/data-$name"; mkdir -p "$work/data-$name"
      (cd "${dirs[$build]}" && exec env Hub__Auth__Mode=None "$@" Hub__Log__Sqlite__Path="$work/data-$name/hub.db" dotnet Hub.Server.dll --urls "$url" --environment Production --Logging:LogLevel:Default=Warning) >"$work/$name.log" 2>&1 & ;;
    baseline)
      (cd "$baseline_dir" && exec env "$@" dotnet Hub.Baseline.dll --urls "$url") >"$work/$name.log" 2>&1 & ;;
    *) echo "start_server: unknown server $name" >&2; exit 2 ;;
  esac
  pids[$name]=$!
  urls[$name]=$url
  for _ in $(seq 1 100); do
    if curl -s -o /dev/null -X POST "$url/hubs/events/negotiate?negotiateVersion=1"; then return 0; fi
    sleep 0.1
  done
  echo "$name did not start:" >&2; cat "$work/$name.log" >&2; exit 1
}

# stop_servers: stops every server started, by PID.
stop_servers() {
  local name
  for name in "${!pids[@]}"; do
    kill "${pids[$name]}" 2>/dev/null || true
    wait "${pids[$name]}" 2>/dev/null || true
    unset "pids[$name]"
  done
}
