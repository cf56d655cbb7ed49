package io.github.mxe2ee.plugin.backup;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.machine.DecryptionFailure;
import io.github.mxe2ee.machine.DecryptionResult;
import io.github.mxe2ee.machine.OlmMachine;
import io.github.mxe2ee.machine.OutgoingRequest;
import io.github.mxe2ee.plugin.HomeserverClient;
import io.github.mxe2ee.plugin.HomeserverException;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The key backup as a late-key source in the decrypt-failure path (docs/KEY_BACKUP.md): when events
 * of a sync batch fail with a missing session (or a session that starts too late), their sessions
 * are looked up in the enabled backup at once ({@link OlmMachine#keyBackupLookup}), and the events
 * are decrypted again, so the caller gets them decrypted in the same batch (a room key delayed or
 * lost in transit, a device restored after a store loss whose background restore has not finished).
 *
 * <p>Runs on the plugin's worker and waits for the HTTP answers there (they complete on the event
 * loop, so this never deadlocks). Bounded: at most {@value #MAX_LOOKUPS_PER_BATCH} sessions per
 * batch, each session once per machine lifetime, {@value #TIMEOUT_MS} ms per lookup; a lookup that
 * times out is answered later through the request pump. Used by the plugin's implementation; not a
 * stable API.
 */
public final class BackupLookup {
  private static final System.Logger LOG = System.getLogger(BackupLookup.class.getName());
  private static final ObjectMapper MAPPER = new ObjectMapper();

  /** Most sessions looked up while one batch waits: a backlog of old events must not stall sync. */
  public static final int MAX_LOOKUPS_PER_BATCH = 4;

  /** How long one lookup may hold the batch. */
  public static final long TIMEOUT_MS = 10_000;

  private BackupLookup() {}

  /**
   * Looks up the sessions of the events in {@code results} that failed for a missing key, and
   * replaces their results with a new decryption attempt. Never throws for a failed lookup.
   *
   * @param events the room's encrypted events, in the order of {@code results}
   * @param results their results (null entries are skipped); updated in place
   */
  public static void retry(
      OlmMachine machine,
      HomeserverClient client,
      String roomId,
      List<ObjectNode> events,
      List<DecryptionResult> results) {
    if (machine.keyBackupVersion().isEmpty()) {
      return;
    }
    Map<OutgoingRequest, List<Integer>> bySession = new LinkedHashMap<>();
    Map<String, OutgoingRequest> sessions = new LinkedHashMap<>();
    for (int i = 0; i < results.size(); i++) {
      if (!(results.get(i) instanceof DecryptionResult.UnableToDecrypt u)
          || (u.reason() != DecryptionFailure.MISSING_SESSION
              && u.reason() != DecryptionFailure.UNKNOWN_INDEX)) {
        continue;
      }
      String sessionId = events.get(i).path("content").path("session_id").asText("");
      OutgoingRequest r = sessions.get(sessionId);
      if (r == null) {
        if (sessions.size() >= MAX_LOOKUPS_PER_BATCH) {
          continue;
        }
        r = machine.keyBackupLookup(roomId, events.get(i)).orElse(null);
        if (r == null) {
          continue;
        }
        sessions.put(sessionId, r);
      }
      bySession.computeIfAbsent(r, k -> new ArrayList<>()).add(i);
    }
    for (Map.Entry<OutgoingRequest, List<Integer>> e : bySession.entrySet()) {
      if (send(machine, client, e.getKey())) {
        for (int i : e.getValue()) {
          try {
            results.set(i, machine.decryptRoomEvent(roomId, events.get(i)));
          } catch (RuntimeException ex) {
            // The first result stands.
          }
        }
      }
    }
  }

  /** Sends one lookup and feeds the answer back; true if the backup had the key. */
  private static boolean send(OlmMachine machine, HomeserverClient client, OutgoingRequest r) {
    try {
      JsonObject body =
          client
              .request(r.method(), r.path(), null)
              .toCompletionStage()
              .toCompletableFuture()
              .get(TIMEOUT_MS, TimeUnit.MILLISECONDS);
      machine.markRequestAsSent(r.requestId(), r.type(), MAPPER.readTree(body.encode()));
      return true;
    } catch (ExecutionException e) {
      int status = e.getCause() instanceof HomeserverException h ? h.statusCode() : 0;
      machine.markRequestAsFailed(r.requestId(), r.type(), status, null);
      if (status != 404) {
        LOG.log(
            System.Logger.Level.WARNING,
            "key backup lookup failed: {0}",
            String.valueOf(e.getCause().getMessage()));
      }
      return false;
    } catch (TimeoutException e) {
      return false; // still in outgoingRequests: the pump gets its answer later
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    } catch (java.io.IOException e) {
      machine.markRequestAsFailed(r.requestId(), r.type(), 0, null);
      return false;
    }
  }
}
