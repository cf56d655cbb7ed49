package io.github.mxe2ee.interop;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A running peer driver (docs/interop-protocol.md) and a client for it: sends requests as JSON
 * lines, reads replies with a timeout, and kills the process on {@link #close()}.
 *
 * <p>Replies are read by a daemon thread into a queue as soon as the peer writes them, so callers
 * can pipeline any number of requests ({@link #callAll}) without the two pipes deadlocking. Stderr
 * is drained too and its tail is attached to failure messages.
 *
 * <p>Not thread-safe: one test thread drives one peer. A peer that timed out or answered out of
 * order is marked {@link #isBroken() broken} and must be replaced.
 */
final class PeerProcess implements AutoCloseable {
  /** Generous: the first request of a JVM peer includes class loading and JIT warm-up. */
  static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);

  private static final int STDERR_TAIL_CHARS = 4000;
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final JsonNode EOF = JsonNodeFactory.instance.textNode("<eof>");

  private final String name;
  private final Process process;
  private final BufferedWriter stdin;
  private final BlockingQueue<JsonNode> replies = new LinkedBlockingQueue<>();
  private final StringBuilder stderrTail = new StringBuilder();
  private final Duration timeout;
  private long nextId = 1;
  private long awaitedId = 1;
  private boolean broken;

  private PeerProcess(String name, Process process, Duration timeout) {
    this.name = name;
    this.process = process;
    this.timeout = timeout;
    this.stdin =
        new BufferedWriter(
            new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8));
    Thread out = new Thread(() -> readReplies(process.getInputStream()), "peer-" + name + "-out");
    out.setDaemon(true);
    out.start();
    Thread err = new Thread(() -> drainStderr(process.getErrorStream()), "peer-" + name + "-err");
    err.setDaemon(true);
    err.start();
  }

  /** Starts {@code command} in {@code workDir}; {@code name} labels failure messages. */
  static PeerProcess start(String name, List<String> command, Path workDir, Duration timeout) {
    try {
      Process process = new ProcessBuilder(command).directory(workDir.toFile()).start();
      return new PeerProcess(name, process, timeout);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start peer " + name + ": " + command, e);
    }
  }

  String name() {
    return name;
  }

  boolean isBroken() {
    return broken || !process.isAlive();
  }

  /** Writes one request without waiting; returns its id. Call {@link #flush()} before waiting. */
  long send(String op, ObjectNode args) {
    long id = nextId++;
    ObjectNode request = JsonNodeFactory.instance.objectNode();
    request.put("id", id);
    request.put("op", op);
    if (args != null) {
      request.setAll(args);
    }
    try {
      stdin.write(MAPPER.writeValueAsString(request));
      stdin.write('\n');
    } catch (IOException e) {
      broken = true;
      throw new AssertionError(failure("cannot write request " + op), e);
    }
    return id;
  }

  void flush() {
    try {
      stdin.flush();
    } catch (IOException e) {
      broken = true;
      throw new AssertionError(failure("cannot flush requests"), e);
    }
  }

  /** Waits for the reply to {@code id}; replies must be awaited in the order they were sent. */
  JsonNode await(long id) {
    if (id != awaitedId) {
      throw new IllegalStateException("await " + id + " but next reply is for " + awaitedId);
    }
    JsonNode reply;
    try {
      reply = replies.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      broken = true;
      throw new AssertionError(failure("interrupted waiting for reply " + id), e);
    }
    if (reply == null || reply == EOF) {
      broken = true;
      throw new AssertionError(
          failure(
              reply == null ? "no reply to request " + id + " within " + timeout : "peer exited"));
    }
    JsonNode replyId = reply.get("id");
    if (replyId == null || !replyId.isIntegralNumber() || replyId.longValue() != id) {
      broken = true;
      throw new AssertionError(failure("reply out of order, expected id " + id + ": " + reply));
    }
    awaitedId++;
    return reply;
  }

  /**
   * Writes {@code line} verbatim (which need not be a valid request) and returns the next reply,
   * whatever its id. Only for protocol conformance tests; no other request may be in flight.
   */
  JsonNode rawCall(String line) {
    if (awaitedId != nextId) {
      throw new IllegalStateException("requests still in flight");
    }
    try {
      stdin.write(line);
      stdin.write('\n');
      stdin.flush();
      JsonNode reply = replies.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
      if (reply == null || reply == EOF) {
        broken = true;
        throw new AssertionError(failure("no reply to raw line"));
      }
      return reply;
    } catch (IOException e) {
      broken = true;
      throw new AssertionError(failure("cannot write raw line"), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      broken = true;
      throw new AssertionError(failure("interrupted"), e);
    }
  }

  /** Closes stdin and waits for the process to exit; returns its exit status. */
  int closeInputAndWait(Duration limit) {
    try {
      stdin.close();
      if (!process.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS)) {
        throw new AssertionError(failure("did not exit within " + limit + " after end of input"));
      }
      return process.exitValue();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(failure("interrupted"), e);
    }
  }

  /** Waits for the process to exit by itself (e.g. after {@code quit}); returns its status. */
  int waitForExit(Duration limit) {
    try {
      if (!process.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS)) {
        throw new AssertionError(failure("did not exit within " + limit));
      }
      return process.exitValue();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(failure("interrupted"), e);
    }
  }

  /** Sends one request and returns the whole reply ({@code result} or {@code error}). */
  JsonNode call(String op, ObjectNode args) {
    long id = send(op, args);
    flush();
    return await(id);
  }

  /** Sends one request and returns its {@code result}; fails the test on an error reply. */
  JsonNode ok(String op, ObjectNode args) {
    return result(op, call(op, args));
  }

  /** Sends one request that must fail and returns its {@code error} object. */
  JsonNode error(String op, ObjectNode args) {
    JsonNode reply = call(op, args);
    if (!reply.has("error")) {
      throw new AssertionError(name + ": " + op + " succeeded but should have failed: " + reply);
    }
    return reply.get("error");
  }

  /** A request for {@link #callAll}. */
  record Request(String op, ObjectNode args) {}

  /** Pipelines {@code requests} and returns the replies in the same order. */
  List<JsonNode> callAll(List<Request> requests) {
    List<Long> ids = new ArrayList<>(requests.size());
    for (Request request : requests) {
      ids.add(send(request.op(), request.args()));
    }
    flush();
    List<JsonNode> out = new ArrayList<>(requests.size());
    for (long id : ids) {
      out.add(await(id));
    }
    return out;
  }

  /** Pipelines {@code requests} and returns their results; fails on any error reply. */
  List<JsonNode> okAll(List<Request> requests) {
    List<JsonNode> replies = callAll(requests);
    List<JsonNode> results = new ArrayList<>(replies.size());
    for (int i = 0; i < replies.size(); i++) {
      results.add(result(requests.get(i).op() + " #" + i, replies.get(i)));
    }
    return results;
  }

  private JsonNode result(String what, JsonNode reply) {
    if (!reply.has("result")) {
      throw new AssertionError(name + ": " + what + " failed: " + reply.get("error"));
    }
    return reply.get("result");
  }

  @Override
  public void close() {
    try {
      stdin.close();
    } catch (IOException ignored) {
      // The peer may already be gone; it is killed below either way.
    }
    try {
      if (!process.waitFor(2, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
    }
  }

  private String failure(String what) {
    String tail;
    synchronized (stderrTail) {
      tail = stderrTail.toString();
    }
    String status = process.isAlive() ? "running" : "exited " + process.exitValue();
    return name + " peer (" + status + "): " + what + (tail.isEmpty() ? "" : "\nstderr:\n" + tail);
  }

  private void readReplies(InputStream stream) {
    try (BufferedReader reader =
        new BufferedReader(new InputStreamReader(stream, StandardCharsets.UTF_8))) {
      String line;
      while ((line = reader.readLine()) != null) {
        try {
          replies.add(MAPPER.readTree(line));
        } catch (IOException e) {
          replies.add(JsonNodeFactory.instance.textNode("<not JSON: " + line + ">"));
        }
      }
    } catch (IOException ignored) {
      // Stream closed: the process ended; waiters get EOF below.
    }
    replies.add(EOF);
  }

  private void drainStderr(InputStream stream) {
    try (InputStreamReader reader = new InputStreamReader(stream, StandardCharsets.UTF_8)) {
      char[] buffer = new char[1024];
      int n;
      while ((n = reader.read(buffer)) >= 0) {
        synchronized (stderrTail) {
          stderrTail.append(buffer, 0, n);
          if (stderrTail.length() > STDERR_TAIL_CHARS) {
            stderrTail.delete(0, stderrTail.length() - STDERR_TAIL_CHARS);
          }
        }
      }
    } catch (IOException ignored) {
      // Process ended.
    }
  }
}
