#!/usr/bin/env bash
# The one install entry point. Checks prerequisites, then installs (idempotently, fast on rerun):
#   .venv/ with the pinned Synapse and the Python peers, interop/node/node_modules with the Node peers,
# then runs every scripts/setup.d/*.sh in name order.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
log() { echo "[setup] $*" >&2; }

problems=()

# need NAME MIN_MAJOR MIN_MINOR ACTUAL_VERSION HINT
need() {
  local name="$1" maj="$2" min="$3" ver="$4" hint="$5"
  if [[ -z "$ver" ]]; then
    problems+=("$name not found (need $maj.$min+): $hint")
    return
  fi
  local a b
  IFS=. read -r a b _ <<<"$ver"
  a="${a//[!0-9]/}"; b="${b//[!0-9]/}"
  if ((${a:-0} < maj || (${a:-0} == maj && ${b:-0} < min))); then
    problems+=("$name $ver is too old (need $maj.$min+): $hint")
  fi
}

java_ver=""
if command -v java >/dev/null; then
  java_ver="$(java -version 2>&1 | sed -n -E '1s/.*version "([^"]+)".*/\1/p')"
  [[ "$java_ver" == 1.* ]] && java_ver="${java_ver#1.}"
fi
need java 17 0 "$java_ver" "install a JDK 17 or newer (e.g. apt-get install openjdk-17-jdk)"

mvn_ver=""
command -v mvn >/dev/null && mvn_ver="$(mvn -v 2>/dev/null | sed -n -E '1s/.*Maven ([0-9.]+).*/\1/p' | head -n1)"
need mvn 3 6 "$mvn_ver" "install Apache Maven 3.6+ (e.g. apt-get install maven)"

py_ver=""
command -v python3 >/dev/null && py_ver="$(python3 -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])')"
need python3 3 10 "$py_ver" "install CPython 3.10+ with the venv module"
if [[ -n "$py_ver" ]] && ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
  problems+=("python3 has no venv/ensurepip module: install python3-venv")
fi

node_ver=""
command -v node >/dev/null && node_ver="$(node --version 2>/dev/null | sed 's/^v//')"
need node 20 0 "$node_ver" "install Node.js 20+"

npm_ver=""
command -v npm >/dev/null && npm_ver="$(npm --version 2>/dev/null)"
need npm 8 0 "$npm_ver" "install npm (ships with Node.js)"

for tool in curl flock setsid; do
  command -v "$tool" >/dev/null || problems+=("$tool not found: install it (curl / util-linux)")
done

if ((${#problems[@]})); then
  log "missing prerequisites:"
  for p in "${problems[@]}"; do echo "  - $p" >&2; done
  exit 1
fi
log "prerequisites ok: java $java_ver, mvn $mvn_ver, python3 $py_ver, node $node_ver, npm $npm_ver"

if [[ ! -x "$ROOT/.venv/bin/python" ]]; then
  log "creating virtualenv .venv"
  python3 -m venv "$ROOT/.venv"
  "$ROOT/.venv/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip wheel
fi

bash "$ROOT/scripts/dev-homeserver.sh" install
bash "$ROOT/scripts/install-peers.sh"

shopt -s nullglob
for ext in "$ROOT"/scripts/setup.d/*.sh; do
  log "running setup.d/$(basename "$ext")"
  bash "$ext"
done
log "done"
