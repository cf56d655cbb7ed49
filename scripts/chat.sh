#!/usr/bin/env bash
# Talk to the encrypted echo bot from a terminal: a small chat client on matrix-js-sdk with its Rust
# crypto (interop/node/chat.mjs). It opens (or reuses) an end-to-end encrypted room with the bot;
# type lines, see the bot's decrypted echoes.
#
#   bash scripts/chat.sh
#       local demo: registers a fresh user on the dev homeserver started by `bash scripts/demo.sh`
#       (run that first, in another terminal) and talks to @echobot:localhost
#   bash scripts/chat.sh --homeserver URL --user @u:server --password P [--bot @bot:server] [--room ID]
#       any homeserver and existing account (the password may also come from MXE2EE_CHAT_PASSWORD,
#       which keeps it out of the process list)
#
#   --bot USER     whom to talk to (default: the demo bot of config/echo-bot.json on the local server)
#   --room ID      use this room instead of finding or creating one with the bot
# Environment: MXE2EE_JS_LOG = error (default) | warn | info | debug: library logs on stderr.
# Every run is a new device of the user: its keys live in memory only.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
die() { echo "chat: $*" >&2; exit 2; }

usage() { sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

homeserver="" user="" password="${MXE2EE_CHAT_PASSWORD:-}" bot="" room=""
while (($#)); do
  case "$1" in
    --homeserver) homeserver="${2:?--homeserver needs a URL}"; shift 2 ;;
    --user) user="${2:?--user needs a user id}"; shift 2 ;;
    --password) password="${2:?--password needs a value}"; shift 2 ;;
    --bot) bot="${2:?--bot needs a user id}"; shift 2 ;;
    --room) room="${2:?--room needs a room id}"; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument '$1'" ;;
  esac
done

command -v node >/dev/null || die "node is not installed (Node.js 20+ is needed; see README.md)"
node_major="$(node -p 'process.versions.node.split(".")[0]')"
((node_major >= 20)) || die "Node.js 20+ is needed, found $(node --version)"
[[ -d interop/node/node_modules/matrix-js-sdk ]] || die "interop/node/node_modules is missing: run bash scripts/setup.sh"

if [[ -z "$homeserver" ]]; then
  [[ -z "$user" ]] || die "--user needs --homeserver (without both, a fresh user is registered locally)"
  homeserver="$(bash scripts/dev-homeserver.sh url 2>/dev/null)" ||
    die "the local dev homeserver is not running: start the demo first with 'bash scripts/demo.sh' (it starts Synapse and the echo bot), then run this again"
  user="chat_$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')"
  password="$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
  bash scripts/dev-homeserver.sh register "$user" "$password" >/dev/null 2>&1 ||
    die "could not register $user on $homeserver (see .run/synapse/homeserver.log)"
  echo "registered @$user:localhost on $homeserver"
  if [[ -z "$bot" && -z "$room" ]]; then
    bot_local="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["user"])' config/echo-bot.json)"
    bot="@$bot_local:localhost"
  fi
else
  [[ -n "$user" ]] || die "--homeserver needs --user"
  [[ -n "$password" ]] || die "no password: pass --password or set MXE2EE_CHAT_PASSWORD"
  [[ -n "$bot" || -n "$room" ]] || die "say whom to talk to: --bot @bot:server (or --room ID)"
fi

node_args=(--homeserver "$homeserver" --user "$user")
[[ -n "$bot" ]] && node_args+=(--bot "$bot")
[[ -n "$room" ]] && node_args+=(--room "$room")
export MXE2EE_CHAT_PASSWORD="$password"
export MXE2EE_JS_LOG="${MXE2EE_JS_LOG:-error}"
exec node interop/node/chat.mjs "${node_args[@]}"
