// A small terminal chat on matrix-js-sdk with its Rust crypto (the same client code as
// js-client-peer.mjs): talks to a bot in an end-to-end encrypted room. Start it through
// scripts/chat.sh, which registers a user on the local dev homeserver when none is given.
//
//   node interop/node/chat.mjs --homeserver URL --user USER [--bot @bot:server] [--room ROOM_ID]
//   password: MXE2EE_CHAT_PASSWORD (kept out of the process list)
//
// Lines typed are sent encrypted; messages from others are printed once decrypted, undecryptable
// ones with the reason, and again if their key arrives later. Commands: /help /devices /quit,
// and for room history (MSC4268): /newroom (a fresh room with history visible to new members) and
// /invite USER (matrix-js-sdk shares the room's history with USER's verified devices), /join ROOM
// (accept an invite: the inviter's room history is imported) and /history [N] (the room's last N
// events read back from the server, with who vouched for keys that came with the room's history).
import { note } from "./lib/node-env.mjs";
import { createInterface, clearLine, cursorTo } from "node:readline";
import { JsClient, errorReply } from "./lib/client.mjs";

function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const m = /^--(homeserver|user|bot|room)$/.exec(a);
    if (!m || i + 1 >= argv.length) throw new Error(`unexpected argument '${a}' (see scripts/chat.sh --help)`);
    out[m[1]] = argv[++i];
  }
  return out;
}

const args = parseArgs(process.argv.slice(2));
const password = process.env.MXE2EE_CHAT_PASSWORD;
if (!args.homeserver || !args.user || !password) {
  note("chat: need --homeserver, --user and MXE2EE_CHAT_PASSWORD (use scripts/chat.sh)");
  process.exit(2);
}
if (!args.bot && !args.room) {
  note("chat: need --bot (the user to talk to) or --room");
  process.exit(2);
}

const out = (line) => process.stdout.write(line + "\n");
const time = (ts) => new Date(ts).toTimeString().slice(0, 8);

const jc = new JsClient(args.homeserver);
let rl = null;

/** Prints a line above the prompt without mangling what the user is typing. */
function show(line) {
  if (rl && process.stdout.isTTY) {
    clearLine(process.stdout, 0);
    cursorTo(process.stdout, 0);
    out(line);
    rl.prompt(true);
  } else {
    out(line);
  }
}

async function findOrCreateRoom() {
  if (args.room) {
    const room = jc.client.getRoom(args.room);
    if (room?.getMyMembership() !== "join") await jc.join(args.room);
    await jc.waitForRoom(args.room, true);
    return args.room;
  }
  for (const roomId of await jc.encryptedRoomIds()) {
    const member = jc.client.getRoom(roomId).getMember(args.bot);
    if (member && (member.membership === "join" || member.membership === "invite")) return roomId;
  }
  out(`creating an encrypted room with ${args.bot}`);
  return jc.createRoom({ invite: [args.bot], name: `chat with ${args.bot}` });
}

async function showDevices(userId) {
  for (const d of await jc.userDevices(userId)) {
    show(`  ${userId} device ${d.device_id} ed25519 ${d.ed25519}${d.verified ? " (verified)" : ""}`);
  }
}

