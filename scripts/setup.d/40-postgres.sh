#!/usr/bin/env bash
# Starts a throw-away PostgreSQL cluster for the crypto store's contract tests
# (core: io.github.mxe2ee.store.postgres.PostgresCryptoStoreTest). Idempotent and fast on rerun.
#
# - installs the Debian package `postgresql` if no server binaries are found (needs root);
# - keeps its own cluster in $MXE2EE_PG_DIR (default /tmp/mxe2ee-postgres), listening only on
#   127.0.0.1:$MXE2EE_PG_PORT (default 54329) with trust authentication: test data only, never a
#   production setup;
# - creates the database mxe2ee_test. Tests connect with
#   jdbc:postgresql://127.0.0.1:54329/mxe2ee_test?user=mxe2ee (override with MXE2EE_PG_URL).
# Stop it with: pg_ctl -D /tmp/mxe2ee-postgres stop (as the cluster's owner).
set -euo pipefail
log() { echo "[setup:postgres] $*" >&2; }

PORT="${MXE2EE_PG_PORT:-54329}"
DATA="${MXE2EE_PG_DIR:-/tmp/mxe2ee-postgres}"

find_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1; }
BIN="$(find_bin)"
if [[ -z "$BIN" ]]; then
  if [[ "$(id -u)" != 0 ]]; then
    log "PostgreSQL server not installed and not root: run 'apt-get install postgresql' first"
    exit 1
  fi
  log "installing postgresql"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null || {
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  }
  BIN="$(find_bin)"
fi

# PostgreSQL refuses to run as root: use the package's postgres user then.
if [[ "$(id -u)" == 0 ]]; then
  OWNER=postgres
  as_owner() { runuser -u postgres -- "$@"; }
else
  OWNER="$(id -un)"
  as_owner() { "$@"; }
fi

if [[ ! -f "$DATA/PG_VERSION" ]]; then
  log "creating cluster in $DATA"
  mkdir -p "$DATA"
  chown "$OWNER" "$DATA"
  chmod 700 "$DATA"
  as_owner "$BIN/initdb" -D "$DATA" -U mxe2ee --auth=trust -E UTF8 >/dev/null
fi

if ! as_owner "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
  log "starting on 127.0.0.1:$PORT"
  as_owner "$BIN/pg_ctl" -D "$DATA" -w -l "$DATA/server.log" \
    -o "-p $PORT -k $DATA -c listen_addresses=127.0.0.1" start >/dev/null
fi

if ! as_owner "$BIN/psql" -h 127.0.0.1 -p "$PORT" -U mxe2ee -d postgres -tAc \
  "SELECT 1 FROM pg_database WHERE datname = 'mxe2ee_test'" | grep -q 1; then
  as_owner "$BIN/createdb" -h 127.0.0.1 -p "$PORT" -U mxe2ee mxe2ee_test
fi
log "ready: jdbc:postgresql://127.0.0.1:$PORT/mxe2ee_test?user=mxe2ee"
