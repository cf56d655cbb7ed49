package io.github.mxe2ee.store.sqlite;

import io.github.mxe2ee.store.AccountRecord;
import io.github.mxe2ee.store.EncryptedPickle;
import java.util.Arrays;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * Stand-in for an Olm account pickle in the crash test: the one-time key bookkeeping the real
 * account pickle carries (next key id, unused keys, consumed keys), as opaque text for the store.
 *
 * <pre>
 * text layout: "otk:" nextId ":" unused ids (comma-separated) ":" used ids (comma-separated)
 * </pre>
 */
record FakeAccount(long nextId, SortedSet<Long> unused, SortedSet<Long> used) {
  static final FakeAccount EMPTY = new FakeAccount(0, new TreeSet<>(), new TreeSet<>());

  static FakeAccount parse(AccountRecord record) {
    String[] parts = record.pickle().ciphertext().split(":", -1);
    if (parts.length != 4 || !parts[0].equals("otk")) {
      throw new IllegalStateException("not a fake account pickle");
    }
    return new FakeAccount(Long.parseLong(parts[1]), ids(parts[2]), ids(parts[3]));
  }

  private static SortedSet<Long> ids(String csv) {
    TreeSet<Long> out = new TreeSet<>();
    if (!csv.isEmpty()) {
      Arrays.stream(csv.split(",")).map(Long::parseLong).forEach(out::add);
    }
    return out;
  }

  AccountRecord toRecord() {
    return new AccountRecord(
        new EncryptedPickle("otk:" + nextId + ":" + csv(unused) + ":" + csv(used)), true);
  }

  private static String csv(SortedSet<Long> ids) {
    return ids.stream().map(String::valueOf).collect(Collectors.joining(","));
  }

  /** The Curve25519 key of the peer that claimed key {@code id} (spread over a few peers). */
  static String peerKey(long id) {
    return "peerCurve" + (id % 7);
  }
}
