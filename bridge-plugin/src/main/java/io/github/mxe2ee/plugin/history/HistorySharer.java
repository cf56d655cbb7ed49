package io.github.mxe2ee.plugin.history;

import io.github.mxe2ee.attachment.EncryptedAttachment;
import io.github.mxe2ee.attachment.EncryptedFile;
import io.github.mxe2ee.machine.OlmMachine;
import io.github.mxe2ee.machine.RoomKeyBundle;
import io.github.mxe2ee.machine.RoomKeyBundleShare;
import io.github.mxe2ee.plugin.HomeserverClient;
import io.github.mxe2ee.plugin.media.MediaClient;
import io.github.mxe2ee.plugin.send.RoomSender;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.security.SecureRandom;
import java.util.List;
import java.util.function.Supplier;

/**
 * Invites with history (MSC4268, "Room key bundle format" and "m.room_key_bundle to-device
 * message"): builds the room's key bundle through the engine, encrypts it as an {@code
 * EncryptedFile} v2, uploads the ciphertext, sends {@code m.room_key_bundle} to the invitee's
 * devices through the request pump, then sends the invite (in this order, as Element does, so the
 * announcement is there when the invitee sees the invite).
 */
final class HistorySharer {
  private static final System.Logger LOG = System.getLogger(HistorySharer.class.getName());

  private final HomeserverClient client;
  private final RoomSender.Worker worker;
  private final RoomSender.Requests requests;
  private final OlmMachine machine;
  private final Supplier<MediaClient> media;
  private final HistoryOptions options;
  private final SecureRandom random = new SecureRandom();

  HistorySharer(
      HomeserverClient client,
      RoomSender.Worker worker,
      RoomSender.Requests requests,
      OlmMachine machine,
      Supplier<MediaClient> media,
      HistoryOptions options) {
    this.client = client;
    this.worker = worker;
    this.requests = requests;
    this.machine = machine;
    this.media = media;
    this.options = options;
  }

  /**
   * Shares (when {@code share} and on for the room), then invites; a failed sharing is reported,
   * not fatal.
   */
  Future<InviteResult> invite(String roomId, String userId, boolean share) {
    Future<InviteResult> shared =
        share && options.sharesIn(roomId)
            ? InviteCheck.doomed(client, roomId, machine.userId(), userId)
                .compose(
                    why ->
                        why != null
                            ? Future.succeededFuture(InviteResult.notShared(roomId, userId, why))
                            : share(roomId, userId))
                .recover(
                    err -> {
                      LOG.log(
                          System.Logger.Level.WARNING,
                          "room {0}: history not shared with {1}: {2}",
                          roomId,
                          userId,
                          err.toString());
                      return Future.succeededFuture(
                          InviteResult.notShared(
                              roomId, userId, "sharing failed: " + err.getClass().getSimpleName()));
                    })
            : Future.succeededFuture(InviteResult.notShared(roomId, userId, "sharing off"));
    String path = "/_matrix/client/v3/rooms/" + RoomHistory.encode(roomId) + "/invite";
    return shared.compose(
        result ->
            client
                .request("POST", path, new JsonObject().put("user_id", userId))
                .map(
                    v -> {
                      LOG.log(
                          System.Logger.Level.INFO,
                          "room {0}: invited {1}; history {2}",
                          roomId,
                          userId,
                          result.historyShared()
                              ? "shared with " + result.devices()
                              : "not shared (" + result.note() + ")");
                      return result;
                    }));
  }

  private Future<InviteResult> share(String roomId, String userId) {
    return worker
        .call(
            "invite()",
            () -> {
              RoomKeyBundle bundle = machine.buildRoomKeyBundle(roomId);
              try {
                return new Built(
                    bundle.isEmpty() ? null : bundle.encrypt(random),
                    bundle.sharedSessions(),
                    bundle.withheldSessions());
              } finally {
                bundle.wipe();
              }
            })
        .compose(
            built -> {
              if (built.encrypted() == null) {
                return Future.succeededFuture(
                    InviteResult.notShared(roomId, userId, "nothing to share"));
              }
              return media
                  .get()
                  .upload(Buffer.buffer(built.encrypted().ciphertext()))
                  .compose(
                      mxc ->
                          send(
                              roomId,
                              userId,
                              built,
                              built.encrypted().file().withUrl(mxc.toString())));
            });
  }

  private record Built(EncryptedAttachment encrypted, int shared, int withheld) {}

  /** Makes the invitee's devices and Olm sessions current, then sends the announcement. */
  private Future<InviteResult> send(String roomId, String userId, Built built, EncryptedFile file) {
    List<String> users = List.of(userId);
    return worker
        .call(
            "invite()",
            () -> {
              machine.updateTrackedUsers(users);
              return null;
            })
        .compose(v -> requests.drain())
        .compose(v -> worker.call("invite()", () -> machine.getMissingSessions(users)))
        .compose(
            claim ->
                claim.isPresent()
                    ? requests.sendAll(List.of(claim.get()))
                    : Future.<Void>succeededFuture())
        .compose(
            v -> worker.call("invite()", () -> machine.shareRoomKeyBundle(roomId, userId, file)))
        .compose(
            (RoomKeyBundleShare share) ->
                requests
                    .sendAll(share.requests())
                    .map(
                        v -> {
                          boolean sent = !share.devices().isEmpty();
                          LOG.log(
                              System.Logger.Level.INFO,
                              "room {0}: room key bundle ({1} sessions, {2} withheld) for {3}:"
                                  + " sent to {4}, skipped {5}",
                              roomId,
                              built.shared(),
                              built.withheld(),
                              userId,
                              share.devices(),
                              share.skipped());
                          return new InviteResult(
                              roomId,
                              userId,
                              sent,
                              built.shared(),
                              built.withheld(),
                              share.devices(),
                              share.skipped(),
                              sent ? null : "no eligible device");
                        }));
  }
}
