# Sourced by the scripts: a private PostgreSQL server in a temporary directory, for the
# test suite, the benchmark and `scripts/postgres`. Uses the system's PostgreSQL binaries
# (Debian's `postgresql` package; `scripts/bootstrap` installs it where missing). It
# listens only on a Unix socket in its own directory, so it never clashes with another
# server or another run.
#
#   pg_start fast     a throw-away server in a new /tmp directory, without fsync (tests and
#                     benchmarks only: a crash loses data); sets PG_DIR, PG_SOCK (the
#                     socket directory) and PG_URL (postgres://postgres@/postgres?host=PG_SOCK)
#   pg_start keep DIR a durable server whose data stays in DIR (created on first use)
#   pg_createdb NAME  creates a database unless it exists; prints its URL
#   pg_stop           stops it; a throw-away server's directory is deleted (idempotent)

pg_bindir() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -n "$d" ] && [ -x "$d/initdb" ] || { echo "PostgreSQL is not installed (run scripts/bootstrap)" >&2; return 1; }
  echo "$d"
}

# initdb and postgres refuse to run as root: as root, run them as the `postgres` user.
pg_as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_start() {
  local bin opts mode=${1:-fast}
  bin=$(pg_bindir) || return 1
  if [ "$mode" = keep ]; then
    PG_DIR=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
    PG_TEMP=
    mkdir -p "$PG_DIR"
    # The socket lives in a short directory of its own: Unix socket paths are limited to
    # ~107 bytes, and the data directory may be deep (or contain spaces). Named after the
    # data directory, so a server still running from an earlier start is found again.
    PG_SOCK=/tmp/pgs-$(printf %s "$PG_DIR" | cksum | cut -d' ' -f1)
    mkdir -p "$PG_SOCK"
  else
    PG_DIR=$(mktemp -d /tmp/pgXXXXXX)
    PG_TEMP=1
    PG_SOCK=$PG_DIR
  fi
  chmod 755 "$PG_DIR" "$PG_SOCK"
  if [ "$(id -u)" -eq 0 ]; then chown postgres "$PG_DIR" "$PG_SOCK"; fi
  if [ ! -f "$PG_DIR/data/PG_VERSION" ]; then
    pg_as_owner "$bin/initdb" -D "$PG_DIR/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 -N \
      >"$PG_DIR/initdb.log" 2>&1 || { cat "$PG_DIR/initdb.log" >&2; return 1; }
  fi
  # Only a Unix socket in PG_DIR (no TCP port), trusted: reachable by local users only.
  opts="-c listen_addresses='' -k '$PG_SOCK' -c max_connections=400 -c shared_buffers=256MB"
  [ "$mode" = fast ] && opts="$opts -c fsync=off -c full_page_writes=off -c synchronous_commit=off"
  if ! pg_as_owner "$bin/pg_ctl" -D "$PG_DIR/data" status >/dev/null 2>&1; then
    pg_as_owner "$bin/pg_ctl" -D "$PG_DIR/data" -w -l "$PG_DIR/log" -o "$opts" start >/dev/null \
      || { tail -n 20 "$PG_DIR/log" >&2; return 1; }
  fi
  PG_URL="postgres://postgres@/postgres?host=$PG_SOCK"
  export PG_DIR PG_SOCK PG_URL PG_TEMP
}

pg_createdb() {
  local bin
  bin=$(pg_bindir) || return 1
  if [ -z "$("$bin/psql" -qtA -h "$PG_SOCK" -U postgres -d postgres -c "SELECT 1 FROM pg_database WHERE datname = '$1'")" ]; then
    "$bin/psql" -q -h "$PG_SOCK" -U postgres -d postgres -c "CREATE DATABASE $1" >/dev/null
  fi
  echo "postgres://postgres@/$1?host=$PG_SOCK"
}

pg_stop() {
  [ -n "${PG_DIR:-}" ] && [ -d "$PG_DIR" ] || return 0
  if [ -n "${PG_TEMP:-}" ]; then
    pg_as_owner "$(pg_bindir)/pg_ctl" -D "$PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$PG_DIR"
  else
    pg_as_owner "$(pg_bindir)/pg_ctl" -D "$PG_DIR/data" -m fast stop >/dev/null 2>&1 || true
  fi
  if [ -n "${PG_SOCK:-}" ] && [ "$PG_SOCK" != "$PG_DIR" ]; then rm -rf "$PG_SOCK"; fi
  PG_DIR=
}
