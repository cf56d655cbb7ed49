package io.github.mxe2ee.examples.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The {@link io.github.mxe2ee.examples.EchoBot} as a separate JVM, started with its own {@code
 * main} and the test's class path, in a working directory of the test's choosing (where it keeps
 * {@code .run/echo-bot}: store, pickle key, device id). {@link #kill()} ends it with SIGKILL, so
 * nothing of the bot's shutdown path runs: what a crash or an OOM kill does. Its output goes to a
 * log file under {@code target/}, appended across restarts.
 */
public final class EchoBotProcess implements AutoCloseable {
  private static final String READY = "end-to-end encryption ready";

  /** The device id the bot logs in with, as the in-process bots of the tests do. */
  public static final String DEVICE_ID = "ECHOBOT";

  private final Process process;
  private final CountDownLatch ready = new CountDownLatch(1);

  private EchoBotProcess(Process process, Path log) {
    this.process = process;
    Thread pump =
        new Thread(
            () -> {
              try (BufferedReader in =
                  new BufferedReader(
                      new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = in.readLine()) != null; ) {
                  if (line.contains(READY)) {
                    ready.countDown();
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
            },
            "echo-bot-process-output");
    pump.setDaemon(true);
    pump.start();
  }

  /**
   * Starts the bot and waits until its encryption is ready.
   *
   * @param workDir working directory of the bot (its store lives below it)
   * @param log file the bot's output is appended to
   */
  public static EchoBotProcess start(
      Path workDir, Path log, String homeserver, String user, String password, long waitMs)
      throws IOException, InterruptedException {
    Files.createDirectories(workDir);
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    ProcessBuilder pb =
        new ProcessBuilder(
                List.of(
                    java,
                    "-cp",
                    System.getProperty("java.class.path"),
                    "io.github.mxe2ee.examples.EchoBot",
                    "--homeserver",
                    homeserver,
                    "--user",
                    user,
                    "--password",
                    password,
                    "--device",
                    DEVICE_ID))
            .directory(workDir.toFile())
            .redirectErrorStream(true);
    pb.environment().keySet().removeIf(k -> k.startsWith("MXE2EE_"));
    EchoBotProcess bot = new EchoBotProcess(pb.start(), log);
    if (!bot.ready.await(waitMs, TimeUnit.MILLISECONDS)) {
      bot.kill();
      throw new IllegalStateException("the echo bot did not get ready; see " + log);
    }
    return bot;
  }

  /** Ends the process with SIGKILL and waits for it to be gone. */
  public void kill() {
    process.destroyForcibly();
    try {
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        throw new IllegalStateException("the echo bot did not die");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new UncheckedIOException(new IOException("interrupted", e));
    }
  }

  /** True while the process runs. */
  public boolean isAlive() {
    return process.isAlive();
  }

  @Override
  public void close() {
    if (process.isAlive()) {
      kill();
    }
  }
}