async function main() {
  const me = await jc.login({ user: args.user, password, deviceName: "mxe2ee chat.sh" });
  out(`logged in as ${me.user_id}, device ${me.device_id}; starting end-to-end encryption and sync...`);
  await jc.start({ initialSyncLimit: 20 });
  const info = await jc.deviceInfo();
  out(`your device's fingerprint: ${info.fingerprint}`);
  try {
    // Cross-signing makes this client share room history when it invites (matrix-js-sdk shares
    // only from a verified own identity) and accept the bot's history.
    await jc.bootstrapCrossSigning(password);
  } catch (e) {
    out(`(cross-signing not set up: ${errorReply(e).message}; /invite will not share history)`);
  }
  let roomId = await findOrCreateRoom();
  out(`room ${roomId} (encrypted)`);
  if (args.bot) {
    out(`waiting for ${args.bot} to join...`);
    try {
      await jc.waitForMember(roomId, args.bot, "join", 60_000);
      out(`${args.bot} is in the room. Its devices:`);
      await showDevices(args.bot);
    } catch (e) {
      out(`${args.bot} did not join within 60 s (is the bot running? bash scripts/demo.sh); you can type anyway`);
    }
  }

  // Print every event of the room once it is final; re-print an undecryptable one if its key
  // arrives later.
  const printed = new Map(); // event id -> "decrypted" | "failed" | "other"
  const printer = setInterval(async () => {
    for (const ev of jc.roomEvents(roomId)) {
      const id = ev.getId();
      const before = printed.get(id);
      if (before === "decrypted" || before === "other") continue;
      const d = await jc.describe(ev);
      if (d.decryption === "pending") continue;
      if (d.decryption === "failed") {
        if (before !== "failed") {
          printed.set(id, "failed");
          show(`${time(d.origin_server_ts)} <${d.sender}> ** unable to decrypt: ${d.failure.code} **`);
        }
        continue;
      }
      printed.set(id, d.decryption === "decrypted" ? "decrypted" : "other");
      const late = before === "failed" ? " (late key, now decrypted)" : "";
      if (d.type === "m.room.message" && d.sender !== me.user_id) {
        const lock = d.encrypted ? "" : " [NOT ENCRYPTED]";
        show(`${time(d.origin_server_ts)} <${d.sender}> ${d.content.body}${lock}${late}`);
      } else if (d.type === "m.room.member" && d.state_key !== me.user_id) {
        show(`${time(d.origin_server_ts)} * ${d.state_key} ${d.content.membership}`);
      }
    }
  }, 200);

  out("type a message and press Enter; /devices, /help, /quit");
  rl = createInterface({ input: process.stdin, output: process.stdout, prompt: "> " });
  rl.prompt();
  for await (const line of rl) {
    const text = line.trim();
    if (text === "/quit") break;
    if (text === "/help") {
      show("/devices: devices of you and the bot with their fingerprints; /quit: leave (the room stays)");
      show("/newroom: switch to a new encrypted room whose history new members may read (shared)");
      show("/invite @user:server: invite someone here, sharing the room's history with them");
      show("/join !room:server: accept an invite and switch to that room; /history [N]: its last N events");
    } else if (text === "/devices") {
      await showDevices(me.user_id);
      if (args.bot) await showDevices(args.bot);
    } else if (text === "/newroom") {
      try {
        roomId = await jc.createRoom({ invite: [], historyVisibility: "shared", name: "history demo" });
        show(`now in room ${roomId} (encrypted, history shared with new members); type, then /invite someone`);
      } catch (e) {
        show(`! no room: ${errorReply(e).message}`);
      }
    } else if (text.startsWith("/join ")) {
      const target = text.slice("/join ".length).trim();
      try {
        const { inviter } = await jc.acceptInvite({ roomId: target, timeoutMs: 30_000 });
        roomId = target;
        show(`joined ${roomId}${inviter ? ` (invited by ${inviter}; their room history imported if they shared it)` : ""}`);
      } catch (e) {
        show(`! not joined: ${errorReply(e).message}`);
      }
    } else if (text === "/history" || text.startsWith("/history ")) {
      const n = Number.parseInt(text.slice("/history".length).trim() || "10", 10);
      try {
        const events = await jc.roomHistory(roomId, Number.isInteger(n) && n > 0 && n <= 200 ? n : 10, 30_000);
        for (const d of events.filter((e) => e.type === "m.room.message" || e.wire_type === "m.room.encrypted")) {
          const why = d.withheld_code ?? d.failure?.code;
          const body = d.decryption === "failed" ? `** unable to decrypt: ${why} **` : d.content?.body;
          const vouched = d.forwarder ? ` [key shared by ${d.forwarder}]` : "";
          show(`${time(d.origin_server_ts)} <${d.sender}> ${body}${vouched}`);
        }
      } catch (e) {
        show(`! no history: ${errorReply(e).message}`);
      }
    } else if (text.startsWith("/invite ")) {
      const who = text.slice("/invite ".length).trim();
      try {
        await jc.invite(roomId, who);
        show(`invited ${who}; room history shared with their devices signed by their owner`);
      } catch (e) {
        show(`! not invited: ${errorReply(e).message}`);
      }
    } else if (text.length > 0) {
      try {
        await jc.sendMessage(roomId, { msgtype: "m.text", body: line });
      } catch (e) {
        show(`! not sent: ${errorReply(e).message}`);
      }
    }
    rl.prompt();
  }
  clearInterval(printer);
  jc.stop();
  out("bye");
  process.exit(0);
}

main().catch((e) => {
  const err = errorReply(e);
  note(err.kind === "unreachable" ? `chat: ${args.homeserver}: ${err.message}` : `chat: ${err.kind}: ${err.message}`);
  process.exit(1);
});
