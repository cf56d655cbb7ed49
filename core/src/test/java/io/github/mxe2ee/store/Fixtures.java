package io.github.mxe2ee.store;

import io.github.mxe2ee.device.LocalTrust;

/** Sample records for store tests. Pickle texts are arbitrary opaque strings. */
public final class Fixtures {
  public static final AccountId ALICE = AccountId.of("@alice:example.org", "ALICEDEV");
  public static final AccountId BOB = AccountId.of("@bob:example.org", "BOBDEV");
  public static final String ROOM = "!room:example.org";
  public static final String ROOM2 = "!other:example.org";

  private Fixtures() {}

  public static EncryptedPickle pickle(String tag) {
    return new EncryptedPickle("pickle-" + tag);
  }

  public static OlmSessionRecord olm(String senderKey, String id, long lastUsed) {
    return new OlmSessionRecord(senderKey, id, pickle("olm-" + id), 1000, lastUsed);
  }

  public static InboundGroupSessionRecord inbound(
      String room, String id, boolean sharedHistory, boolean backedUp) {
    return new InboundGroupSessionRecord(
        room, id, "senderKey-" + id, "signingKey-" + id, 3, sharedHistory, backedUp, pickle(id));
  }

  public static OutboundGroupSessionRecord outbound(String room, String id, long index) {
    return new OutboundGroupSessionRecord(room, id, pickle("out-" + id + "-" + index), index, 5000);
  }

  public static DeviceRecord device(String user, String id, LocalTrust trust, boolean deleted) {
    return new DeviceRecord(user, id, "{\"device_id\":\"" + id + "\"}", trust, deleted);
  }
}
