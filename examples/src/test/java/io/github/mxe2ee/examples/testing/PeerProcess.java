package io.github.mxe2ee.examples.testing;

import io.vertx.core.json.JsonObject;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * An interop peer process (Node or Python) spoken to with JSON lines over stdin/stdout: each
 * request {@code {"id":N,"op":...}} gets one reply line {@code {"id":N,"result":...}} or {@code
 * {"id":N,"error":{...}}}. The peer's stderr goes to {@code target/peer-NAME.log}.
 *
 * <p>Not thread-safe: one caller at a time. {@link #close()} closes stdin and waits, then kills.
 */
public final class PeerProcess implements AutoCloseable {

  /** How long one request may take, including the first one's library start-up. */
  public static final long REQUEST_TIMEOUT_S = 60;

  private final Process process;
  private final Writer stdin;
  private final BufferedReader stdout;
  private long nextId = 1;

  private PeerProcess(Process process) {
    this.process = process;
    this.stdin = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
    this.stdout =
        new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
  }

  /** Starts {@code node interop/node/SCRIPT}. */
  public static PeerProcess node(String script) {
    return node(script, "node-" + script);
  }

  /**
   * Starts {@code node interop/node/SCRIPT} with its stderr in {@code target/peer-LOGNAME.log}, so
   * that several processes of one script keep separate logs.
   */
  public static PeerProcess node(String script, String logName) {
    Path root = ProjectPaths.root();
    requireFile(root.resolve("interop/node/node_modules"), "run scripts/install-peers.sh");
    return start(root, logName, List.of("node", "interop/node/" + script));
  }

  /** Starts {@code .venv/bin/python interop/python/SCRIPT}. */
  public static PeerProcess python(String script) {
    Path root = ProjectPaths.root();
    Path py = root.resolve(".venv/bin/python");
    requireFile(py, "run scripts/setup.sh");
    return start(root, "python-" + script, List.of(py.toString(), "interop/python/" + script));
  }

  private static void requireFile(Path p, String hint) {
    if (!Files.exists(p)) {
      throw new IllegalStateException(p + " is missing: " + hint);
    }
  }

  private static PeerProcess start(Path root, String name, List<String> cmd) {
    try {
      Path log = Path.of("target", "peer-" + name.replace('/', '_') + ".log").toAbsolutePath();
      Files.createDirectories(log.getParent());
      Process p =
          new ProcessBuilder(cmd)
              .directory(root.toFile())
              .redirectError(ProcessBuilder.Redirect.to(log.toFile()))
              .start();
      return new PeerProcess(p);
    } catch (IOException e) {
      throw new IllegalStateException("cannot start " + cmd, e);
    }
  }

  /**
   * Sends {@code {"id":N,"op":op, ...params}} and returns the reply object.
   *
   * @throws IllegalStateException when the peer exits, times out or answers another id
   */
  public JsonObject request(String op, JsonObject params) {
    return request(op, params, REQUEST_TIMEOUT_S);
  }

  /**
   * Like {@link #request(String, JsonObject)} with its own bound, for operations that wait inside
   * the peer (a peer that is still busy with a timed-out request answers it before the next one).
   */
  public JsonObject request(String op, JsonObject params, long timeoutSeconds) {
    long id = nextId++;
    JsonObject req = params.copy().put("id", id).put("op", op);
    try {
      stdin.write(req.encode() + "\n");
      stdin.flush();
      CompletableFuture<String> line = CompletableFuture.supplyAsync(this::readLine);
      String reply = line.get(timeoutSeconds, TimeUnit.SECONDS);
      if (reply == null) {
        throw new IllegalStateException("peer exited before answering " + op);
      }
      JsonObject json = new JsonObject(reply);
      if (json.getLong("id", -1L) != id) {
        throw new IllegalStateException("reply for another id: " + reply);
      }
      return json;
    } catch (IOException | ExecutionException | TimeoutException e) {
      throw new IllegalStateException("peer request " + op + " failed", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  private String readLine() {
    try {
      return stdout.readLine();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @Override
  public void close() {
    try {
      stdin.close();
    } catch (IOException ignored) {
      // the peer may already be gone
    }
    try {
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
    }
  }
}
