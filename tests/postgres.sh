#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for Hub's tests: in a temp dir, on 127.0.0.1 and a free port, trust authentication,
# fsync off (nothing in it outlives the run; a commit still reaches the kernel before it is acknowledged, so stopping
# the server with -m immediate, as tests do, loses nothing acknowledged). test.sh calls it; a developer can too:
#
#   eval "$(tests/postgres.sh start)"   # installs Debian's postgresql if missing, starts a cluster, prints the exports
#   dotnet test ... --filter Postgres    # the tests read HUB_TEST_POSTGRES
#   tests/postgres.sh stop               # stops it (-m immediate) and removes its dir
#
# `start` prints, for `eval`:
#   HUB_TEST_POSTGRES          the connection string (Npgsql syntax) of the cluster's `postgres` database, as superuser
#   HUB_TEST_POSTGRES_DATA     the cluster's data dir; its settings (port, socket dir, listen address, fsync) are in
#                              postgresql.auto.conf, so `pg_ctl -D "$HUB_TEST_POSTGRES_DATA" -w start` restarts it as it was
#   HUB_TEST_POSTGRES_PG_CTL   the pg_ctl to stop and start it with (tests that stop PostgreSQL under load)
#   HUB_TEST_POSTGRES_OS_USER  the OS user that owns the cluster: run pg_ctl as that user (`runuser -u USER --` as root)
#   HUB_TEST_POSTGRES_SCRIPT   this script, by its absolute path: tests start clusters of their own with it (one that a
#                              test stops and starts under load, without disturbing the others' shared cluster)
# `pause` stops the server and keeps its data; `resume` starts it again on the same port (both read the exports).
# HUB_TEST_POSTGRES_BIN, when set, names the server's bin dir (else Debian's newest /usr/lib/postgresql/*/bin, else the PATH).
# `start --durable` keeps fsync on (a commit reaches the disk before it is acknowledged), for benchmarks of durable ingest.
set -euo pipefail

die() { echo "postgres.sh: $*" >&2; exit 1; }

# The server's binaries: Debian keeps them under /usr/lib/postgresql/<version>/bin, off the PATH.
find_bin() {
  if [ -n "${HUB_TEST_POSTGRES_BIN:-}" ]; then echo "$HUB_TEST_POSTGRES_BIN"; return; fi
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -n "$dir" ] && [ -x "$dir/pg_ctl" ]; then echo "$dir"; return; fi
  if command -v pg_ctl >/dev/null 2>&1; then dirname "$(command -v pg_ctl)"; return; fi
  echo ""
}

install_if_missing() {
  if [ -n "$(find_bin)" ]; then return; fi
  echo "postgres.sh: installing PostgreSQL from Debian's packages" >&2
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq >&2
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  [ -n "$(find_bin)" ] || die "postgresql was installed but no pg_ctl was found under /usr/lib/postgresql/*/bin"
}

# Runs a server binary as the cluster's owner: PostgreSQL refuses to run as root.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

owner() { if [ "$(id -u)" -eq 0 ]; then echo postgres; else id -un; fi; }

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

start() {
  local fsync=off
  [ "${1:-}" != "--durable" ] || fsync=on
  install_if_missing
  local bin dir data port attempt
  bin=$(find_bin)
  dir=$(mktemp -d "${TMPDIR:-/tmp}/hub-pg.XXXXXX")
  data="$dir/data"
  chmod 0755 "$dir"
  [ "$(id -u)" -ne 0 ] || chown postgres: "$dir"
  as_owner "$bin/initdb" -D "$data" -A trust -U postgres -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; rm -rf "$dir"; die "initdb failed"; }

  # A free port: one nothing listens on, and on which the server then starts (another process may take it between
  # the two: then the next port is tried). Bounded.
  for attempt in $(seq 1 20); do
    port=$((20000 + RANDOM % 40000))
    listening "$port" && continue
    as_owner tee "$data/postgresql.auto.conf" >/dev/null <<EOF
port = $port
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
fsync = $fsync
max_connections = 300
EOF
    if as_owner "$bin/pg_ctl" -D "$data" -l "$dir/server.log" -w -t 60 start >/dev/null 2>&1; then
      cat <<EOF
export HUB_TEST_POSTGRES='Host=127.0.0.1;Port=$port;Username=postgres;Database=postgres'
export HUB_TEST_POSTGRES_DATA='$data'
export HUB_TEST_POSTGRES_PG_CTL='$bin/pg_ctl'
export HUB_TEST_POSTGRES_OS_USER='$(owner)'
export HUB_TEST_POSTGRES_SCRIPT='$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")'
EOF
      echo "postgres.sh: $("$bin/postgres" --version) on 127.0.0.1:$port, data in $data (attempt $attempt)" >&2
      return
    fi
    grep -q "could not bind\|Address already in use" "$dir/server.log" 2>/dev/null || { cat "$dir/server.log" >&2; rm -rf "$dir"; die "the server did not start"; }
  done
  cat "$dir/server.log" >&2
  rm -rf "$dir"
  die "no free port found in 20 attempts"
}

need_data() {
  [ -n "${HUB_TEST_POSTGRES_DATA:-}" ] || die "HUB_TEST_POSTGRES_DATA is not set (eval \"\$(tests/postgres.sh start)\" first)"
  [ -n "${HUB_TEST_POSTGRES_PG_CTL:-}" ] || die "HUB_TEST_POSTGRES_PG_CTL is not set"
}

stop() {
  [ -n "${HUB_TEST_POSTGRES_DATA:-}" ] || return 0
  need_data
  local dir
  dir=$(dirname "$HUB_TEST_POSTGRES_DATA")
  if [ -f "$HUB_TEST_POSTGRES_DATA/postmaster.pid" ]; then
    as_owner "$HUB_TEST_POSTGRES_PG_CTL" -D "$HUB_TEST_POSTGRES_DATA" -m immediate -w stop >/dev/null || true
  fi
  case "$dir" in
    */hub-pg.*) rm -rf "$dir" ;;
    *) die "refusing to remove '$dir': not a dir this script made" ;;
  esac
}

pause() {
  need_data
  as_owner "$HUB_TEST_POSTGRES_PG_CTL" -D "$HUB_TEST_POSTGRES_DATA" -m immediate -w stop >/dev/null
}

resume() {
  need_data
  as_owner "$HUB_TEST_POSTGRES_PG_CTL" -D "$HUB_TEST_POSTGRES_DATA" -l "$(dirname "$HUB_TEST_POSTGRES_DATA")/server.log" -w -t 60 start >/dev/null
}

case "${1:-}" in
  start) start "${2:-}" ;;
  stop) stop ;;
  pause) pause ;;
  resume) resume ;;
  *) die "usage: tests/postgres.sh start|stop|pause|resume" ;;
esac
