#!/usr/bin/env bash
# Installs the real interop peers from their lockfiles:
#   Node:   interop/node/package-lock.json  -> interop/node/node_modules  (npm ci)
#   Python: interop/python/requirements.txt -> .venv                       (pip)
# Idempotent: each install is skipped while a stamp keyed by the lockfile's hash matches.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
PY="$VENV/bin/python"
log() { echo "[install-peers] $*" >&2; }

hash_of() { sha256sum "$1" | cut -c1-16; }

install_node() {
  local dir="$ROOT/interop/node"
  local stamp
  stamp="$dir/node_modules/.mxe2ee-stamp-$(hash_of "$dir/package-lock.json")"
  if [[ -f "$stamp" ]]; then
    return 0
  fi
  log "npm ci in interop/node"
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  touch "$stamp"
}

# python-olm ships wheels for common platforms; elsewhere pip compiles libolm, which needs these.
ensure_olm_build_deps() {
  local missing=() p
  for p in cmake make gcc g++ libffi-dev; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
  done
  ((${#missing[@]} == 0)) && return 0
  command -v apt-get >/dev/null || { log "missing build tools for python-olm: ${missing[*]}"; return 1; }
  local sudo=""
  [[ "$(id -u)" == 0 ]] || sudo="sudo"
  log "apt-get install ${missing[*]} (needed to build libolm for python-olm)"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

install_python() {
  local req="$ROOT/interop/python/requirements.txt"
  [[ -x "$PY" ]] || { log "creating virtualenv $VENV"; python3 -m venv "$VENV"; }
  local stamp
  stamp="$VENV/.stamp-peers-$(hash_of "$req")"
  if [[ -f "$stamp" ]]; then
    return 0
  fi
  log "pip install -r interop/python/requirements.txt"
  if ! "$PY" -m pip install -q --disable-pip-version-check -r "$req"; then
    log "pip install failed; installing libolm build dependencies and retrying"
    ensure_olm_build_deps
    "$PY" -m pip install -q --disable-pip-version-check -r "$req"
  fi
  "$PY" -c "import olm, vodozemac" || { log "python peers do not import"; exit 1; }
  rm -f "$VENV"/.stamp-peers-*
  touch "$stamp"
}

install_node
install_python
