#!/usr/bin/env bash
# The example bridge (issue 15): installs what is needed, builds, starts the dev Synapse (unless it
# is running) and the example bridge between encrypted Matrix portal rooms and a local "remote
# network" served over HTTP on 127.0.0.1. Prints the remote endpoint's URL. Ctrl-C stops the bridge,
# and the trap stops Synapse if this script started it.
#
#   MXE2EE_BRIDGE_PORT=N        port of the remote endpoint (default 29335)
#   MXE2EE_BRIDGE_DEVICES=M     ghost (default: each ghost its own cross-signed device, MSC4190)
#                               | bot (every ghost encrypts with the bridge bot's device)
#   MXE2EE_BRIDGE_DURATION=N    stop after N seconds (as if Ctrl-C was pressed), for smoke runs
#   MXE2EE_BRIDGE_SKIP_BUILD=1  reuse the last build (examples/target/classes and classpath.txt)
#   MXE2EE_BRIDGE_START_TIMEOUT=S  how long to wait for the bridge to answer (default 180)
#
# The remote side (docs/BRIDGES.md, "The example bridge"):
#   curl -s -XPOST $URL/remote/portals  -d '{"portal":"lobby","invite":["@you:localhost"]}'
#   curl -s -XPOST $URL/remote/send     -d '{"portal":"lobby","from":"alice","text":"hi"}'
#   curl -s        "$URL/remote/messages?portal=lobby"
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
log() { echo "[bridge] $*" >&2; }

port="${MXE2EE_BRIDGE_PORT:-29335}"
[[ "$port" =~ ^[0-9]+$ ]] && ((port >= 1 && port <= 65535)) ||
  { log "MXE2EE_BRIDGE_PORT must be a port number (1-65535), got '$port'"; exit 2; }
devices="${MXE2EE_BRIDGE_DEVICES:-ghost}"
[[ "$devices" == ghost || "$devices" == bot ]] ||
  { log "MXE2EE_BRIDGE_DEVICES must be 'ghost' or 'bot', got '$devices'"; exit 2; }

if [[ -z "${MXE2EE_BRIDGE_SKIP_BUILD:-}" ]]; then
  bash scripts/setup.sh
  log "building (mvn package, tests skipped)"
  # Its output goes to stderr: stdout carries only the endpoint URL (read by tools), and Maven
  # writes colour resets there even with -q.
  mvn -B -q -Dstyle.color=never -DskipTests package >&2
fi

START_TIMEOUT="${MXE2EE_BRIDGE_START_TIMEOUT:-180}"
started_here=0
bridge_pid=""
stop_bridge() {
  # The bridge runs in the background, where a terminal's Ctrl-C does not reach it: SIGTERM runs
  # its shutdown hook (listeners, plugin and stores closed), SIGKILL after 20 s.
  [[ -n "$bridge_pid" ]] || return 0
  kill -TERM "$bridge_pid" 2>/dev/null || return 0
  local i
  for ((i = 0; i < 200; i++)); do
    kill -0 "$bridge_pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$bridge_pid" 2>/dev/null
  wait "$bridge_pid" 2>/dev/null
  bridge_pid=""
}
cleanup() {
  local rc=$?
  # Must finish even if the terminal or a pipe reading our output is already gone.
  set +e
  trap '' PIPE INT TERM
  trap - EXIT
  stop_bridge
  if ((started_here)); then
    log "stopping the dev homeserver" 2>/dev/null
    bash scripts/dev-homeserver.sh stop >/dev/null 2>&1
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

bash scripts/dev-homeserver.sh status >/dev/null 2>&1 || started_here=1
url="$(bash scripts/dev-homeserver.sh start)"

cp="examples/target/classes:$(cat examples/target/classpath.txt)"
remote="http://127.0.0.1:$port"
if curl -s -o /dev/null --max-time 2 "$remote/"; then
  log "something already answers on $remote: stop it or choose another MXE2EE_BRIDGE_PORT"
  exit 1
fi
log "starting the example bridge against $url (devices: $devices)"
java -cp "$cp" io.github.mxe2ee.examples.bridge.ExampleBridge \
  --homeserver "$url" \
  --registration .run/synapse/appservice-registration.yaml \
  --remote-port "$port" \
  --devices "$devices" &
bridge_pid=$!
# The URL is printed once the remote endpoint answers, so whoever reads it can use it at once.
deadline=$((SECONDS + START_TIMEOUT))
until curl -s -o /dev/null --max-time 2 "$remote/remote/messages"; do
  if ! kill -0 "$bridge_pid" 2>/dev/null; then
    rc=0
    wait "$bridge_pid" || rc=$?
    bridge_pid=""
    log "the bridge exited during start (exit $rc); its log is above"
    exit 1
  fi
  if ((SECONDS >= deadline)); then
    log "the bridge did not answer on $remote within ${START_TIMEOUT}s"
    exit 1
  fi
  sleep 0.2
done
log "remote endpoint: $remote (Ctrl-C to stop; docs/BRIDGES.md, \"The example bridge\")"
log "try: curl -s -XPOST $remote/remote/portals -d '{\"portal\":\"lobby\",\"invite\":[\"@you:localhost\"]}'"
log "chat as @you:localhost (register first: bash scripts/dev-homeserver.sh register you PASSWORD), then, before the ghosts speak: bash scripts/chat.sh --homeserver $url --user @you:localhost --password PASSWORD --room ROOM_ID"
echo "$remote"
if [[ -n "${MXE2EE_BRIDGE_DURATION:-}" ]]; then
  (sleep "$MXE2EE_BRIDGE_DURATION"; kill -TERM "$bridge_pid" 2>/dev/null) &
fi
rc=0
wait "$bridge_pid" || rc=$?
bridge_pid=""
# 143: stopped by SIGTERM (Ctrl-C forwarded, or MXE2EE_BRIDGE_DURATION); a clean stop.
[[ $rc == 0 || $rc == 143 || $rc == 130 ]] || exit "$rc"
