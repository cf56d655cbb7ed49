package io.github.mxe2ee.plugin.history;

import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Map;

/**
 * The last messages of a room as {@link RoomHistory#lastMessages} found them, oldest first.
 *
 * @param messages the {@code m.room.message} events read, decrypted where possible, in the plugin's
 *     event shape ({@code mxe2ee} object: {@code encrypted}, {@code sender_device}, {@code trust},
 *     {@code forwarder} when the key came from a room key bundle), oldest first; undecryptable ones
 *     are not in this list
 * @param undecryptable how many encrypted events among those scanned could not be decrypted
 * @param failures those undecryptable events by cause ({@code mxe2ee.decryption_failure}, or the
 *     withheld code when the sender gave one, e.g. {@code m.history_not_shared})
 * @param hidden messages left out because not every member who reads the answer may see them: in a
 *     room whose history visibility is {@code joined} (or {@code invited}, or unknown), those sent
 *     before the latest join (or invite) of a current member
 * @param scanned how many events of the room were read from the server
 * @param reachedStart whether the scan reached the room's first event
 */
public record RoomMessages(
    List<JsonObject> messages,
    int undecryptable,
    Map<String, Integer> failures,
    int hidden,
    int scanned,
    boolean reachedStart) {

  /** Copies the collections. */
  public RoomMessages {
    messages = List.copyOf(messages);
    failures = Map.copyOf(failures);
  }
}
