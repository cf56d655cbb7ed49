package io.github.mxe2ee.interop;

import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.provider.Arguments;

/**
 * How to launch each implementation's peer driver, and a pool of running peers shared by the whole
 * interop suite (starting a JVM or a Python interpreter per test would dominate its run time).
 *
 * <p>Launch commands, relative to the repository root (found by walking up from the working
 * directory to the directory holding {@code interop/mxe2ee-peer}):
 *
 * <ul>
 *   <li>{@link Kind#MXE2EE}: {@code interop/mxe2ee-peer} (needs {@code target/classpath.txt}, which
 *       Maven writes in {@code generate-resources});
 *   <li>{@link Kind#VODOZEMAC}: {@code .venv/bin/python interop/python/vodozemac_peer.py};
 *   <li>{@link Kind#LIBOLM}: {@code .venv/bin/python interop/python/libolm_peer.py}.
 * </ul>
 *
 * <p>Without {@code .venv} the Python pairs are skipped with the reason, unless {@code
 * MXE2EE_REQUIRE_INTEROP=true} or {@code CI=true} (CI installs the peers through {@code
 * scripts/setup.sh}), which make it a failure.
 *
 * <p>The pool keeps {@link #SLOTS} processes per kind so a same-implementation pair still runs
 * between two separate processes. Broken peers (timed out, exited) are replaced on the next {@link
 * #get}. Thread-safe; all peers are killed at JVM exit.
 */
final class Peers {
  /** The implementations under test. */
  enum Kind {
    MXE2EE("mxe2ee"),
    VODOZEMAC("vodozemac"),
    LIBOLM("libolm");

    final String id;

    Kind(String id) {
      this.id = id;
    }

    @Override
    public String toString() {
      return id;
    }
  }

  /** Processes per implementation: one per side of a same-implementation pair. */
  static final int SLOTS = 2;

  private static final Map<Kind, PeerProcess[]> POOL = new EnumMap<>(Kind.class);
  private static final Map<Kind, Set<String>> OPS = new EnumMap<>(Kind.class);
  private static Path root;

  static {
    Runtime.getRuntime().addShutdownHook(new Thread(Peers::closeAll, "peers-shutdown"));
  }

  private Peers() {}

  /** Every ordered pair (alice, bob) of implementations, same-same included: 9 pairs. */
  static Stream<Arguments> orderedPairs() {
    List<Arguments> pairs = new ArrayList<>();
    for (Kind alice : Kind.values()) {
      for (Kind bob : Kind.values()) {
        pairs.add(Arguments.of(alice, bob));
      }
    }
    return pairs.stream();
  }

  /** The peer for {@code kind} in {@code slot} (0 or 1), started or restarted as needed. */
  static synchronized PeerProcess get(Kind kind, int slot) {
    PeerProcess[] slots = POOL.computeIfAbsent(kind, k -> new PeerProcess[SLOTS]);
    PeerProcess peer = slots[slot];
    if (peer == null || peer.isBroken()) {
      if (peer != null) {
        peer.close();
      }
      peer = start(kind, kind.id + "#" + slot);
      slots[slot] = peer;
    }
    return peer;
  }

  /**
   * The peers for an ordered pair: {@code alice} in slot 0, {@code bob} in slot 1, so even a
   * same-implementation pair talks across two processes. Each test class then checks, with {@link
   * #requireOps}, that both drivers implement the operations it uses.
   */
  static PeerProcess[] pair(Kind alice, Kind bob) {
    PeerProcess a = get(alice, 0);
    PeerProcess b = get(bob, 1);
    return new PeerProcess[] {a, b};
  }

