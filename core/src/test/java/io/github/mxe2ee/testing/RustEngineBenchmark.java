package io.github.mxe2ee.testing;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.crypto.Curve25519PublicKey;
import io.github.mxe2ee.json.JsonSigning;
import io.github.mxe2ee.olm.Account;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The share part of issue 5 item 10 for Element's Rust {@code OlmMachine} (matrix-sdk-crypto-wasm
 * in Node, in-memory store), the same work as {@code benchmarks/EngineBenchmark}: feed a {@code
 * /keys/claim} response for N devices, then {@code share_room_key}; then again after a rotation. A
 * plain timed main (no assertions). The times include the JSON-lines transport of the request and
 * reply (a few MB for 10,000 devices), so they are an upper bound for the Rust machine itself.
 *
 * <p>Run from the repository root after {@code mvn -pl core test-compile}: {@code java -cp
 * core/target/test-classes:core/target/classes:... io.github.mxe2ee.testing.RustEngineBenchmark
 * [users devicesPerUser]}.
 */
public final class RustEngineBenchmark {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final int ROUNDS = 3;

  private RustEngineBenchmark() {}

  public static void main(String[] args) {
    int users = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
    int perUser = args.length > 1 ? Integer.parseInt(args[1]) : 10;
    for (int round = 1; round <= ROUNDS; round++) {
      round(users, perUser, round);
    }
  }

  private static void sign(Account a, ObjectNode json, String user, String device) {
    String sig = a.sign(JsonSigning.signedBytes(json)).toBase64();
    json.putObject("signatures").putObject(user).put("ed25519:" + device, sig);
  }

  private static void round(int users, int perUser, int round) {
    SecureRandom random = new SecureRandom();
    ObjectNode query = MAPPER.createObjectNode();
    ObjectNode queryKeys = query.putObject("device_keys");
    query.putObject("failures");
    ObjectNode claim = MAPPER.createObjectNode();
    ObjectNode claimKeys = claim.putObject("one_time_keys");
    claim.putObject("failures");
    List<String> userIds = new ArrayList<>();
    for (int u = 0; u < users; u++) {
      String user = "@user" + u + ":localhost";
      userIds.add(user);
      ObjectNode qu = queryKeys.putObject(user);
      ObjectNode cu = claimKeys.putObject(user);
      for (int d = 0; d < perUser; d++) {
        String device = "DEVICE" + d;
        Account a = Account.create(random);
        ObjectNode json = MAPPER.createObjectNode();
        json.put("user_id", user).put("device_id", device);
        json.putArray("algorithms").add("m.olm.v1.curve25519-aes-sha2").add("m.megolm.v1.aes-sha2");
        json.putObject("keys")
            .put("curve25519:" + device, a.curve25519Key().toBase64())
            .put("ed25519:" + device, a.ed25519Key().toBase64());
        sign(a, json, user, device);
        qu.set(device, json);
        Map.Entry<String, Curve25519PublicKey> otk =
            a.generateOneTimeKeys(1).entrySet().iterator().next();
        ObjectNode k = MAPPER.createObjectNode().put("key", otk.getValue().toBase64());
        sign(a, k, user, device);
        cu.putObject(device).set("signed_curve25519:" + otk.getKey(), k);
      }
    }
    try (RustMachinePeer peer = RustMachinePeer.start("@bot:localhost", "BOTDEVICE")) {
      peer.updateTrackedUsers(userIds);
      for (ObjectNode r : peer.outgoingRequests()) {
        String type = r.path("type").asText();
        if (type.equals("keys_query")) {
          peer.markRequestAsSent(r, query);
        } else if (type.equals("keys_upload")) {
          ObjectNode counts = MAPPER.createObjectNode();
          counts.putObject("one_time_key_counts").put("signed_curve25519", 50);
          peer.markRequestAsSent(r, counts);
        }
      }
      ObjectNode p = MAPPER.createObjectNode();
      userIds.forEach(p.putArray("users")::add);
      ObjectNode claimRequest =
          (ObjectNode) peer.call("machine.get_missing_sessions", p).get("request");
      long t0 = System.nanoTime();
      peer.markRequestAsSent(claimRequest, claim);
      long t1 = System.nanoTime();
      List<ObjectNode> requests = peer.shareRoomKey("!bench:localhost", userIds, null);
      long t2 = System.nanoTime();
      ObjectNode inv = MAPPER.createObjectNode().put("room_id", "!bench:localhost");
      peer.call("machine.invalidate_group_session", inv);
      long t3 = System.nanoTime();
      List<ObjectNode> again = peer.shareRoomKey("!bench:localhost", userIds, null);
      long t4 = System.nanoTime();
      System.out.printf(
          "rust share round %d: %d devices: new sessions %d ms (claim response %d ms +"
              + " share_room_key %d ms), %d payloads; existing sessions %d ms, %d payloads%n",
          round,
          users * perUser,
          (t2 - t0) / 1_000_000,
          (t1 - t0) / 1_000_000,
          (t2 - t1) / 1_000_000,
          count(requests),
          (t4 - t3) / 1_000_000,
          count(again));
    }
  }

  private static int count(List<ObjectNode> requests) {
    int n = 0;
    for (ObjectNode r : requests) {
      if ("m.room.encrypted".equals(r.path("event_type").asText())) {
        for (var user : r.path("body").path("messages")) {
          n += user.size();
        }
      }
    }
    return n;
  }
}
