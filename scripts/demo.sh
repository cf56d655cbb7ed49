#!/usr/bin/env bash
# The main job: installs what is needed, builds, starts the dev Synapse, registers the
# echo bot's user and runs the encrypted echo bot (joins on invite, answers encrypted messages
# with an encrypted echo). Ctrl-C stops the bot, and the
# trap stops Synapse if this script started it.
#   MXE2EE_DEMO_DURATION=N   stop the bot after N seconds (as if Ctrl-C was pressed), for smoke runs
#   MXE2EE_BOT_CONFIG=FILE   bot settings (default config/echo-bot.json); --homeserver is set here
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
log() { echo "[demo] $*" >&2; }

bash scripts/setup.sh
log "building (mvn package, tests skipped)"
mvn -B -q -DskipTests package

started_here=0
cleanup() {
  local rc=$?
  # Must finish even if the terminal or a pipe reading our output is already gone.
  set +e
  trap '' PIPE INT TERM
  trap - EXIT
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

config="${MXE2EE_BOT_CONFIG:-config/echo-bot.json}"
read -r user password < <(python3 -c 'import json,sys; c=json.load(open(sys.argv[1])); print(c["user"], c["password"])' "$config")
bash scripts/dev-homeserver.sh register "$user" "$password"

cp="examples/target/classes:$(cat examples/target/classpath.txt)"
log "starting the echo bot as @$user:localhost against $url (Ctrl-C to stop)"
log "talk to it: in another terminal run  bash scripts/chat.sh  (encrypted chat as a fresh user)"
bot=(java -cp "$cp" io.github.mxe2ee.examples.EchoBot --config "$config" --homeserver "$url")
if [[ -n "${MXE2EE_DEMO_DURATION:-}" ]]; then
  rc=0
  timeout -s INT "$MXE2EE_DEMO_DURATION" "${bot[@]}" || rc=$?
  # 124: timeout sent SIGINT; 130: the JVM exited on it. Both are a clean stop here.
  [[ $rc == 0 || $rc == 124 || $rc == 130 ]] || exit "$rc"
else
  "${bot[@]}"
fi