  /**
   * Skips the test, with a message naming what is missing, if the driver does not implement {@code
   * ops}. Only the mxe2ee driver may lack operations (while Olm or Megolm has not landed); a Python
   * peer lacking one is a defect and fails.
   */
  static synchronized void requireOps(Kind kind, PeerProcess peer, List<String> ops) {
    Set<String> have = OPS.get(kind);
    if (have == null) {
      have = new TreeSet<>();
      for (JsonNode op : peer.ok("info", null).get("ops")) {
        have.add(op.asText());
      }
      OPS.put(kind, have);
    }
    List<String> missing = new ArrayList<>();
    for (String op : ops) {
      if (!have.contains(op)) {
        missing.add(op);
      }
    }
    if (missing.isEmpty()) {
      return;
    }
    String message = kind + " peer driver does not implement " + missing;
    if (kind == Kind.MXE2EE) {
      Assumptions.abort(
          message
              + ": mxe2ee's Olm/Megolm (io.github.mxe2ee.olm / io.github.mxe2ee.megolm) have not"
              + " landed on main, so PeerDriver cannot offer them yet");
    }
    fail(message);
  }

  /** The repository root: the nearest ancestor of the working directory with the peer script. */
  static synchronized Path repoRoot() {
    if (root == null) {
      Path dir = Paths.get("").toAbsolutePath();
      while (dir != null && !Files.isRegularFile(dir.resolve("interop/mxe2ee-peer"))) {
        dir = dir.getParent();
      }
      if (dir == null) {
        fail(
            "cannot find the repository root (a directory with interop/mxe2ee-peer) above "
                + Paths.get("").toAbsolutePath());
      }
      root = dir;
    }
    return root;
  }

  static List<String> command(Kind kind) {
    Path repo = repoRoot();
    switch (kind) {
      case MXE2EE:
        Path classpath = repo.resolve("interop/target/classpath.txt");
        if (!Files.isRegularFile(classpath)) {
          fail(classpath + " is missing: build with `mvn -B -pl interop -am test-compile` first");
        }
        return List.of(repo.resolve("interop/mxe2ee-peer").toString());
      case VODOZEMAC:
      case LIBOLM:
        Path python = repo.resolve(".venv/bin/python");
        if (!Files.isExecutable(python)) {
          missingPrerequisite(
              python
                  + " is missing: run scripts/setup.sh (or `python3 -m venv .venv &&"
                  + " .venv/bin/pip install -r interop/python/requirements.txt`) to install the"
                  + " vodozemac and libolm peers");
        }
        String script = kind == Kind.VODOZEMAC ? "vodozemac_peer.py" : "libolm_peer.py";
        return List.of(python.toString(), repo.resolve("interop/python/" + script).toString());
      default:
        throw new IllegalArgumentException(kind.toString());
    }
  }

  /** A fresh peer outside the pool; the caller closes it. */
  static PeerProcess startDedicated(Kind kind) {
    return start(kind, kind.id + "#dedicated");
  }

  /**
   * Environment variable that turns a missing Python environment from a skip into a failure, as for
   * the other interop peers; {@code CI=true} does the same, since CI installs the peers.
   */
  static final String REQUIRE_ENV = "MXE2EE_REQUIRE_INTEROP";

  /**
   * Skips the calling test with {@code reason} on a developer machine without the peers installed;
   * fails instead when {@value #REQUIRE_ENV}{@code =true} or {@code CI=true}.
   */
  private static void missingPrerequisite(String reason) {
    if ("true".equalsIgnoreCase(System.getenv(REQUIRE_ENV))
        || "true".equalsIgnoreCase(System.getenv("CI"))) {
      fail(reason);
    }
    Assumptions.abort(reason + " (set " + REQUIRE_ENV + "=true to fail instead of skipping)");
  }

  private static PeerProcess start(Kind kind, String name) {
    return PeerProcess.start(name, command(kind), repoRoot(), PeerProcess.DEFAULT_TIMEOUT);
  }

  private static synchronized void closeAll() {
    for (PeerProcess[] slots : POOL.values()) {
      for (PeerProcess peer : slots) {
        if (peer != null) {
          peer.close();
        }
      }
    }
    POOL.clear();
  }
}
