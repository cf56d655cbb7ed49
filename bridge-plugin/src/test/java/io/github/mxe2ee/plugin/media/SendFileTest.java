package io.github.mxe2ee.plugin.media;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.mxe2ee.plugin.E2eeOptions;
import io.github.mxe2ee.plugin.HomeserverClient;
import io.github.mxe2ee.plugin.MatrixE2ee;
import io.github.mxe2ee.plugin.UnencryptedRoomException;
import io.github.mxe2ee.plugin.testing.ScriptedHomeserver;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.ext.web.client.WebClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link Attachments#sendFile} against {@link ScriptedHomeserver} (fault injection: a room without
 * encryption, an upload answered without a valid {@code content_uri}). The working path with
 * Synapse is {@code JsClientAttachmentTest} in the examples module.
 */
class SendFileTest {
  private static final String ROOM = "!room:localhost";
  private Vertx vertx;
  private ScriptedHomeserver hs;
  private MatrixE2ee e2ee;

  @TempDir Path dir;

  @BeforeEach
  void setUp() throws Exception {
    vertx = Vertx.vertx();
    hs = await(new ScriptedHomeserver().start(vertx));
    HomeserverClient client = new HomeserverClient(WebClient.create(vertx), hs.baseUrl());
    await(client.login("bot", "pw", null));
    e2ee =
        MatrixE2ee.create(
            vertx,
            client,
            new E2eeOptions()
                .setStorePath(dir.resolve("bot.db").toString())
                .setPickleKeyBase64("BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"));
    await(e2ee.start());
  }

  @AfterEach
  void tearDown() throws Exception {
    await(e2ee.close());
    await(vertx.close());
  }

  private static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
  }

  private static Throwable failure(Future<?> f) throws Exception {
    try {
      await(f);
    } catch (ExecutionException e) {
      return e.getCause();
    }
    throw new AssertionError("expected a failure");
  }

  private long uploads() {
    return hs.seen().stream().filter(s -> s.path().equals(MediaClient.UPLOAD_PATH)).count();
  }

  @Test
  void sendFileIntoAnUnencryptedRoom_failsBeforeUploading() throws Exception {
    Path f = dir.resolve("a.txt");
    Files.writeString(f, "not for a plain room");
    Throwable t = failure(e2ee.attachments().sendFile(ROOM, f, new FileMessage("a.txt")));
    assertInstanceOf(UnencryptedRoomException.class, t);
    assertEquals(0, uploads(), "nothing uploaded");
    assertEquals(0, hs.sends().size(), "nothing sent");
  }

  @Test
  void uploadAnsweredWithoutAValidContentUri_failsAndSendsNoEvent() throws Exception {
    hs.stateStatus(path -> 200);
    Path f = dir.resolve("a.txt");
    Files.writeString(f, "hello");
    Throwable t = failure(e2ee.attachments().sendFile(ROOM, f, new FileMessage("a.txt")));
    MediaException m = assertInstanceOf(MediaException.class, t);
    assertEquals(MediaException.Reason.INVALID_MXC, m.reason());
    assertEquals(1, uploads());
    assertTrue(hs.sends().isEmpty(), "no event without a valid upload");
  }

  @Test
  void streamThatBreaksItsAnnouncedSize_failsAndSendsNoEvent() throws Exception {
    hs.stateStatus(path -> 200);
    for (int actual : new int[] {100, 300}) {
      Throwable t =
          failure(
              e2ee.attachments()
                  .sendFile(
                      ROOM,
                      new BufferStream(io.vertx.core.buffer.Buffer.buffer(new byte[actual])),
                      200,
                      new FileMessage("a.bin")));
      MediaException m = assertInstanceOf(MediaException.class, t, "actual " + actual);
      assertEquals(MediaException.Reason.SIZE_MISMATCH, m.reason());
    }
    assertTrue(hs.sends().isEmpty(), "no event");
  }
}
