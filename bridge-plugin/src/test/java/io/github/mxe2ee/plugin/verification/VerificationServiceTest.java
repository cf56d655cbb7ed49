package io.github.mxe2ee.plugin.verification;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.machine.MachineConfig;
import io.github.mxe2ee.machine.OlmMachine;
import io.github.mxe2ee.machine.OutgoingRequest;
import io.github.mxe2ee.machine.SyncChanges;
import io.github.mxe2ee.sas.SasState;
import io.github.mxe2ee.sas.SasVerification;
import io.github.mxe2ee.store.AccountId;
import io.github.mxe2ee.store.memory.MemoryCryptoStore;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The plugin's verification policy on real machines: the bot's {@link VerificationService} over a
 * real {@link OlmMachine}, and real machines of other users requesting. The transport between them
 * is a minimal in-test relay (key uploads acknowledged, key queries answered from the machines' own
 * device keys, to-device messages delivered in order): only what a verification needs. The
 * service's machine calls run inline (the plugin runs them on its worker).
 */
class VerificationServiceTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String BOT = "@bot:example.org";

  private final Map<String, OlmMachine> machines = new HashMap<>();
  private final Map<String, List<ObjectNode>> inbox = new HashMap<>();
  private final AtomicLong clock = new AtomicLong();
  private final List<Verification> published = new ArrayList<>();

  private OlmMachine machine(String user, String device) {
    byte[] key = new byte[32];
    key[0] = (byte) (user.hashCode() | 1);
    OlmMachine m =
        OlmMachine.open(
            MachineConfig.of(user, device, key),
            MemoryCryptoStore.create(AccountId.of(user, device)));
    machines.put(user, m);
    inbox.put(user, new ArrayList<>());
    return m;
  }

  /** Sends what {@code m} queued, answering as a homeserver would for these requests. */
  private void pump(OlmMachine m) {
    for (int round = 0; round < 10; round++) {
      List<OutgoingRequest> requests = m.outgoingRequests();
      if (requests.isEmpty()) {
        return;
      }
      for (OutgoingRequest r : requests) {
        ObjectNode response = JSON.createObjectNode();
        switch (r.type()) {
          case KEYS_UPLOAD -> response.putObject("one_time_key_counts");
          case KEYS_QUERY -> {
            ObjectNode keys = response.putObject("device_keys");
            r.body()
                .path("device_keys")
                .fieldNames()
                .forEachRemaining(
                    u -> {
                      OlmMachine other = machines.get(u);
                      ObjectNode forUser = keys.putObject(u);
                      if (other != null) {
                        forUser.set(other.deviceId(), other.deviceKeys().toJson());
                      }
                    });
          }
          case TO_DEVICE ->
              r.body()
                  .path("messages")
                  .fields()
                  .forEachRemaining(
                      to ->
                          to.getValue()
                              .fields()
                              .forEachRemaining(
                                  d -> {
                                    ObjectNode ev = JSON.createObjectNode();
                                    ev.put("type", r.eventType());
                                    ev.put("sender", m.userId());
                                    ev.set("content", d.getValue());
                                    inbox.get(to.getKey()).add(ev);
                                  }));
          default -> {}
        }
        m.markRequestAsSent(r.requestId(), r.type(), response);
      }
    }
  }

  private void sync(OlmMachine m) {
    List<ObjectNode> events = new ArrayList<>(inbox.get(m.userId()));
    inbox.get(m.userId()).clear();
    m.receiveSyncChanges(new SyncChanges(events, List.of(), List.of(), null, null, null));
  }

  private VerificationService service(OlmMachine bot, VerificationOptions options) {
    VerificationService s =
        new VerificationService(
            new VerificationService.Worker() {
              @Override
              public <T> Future<T> run(String what, java.util.concurrent.Callable<T> call) {
                try {
                  return Future.succeededFuture(call.call());
                } catch (Exception e) {
                  return Future.failedFuture(e);
                }
              }
            },
            bot,
            () -> {
              pump(bot);
              return Future.succeededFuture();
            },
            options,
            BOT,
            clock::get);
    s.setHandler(published::add);
    return s;
  }

  /** Everyone knows everyone's device keys. */
  private void introduce() {
    for (OlmMachine m : machines.values()) {
      m.updateTrackedUsers(List.copyOf(machines.keySet()));
      pump(m);
    }
  }

  private void round(OlmMachine bot, VerificationService service, OlmMachine... others) {
    for (int i = 0; i < 4; i++) {
      for (OlmMachine o : others) {
        pump(o);
      }
      sync(bot);
      pump(bot); // as the plugin does: a sync, a request round, then the policy
      service.settle().result();
      for (OlmMachine o : others) {
        sync(o);
      }
    }
  }

  @Test
  void allowListedUserIsAccepted_othersAreCancelledWithMUser() {
    OlmMachine bot = machine(BOT, "BOTDEV");
    OlmMachine alice = machine("@alice:example.org", "ALICEDEV");
    OlmMachine mallory = machine("@mallory:example.org", "MALDEV");
    introduce();
    VerificationService service =
        service(bot, new VerificationOptions().setAllowedUsers(List.of("@alice:example.org")));

    SasVerification fromAlice = alice.startVerification(BOT, "BOTDEV");
    SasVerification fromMallory = mallory.startVerification(BOT, "BOTDEV");
    round(bot, service, alice, mallory);

    assertEquals(SasState.CANCELLED, fromMallory.state());
    assertEquals("m.user", fromMallory.cancelInfo().orElseThrow().code());
    assertTrue(fromAlice.state() == SasState.KEYS_EXCHANGED, "alice's flow went on: " + fromAlice);
    Verification shown =
        published.stream()
            .filter(v -> v.flowId().equals(fromAlice.flowId()))
            .filter(v -> v.state() == SasState.KEYS_EXCHANGED)
            .findFirst()
            .orElseThrow();
    assertEquals(3, shown.decimals().size());
    assertEquals(7, shown.emoji().size());
    assertEquals(
        java.util.Arrays.stream(fromAlice.decimals().orElseThrow()).boxed().toList(),
        shown.decimals(),
        "the value shows the same numbers as the other side");
    assertTrue(
        published.stream()
            .anyMatch(
                v ->
                    v.flowId().equals(fromMallory.flowId())
                        && v.state() == SasState.CANCELLED
                        && v.cancelCode().orElse("").equals("m.user")),
        "the handler saw the refusal");

    // Confirm through the value: both sides done, the device verified.
    shown.confirm().result();
    fromAlice.confirm();
    round(bot, service, alice);
    assertEquals(SasState.DONE, fromAlice.state());
    assertTrue(
        bot.device("@alice:example.org", "ALICEDEV").orElseThrow().trust().isVerified(),
        "the bot marked alice's device verified");
  }

  @Test
  void unansweredComparison_isCancelledWithTimeout() {
    OlmMachine bot = machine(BOT, "BOTDEV");
    OlmMachine alice = machine("@alice:example.org", "ALICEDEV");
    introduce();
    VerificationService service =
        service(
            bot,
            new VerificationOptions()
                .setAllowedUsers(List.of("@alice:example.org"))
                .setComparisonTimeoutMs(VerificationOptions.MIN_COMPARISON_TIMEOUT_MS));
    SasVerification flow = alice.startVerification(BOT, "BOTDEV");
    round(bot, service, alice);
    assertEquals(SasState.KEYS_EXCHANGED, flow.state());

    clock.addAndGet((VerificationOptions.MIN_COMPARISON_TIMEOUT_MS - 1000) * 1_000_000L);
    round(bot, service, alice);
    assertEquals(SasState.KEYS_EXCHANGED, flow.state(), "not yet");
    clock.addAndGet(2000 * 1_000_000L);
    round(bot, service, alice);
    assertEquals(SasState.CANCELLED, flow.state());
    assertEquals("m.timeout", flow.cancelInfo().orElseThrow().code());
  }
}
