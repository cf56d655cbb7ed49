package io.github.mxe2ee.examples.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The example bridge ({@code io.github.mxe2ee.examples.bridge.ExampleBridge}) as a separate JVM,
 * with the test's class path, its remote endpoint on a free port. {@link #kill()} ends it with
 * SIGKILL (nothing of its shutdown path runs: what a crash or an OOM kill does). Its output is
 * appended to a log file across restarts; {@link #logLines()} reads it.
 */
public final class BridgeProcess implements AutoCloseable {
  private static final Pattern READY =
      Pattern.compile("bridge ready: remote endpoint (http://127\\.0\\.0\\.1:[0-9]+)");

  private final Process process;
  private final Path log;
  private final CompletableFuture<String> ready = new CompletableFuture<>();

  private BridgeProcess(Process process, Path log) {
    this.process = process;
    this.log = log;
    Thread pump =
        new Thread(
            () -> {
              try (BufferedReader in =
                  new BufferedReader(
                      new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = in.readLine()) != null; ) {
                  Matcher m = READY.matcher(line);
                  if (m.find()) {
                    ready.complete(m.group(1));
                  }
                  Files.writeString(
                      log,
                      line + "\n",
                      StandardCharsets.UTF_8,
                      StandardOpenOption.CREATE,
                      StandardOpenOption.APPEND);
                }
              } catch (IOException e) {
                // The process was killed: its output ends here.
              }
              ready.completeExceptionally(new IllegalStateException("the bridge exited"));
            },
            "bridge-process-output");
    pump.setDaemon(true);
    pump.start();
  }

  /**
   * Starts the bridge and waits until it serves both sides.
   *
   * @param dataDir its stores (kept across restarts)
   * @param devices {@code ghost} or {@code bot}
   * @param log file the bridge's output is appended to
   */
  public static BridgeProcess start(
      String homeserver, Path registration, Path dataDir, String devices, Path log, long waitMs)
      throws IOException, InterruptedException {
    Files.createDirectories(dataDir);
    Files.createDirectories(log.toAbsolutePath().getParent());
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> cmd =
        new ArrayList<>(
            List.of(
                java,
                "-cp",
                System.getProperty("java.class.path"),
                "io.github.mxe2ee.examples.bridge.ExampleBridge",
                "--homeserver",
                homeserver,
                "--registration",
                registration.toAbsolutePath().toString(),
                "--data",
                dataDir.toAbsolutePath().toString(),
                "--remote-port",
                "0",
                "--devices",
                devices));
    ProcessBuilder pb =
        new ProcessBuilder(cmd).directory(dataDir.toFile()).redirectErrorStream(true);
    pb.environment().keySet().removeIf(k -> k.startsWith("MXE2EE_"));
    BridgeProcess bridge = new BridgeProcess(pb.start(), log);
    try {
      bridge.ready.get(waitMs, TimeUnit.MILLISECONDS);
    } catch (TimeoutException | java.util.concurrent.ExecutionException e) {
      bridge.kill();
      throw new IllegalStateException("the bridge did not get ready (" + e + "); see " + log);
    }
    return bridge;
  }

  /** The remote endpoint's base URL, such as {@code http://127.0.0.1:41234}. */
  public String remoteUrl() {
    return ready.join();
  }

  /** Every line the bridge logged so far (all runs that share the log file). */
  public List<String> logLines() throws IOException {
    return Files.readAllLines(log, StandardCharsets.UTF_8);
  }

  /** Ends the process with SIGKILL and waits for it to be gone. */
  public void kill() {
    process.destroyForcibly();
    try {
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        throw new IllegalStateException("the bridge did not die");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  /** Stops the process with SIGTERM (its shutdown hook closes the stores) and waits. */
  public void stop() {
    process.destroy();
    try {
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        kill();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      kill();
    }
  }

  @Override
  public void close() {
    if (process.isAlive()) {
      kill();
    }
  }
}
