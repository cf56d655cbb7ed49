package io.github.mxe2ee.examples;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.github.mxe2ee.examples.testing.DevHomeserver;
import io.github.mxe2ee.examples.testing.JsClientPeer;
import io.github.mxe2ee.plugin.media.Attachments;
import io.github.mxe2ee.plugin.media.FileMessage;
import io.github.mxe2ee.plugin.media.MediaException;
import io.github.mxe2ee.plugin.media.SentFile;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.file.OpenOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Encrypted attachments end to end on the dev Synapse (issue 12, item 5): the {@link EchoBot} on
 * the plugin's {@link Attachments} against matrix-js-sdk 43 (Rust crypto) through {@code
 * interop/node/js-client-peer.mjs}, whose file code encrypts and decrypts with Node's own AES-CTR
 * and SHA-256 (docs/interop-protocol.md). One bot, one client and one room for the class.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class JsClientAttachmentTest {
  private static final long EVENT_WAIT_MS = 60_000;
  private static final long FUTURE_WAIT_S = 60;

  /** About 300 KiB, several upload and download chunks, not a multiple of the AES block. */
  private static final int IMAGE_BYTES = 300 * 1024 + 7;

  private final Vertx vertx = Vertx.vertx();
  private final String suffix = UUID.randomUUID().toString().substring(0, 8);
  private final String botId = "@echo_att_" + suffix + ":localhost";
  private EchoBot bot;
  private JsClientPeer client;
  private String roomId;

  @TempDir Path dir;

  @BeforeAll
  void setUp() throws Exception {
    DevHomeserver hs = DevHomeserver.shared();
    WebClient web = WebClient.create(vertx);
    await(hs.register(web, "echo_att_" + suffix, "bot-pass", false));
    await(hs.register(web, "att_human_" + suffix, "human-pass", false));
    bot =
        new EchoBot(
            vertx,
            web,
            new EchoBotConfig(hs.baseUrl(), "echo_att_" + suffix, "bot-pass", "ECHOBOT"));
    await(bot.start());
    await(bot.firstSync());
    client = JsClientPeer.start("att-" + suffix);
    client.login(hs.baseUrl(), "att_human_" + suffix, "human-pass");
    client.startClient();
    roomId = client.createEncryptedRoom(List.of(botId), null);
    client.waitForJoin(roomId, botId, EVENT_WAIT_MS);
  }

  @AfterAll
  void tearDown() throws Exception {
    if (client != null) {
      client.close();
    }
    if (bot != null) {
      await(bot.close());
    }
    await(vertx.close());
  }

  private static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(FUTURE_WAIT_S, TimeUnit.SECONDS);
  }

  private static byte[] random(int n, long seed) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }

  /** A file event the client decrypted, sent encrypted, with {@code file} and no {@code url}. */
  private static JsonObject assertEncryptedFileEvent(JsonObject ev, String msgtype) {
    assertEquals("decrypted", ev.getString("decryption"), ev.encode());
    assertEquals("m.room.encrypted", ev.getString("wire_type"), ev.encode());
    JsonObject content = ev.getJsonObject("content");
    assertEquals(msgtype, content.getString("msgtype"));
    assertNull(content.getValue("url"), "an encrypted file has no plain url");
    JsonObject file = content.getJsonObject("file");
    assertNotNull(file, "content.file");
    assertEquals("v2", file.getString("v"));
    assertTrue(file.getString("url").startsWith("mxc://localhost/"), file.getString("url"));
    return content;
  }

  @Test
  @Timeout(value = 180, unit = TimeUnit.SECONDS)
  void encryptedImageFromTheClient_comesBackAsAnEncryptedFile_byteForByte() throws Exception {
    byte[] image = random(IMAGE_BYTES, 1);
    JsonObject sent = client.uploadEncryptedFile(roomId, image, "cat.png", "image/png", "m.image");
    JsonObject echo =
        client.waitForEvent(
            roomId,
            new JsonObject()
                .put("sender", botId)
                .put("type", "m.room.message")
                .put("msgtype", "m.image"),
            EVENT_WAIT_MS);
    JsonObject content = assertEncryptedFileEvent(echo, "m.image");
    assertEquals("cat.png", content.getString("body"));
    assertEquals("image/png", content.getJsonObject("info").getString("mimetype"));
    assertEquals(IMAGE_BYTES, content.getJsonObject("info").getInteger("size"));
    JsonObject file = content.getJsonObject("file");
    assertNotEquals(
        sent.getJsonObject("file").getString("url"), file.getString("url"), "re-uploaded");
    assertNotEquals(
        sent.getJsonObject("file").getJsonObject("key").getString("k"),
        file.getJsonObject("key").getString("k"),
        "a new key");
    assertArrayEquals(image, client.downloadDecrypt(file), "the client decrypts the same bytes");
    JsonArray events = client.events(roomId);
    for (int i = 0; i < events.size(); i++) {
      String d = events.getJsonObject(i).getString("decryption");
      assertTrue("decrypted".equals(d) || "plaintext".equals(d), events.getJsonObject(i).encode());
    }
  }

  @Test
  @Timeout(value = 180, unit = TimeUnit.SECONDS)
  void botSendsFiles_fromAPathAndFromAStreamOfUnknownSize_clientDecryptsThem() throws Exception {
    Attachments attachments = bot.e2ee().attachments();
    byte[] report = random(1_000_003, 2);
    Path path = dir.resolve("report.pdf");
    Files.write(path, report);
    SentFile fromPath =
        await(
            attachments.sendFile(
                roomId, path, new FileMessage("report.pdf").setMimeType("application/pdf")));
    assertEquals(report.length, fromPath.size());

    byte[] log = random(200_000, 3);
    Path logPath = dir.resolve("bot.log");
    Files.write(logPath, log);
    SentFile fromStream =
        await(
            vertx
                .fileSystem()
                .open(logPath.toString(), new OpenOptions().setRead(true).setWrite(false))
                .compose(
                    in ->
                        attachments.sendFile(
                            roomId, in, -1, new FileMessage("bot.log").setMimeType("text/plain"))));
    assertEquals(log.length, fromStream.size());

    JsonObject ev1 =
        client.waitForEvent(
            roomId, new JsonObject().put("sender", botId).put("body", "report.pdf"), EVENT_WAIT_MS);
    assertEquals(fromPath.eventId(), ev1.getString("event_id"));
    JsonObject c1 = assertEncryptedFileEvent(ev1, "m.file");
    assertArrayEquals(report, client.downloadDecrypt(c1.getJsonObject("file")));
    JsonObject ev2 =
        client.waitForEvent(
            roomId, new JsonObject().put("sender", botId).put("body", "bot.log"), EVENT_WAIT_MS);
    JsonObject c2 = assertEncryptedFileEvent(ev2, "m.file");
    assertEquals(log.length, c2.getJsonObject("info").getInteger("size"));
    assertArrayEquals(log, client.downloadDecrypt(c2.getJsonObject("file")));
  }

  /**
   * The server swaps a file for another (the mxc URI of one file with the key and hash of another):
   * the bot refuses it and leaves no file, and so does the js client.
   */
  @Test
  @Timeout(value = 180, unit = TimeUnit.SECONDS)
  void tamperedDownload_isRefusedByTheBotAndByTheClient() throws Exception {
    JsonObject a =
        client
            .uploadEncryptedFile(
                roomId, random(50_000, 4), "a.bin", "application/octet-stream", "m.file")
            .getJsonObject("file");
    JsonObject b =
        client
            .uploadEncryptedFile(
                roomId, random(50_000, 5), "b.bin", "application/octet-stream", "m.file")
            .getJsonObject("file");
    JsonObject swapped = a.copy().put("url", b.getString("url"));

    Attachments attachments = bot.e2ee().attachments();
    Path target = dir.resolve("swapped.bin");
    try {
      await(attachments.downloadFile(swapped, target));
      fail("the bot accepted a swapped file");
    } catch (ExecutionException e) {
      MediaException m = assertInstanceOf(MediaException.class, e.getCause());
      assertEquals(MediaException.Reason.HASH_MISMATCH, m.reason());
    }
    assertFalse(Files.exists(target), "no file for a refused download");
    try (Stream<Path> files = Files.list(dir)) {
      assertTrue(files.noneMatch(p -> p.getFileName().toString().endsWith(".part")), "no partial");
    }
    JsClientPeer.PeerFailure refused =
        assertThrows(JsClientPeer.PeerFailure.class, () -> client.downloadDecrypt(swapped));
    assertEquals("hash_mismatch", refused.kind());
    // The untampered files still download for both.
    Path ok = dir.resolve("a.bin");
    assertEquals(50_000L, (long) await(attachments.downloadFile(a, ok)));
    assertArrayEquals(random(50_000, 4), Files.readAllBytes(ok));
  }
}
