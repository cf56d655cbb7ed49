package io.github.mxe2ee.plugin.media;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.github.mxe2ee.attachment.AttachmentCipher;
import io.github.mxe2ee.attachment.EncryptedAttachment;
import io.github.mxe2ee.plugin.E2eeOptions;
import io.github.mxe2ee.plugin.HomeserverClient;
import io.github.mxe2ee.plugin.MatrixE2ee;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;
import io.vertx.core.streams.WriteStream;
import io.vertx.ext.web.client.WebClient;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link Attachments#downloadFile} and {@link MediaClient} against a hand-written media repository
 * on 127.0.0.1: a fault injection the real Synapse cannot produce (it serves altered bytes, bodies
 * over the limit announced or chunked, and a server without authenticated media). The happy path
 * with Synapse and matrix-js-sdk is in the examples module ({@code JsClientAttachmentTest}).
 */
class AttachmentsDownloadTest {
  private static final String TOKEN = "secret-token";

  private Vertx vertx;
  private HttpServer server;
  private Attachments attachments;
  private final Map<String, byte[]> media = new ConcurrentHashMap<>();
  private final List<String> seen = new CopyOnWriteArrayList<>();
  private volatile boolean legacyOnly;
  private volatile boolean chunked;
  private volatile byte[] tamper;

  @TempDir Path dir;

  @BeforeEach
  void setUp() throws Exception {
    vertx = Vertx.vertx();
    server =
        await(
            vertx
                .createHttpServer()
                .requestHandler(req -> req.body().onSuccess(b -> handle(req, b)))
                .listen(0, "127.0.0.1"));
    HomeserverClient hs =
        new HomeserverClient(WebClient.create(vertx), "http://127.0.0.1:" + server.actualPort());
    await(hs.login("bot", "pw", null));
    MatrixE2ee e2ee = MatrixE2ee.create(vertx, hs, new E2eeOptions());
    attachments =
        new Attachments(
            vertx,
            hs,
            e2ee,
            new MediaOptions().setMaxDownloadBytes(1 << 20).setTempDir(dir.toString()));
  }

  @AfterEach
  void tearDown() throws Exception {
    await(attachments.close());
    await(vertx.close());
  }

  private void handle(HttpServerRequest req, Buffer body) {
    String path = req.path();
    seen.add(req.method() + " " + path);
    if (path.equals("/_matrix/client/v3/login")) {
      req.response()
          .end(
              new JsonObject()
                  .put("user_id", "@bot:localhost")
                  .put("device_id", "DEV")
                  .put("access_token", TOKEN)
                  .encode());
      return;
    }
    if (!("Bearer " + TOKEN).equals(req.getHeader("Authorization"))) {
      req.response().setStatusCode(401).end("{\"errcode\":\"M_MISSING_TOKEN\"}");
      return;
    }
    if (path.equals(MediaClient.UPLOAD_PATH)) {
      String id = "m" + media.size();
      media.put(id, body.getBytes());
      req.response().end(new JsonObject().put("content_uri", "mxc://localhost/" + id).encode());
      return;
    }
    String id = null;
    if (path.startsWith(MediaClient.DOWNLOAD_PATH + "localhost/")) {
      if (legacyOnly) {
        req.response()
            .setStatusCode(404)
            .end("{\"errcode\":\"M_UNRECOGNIZED\",\"error\":\"Unrecognized request\"}");
        return;
      }
      id = path.substring((MediaClient.DOWNLOAD_PATH + "localhost/").length());
    } else if (path.startsWith(MediaClient.LEGACY_DOWNLOAD_PATH + "localhost/")) {
      id = path.substring((MediaClient.LEGACY_DOWNLOAD_PATH + "localhost/").length());
    }
    byte[] data = id == null ? null : media.get(id);
    if (data == null) {
      req.response().setStatusCode(404).end("{\"errcode\":\"M_NOT_FOUND\",\"error\":\"no\"}");
      return;
    }
    if (tamper != null) {
      data = tamper;
    }
    if (chunked) {
      req.response().setChunked(true);
      for (int off = 0; off < data.length; off += 8192) {
        req.response().write(Buffer.buffer(data).slice(off, Math.min(data.length, off + 8192)));
      }
      req.response().end();
    } else {
      req.response().end(Buffer.buffer(data));
    }
  }

  private static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  private static MediaException mediaFailure(Future<?> f) throws Exception {
    try {
      await(f);
    } catch (ExecutionException e) {
      return assertInstanceOf(MediaException.class, e.getCause(), e.getCause().toString());
    }
    return fail("expected a MediaException");
  }

  private static byte[] random(int n) {
    byte[] b = new byte[n];
    new Random(n).nextBytes(b);
    return b;
  }

  /** Uploads a file encrypted (through MediaClient) and returns its EncryptedFile JSON. */
  private JsonObject uploadEncrypted(byte[] plaintext) throws Exception {
    EncryptedAttachment enc = AttachmentCipher.encrypt(plaintext, new SecureRandom());
    MxcUri uri =
        await(
            attachments
                .mediaClient()
                .upload(
                    new BufferStream(Buffer.buffer(enc.ciphertext())), enc.ciphertext().length));
    return new JsonObject(enc.file().withUrl(uri.toString()).toJson().toString());
  }

  private List<Path> filesIn(Path d) throws Exception {
    try (Stream<Path> s = Files.list(d)) {
      return s.toList();
    }
  }

  /** A WriteStream collecting what it is given, to see that nothing reached it. */
  private static final class Collecting implements WriteStream<Buffer> {
    final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    boolean ended;

    @Override
    public WriteStream<Buffer> exceptionHandler(io.vertx.core.Handler<Throwable> handler) {
      return this;
    }

    @Override
    public Future<Void> write(Buffer data) {
      bytes.writeBytes(data.getBytes());
      return Future.succeededFuture();
    }

    @Override
    public Future<Void> end() {
      ended = true;
      return Future.succeededFuture();
    }

    @Override
    public WriteStream<Buffer> setWriteQueueMaxSize(int maxSize) {
      return this;
    }

    @Override
    public boolean writeQueueFull() {
      return false;
    }

    @Override
    public WriteStream<Buffer> drainHandler(io.vertx.core.Handler<Void> handler) {
      return this;
    }
  }

  @Test
  void download_roundTrip_toFileAndToStream_byteForByte() throws Exception {
    byte[] plain = random(700_001);
    JsonObject file = uploadEncrypted(plain);
    Path target = dir.resolve("out.bin");
    assertEquals(plain.length, (long) await(attachments.downloadFile(file, target)));
    assertArrayEquals(plain, Files.readAllBytes(target));
    Collecting sink = new Collecting();
    assertEquals(plain.length, (long) await(attachments.downloadFile(file, sink)));
    assertArrayEquals(plain, sink.bytes.toByteArray());
    assertTrue(sink.ended);
    assertEquals(List.of(target), filesIn(dir), "no temporary file left");
    assertTrue(seen.contains("GET " + MediaClient.DOWNLOAD_PATH + "localhost/m0"), seen.toString());
  }

  @Test
  void tamperedDownload_isRefused_andLeavesNoFileAndNoBytes() throws Exception {
    byte[] plain = random(300_000);
    JsonObject file = uploadEncrypted(plain);
    byte[] altered = media.get("m0").clone();
    altered[123_456] ^= 0x01;
    tamper = altered;
    Path target = dir.resolve("image.png");
    MediaException e = mediaFailure(attachments.downloadFile(file, target));
    assertEquals(MediaException.Reason.HASH_MISMATCH, e.reason());
    assertEquals(List.of(), filesIn(dir), "neither the target nor a partial file exists");

    Files.write(target, new byte[] {1, 2, 3});
    e = mediaFailure(attachments.downloadFile(file, target));
    assertEquals(MediaException.Reason.HASH_MISMATCH, e.reason());
    assertArrayEquals(new byte[] {1, 2, 3}, Files.readAllBytes(target), "old file untouched");

    Collecting sink = new Collecting();
    e = mediaFailure(attachments.downloadFile(file, sink));
    assertEquals(MediaException.Reason.HASH_MISMATCH, e.reason());
    assertEquals(0, sink.bytes.size(), "no plaintext reached the stream");
    assertFalse(sink.ended, "a refused file is not presented as a complete one");
    assertEquals(List.of(target), filesIn(dir));
  }

  @Test
  void downloadOverTheLimit_announced_isRefusedAndLeavesNothing() throws Exception {
    JsonObject file = uploadEncrypted(random((1 << 20) + 1));
    MediaException e = mediaFailure(attachments.downloadFile(file, dir.resolve("big")));
    assertEquals(MediaException.Reason.TOO_LARGE, e.reason());
    assertTrue(e.getMessage().contains("announces"), e.getMessage());
    assertEquals(List.of(), filesIn(dir));
  }

  @Test
  void downloadOverTheLimit_chunked_isRefusedWhileCounting() throws Exception {
    JsonObject file = uploadEncrypted(random(3 << 20));
    chunked = true;
    MediaException e = mediaFailure(attachments.downloadFile(file, dir.resolve("big")));
    assertEquals(MediaException.Reason.TOO_LARGE, e.reason());
    assertTrue(e.getMessage().contains("more than the limit"), e.getMessage());
    Collecting sink = new Collecting();
    e = mediaFailure(attachments.downloadFile(file, sink, 100_000));
    assertEquals(MediaException.Reason.TOO_LARGE, e.reason());
    assertEquals(0, sink.bytes.size());
    assertEquals(List.of(), filesIn(dir));
  }

  @Test
  void serverWithoutAuthenticatedMedia_fallsBackToTheLegacyEndpoint() throws Exception {
    byte[] plain = random(10_000);
    JsonObject file = uploadEncrypted(plain);
    legacyOnly = true;
    Path target = dir.resolve("x");
    await(attachments.downloadFile(file, target));
    assertArrayEquals(plain, Files.readAllBytes(target));
    assertTrue(
        seen.contains("GET " + MediaClient.LEGACY_DOWNLOAD_PATH + "localhost/m0"), seen.toString());
  }

  @Test
  void notFound_isNotRetriedOnTheLegacyEndpoint() throws Exception {
    JsonObject file = uploadEncrypted(random(10)).put("url", "mxc://localhost/missing");
    try {
      await(attachments.downloadFile(file, dir.resolve("x")));
      fail("expected a failure");
    } catch (ExecutionException e) {
      assertInstanceOf(io.github.mxe2ee.plugin.HomeserverException.class, e.getCause());
    }
    assertFalse(seen.stream().anyMatch(s -> s.contains("/media/v3/download")), seen.toString());
  }

  @Test
  void hostileMxcUrl_isRejectedBeforeAnyRequest() throws Exception {
    JsonObject file = uploadEncrypted(random(10));
    int before = seen.size();
    for (String url :
        new String[] {
          "mxc://localhost/../../_matrix/client/v3/account/whoami",
          "mxc://localhost/a?access_token=x",
          "mxc://evil.example@localhost/a",
          "mxc://localhost/a/b"
        }) {
      MediaException e =
          mediaFailure(attachments.downloadFile(file.copy().put("url", url), dir.resolve("x")));
      assertEquals(MediaException.Reason.INVALID_MXC, e.reason(), url);
    }
    MediaException e =
        mediaFailure(attachments.downloadFile(file.copy().put("v", "v9"), dir.resolve("x")));
    assertEquals(MediaException.Reason.INVALID_FILE, e.reason());
    assertFalse(e.getMessage().contains(file.getJsonObject("key").getString("k")), "no key");
    assertEquals(before, seen.size(), "no request was made");
    assertEquals(List.of(), filesIn(dir));
  }

  @Test
  void uploadOverTheLimit_isRefusedBeforeAnyRequest() throws Exception {
    HomeserverClient hs =
        new HomeserverClient(WebClient.create(vertx), "http://127.0.0.1:" + server.actualPort());
    await(hs.login("bot", "pw", null));
    Attachments small =
        new Attachments(
            vertx,
            hs,
            MatrixE2ee.create(vertx, hs, new E2eeOptions()),
            new MediaOptions().setMaxUploadBytes(1000));
    int before = seen.size();
    Path big = dir.resolve("big.bin");
    Files.write(big, random(1001));
    MediaException e =
        mediaFailure(small.sendFile("!room:localhost", big, new FileMessage("big.bin")));
    assertEquals(MediaException.Reason.TOO_LARGE, e.reason());
    e =
        mediaFailure(
            small.sendFile(
                "!room:localhost",
                new BufferStream(Buffer.buffer(random(1001))),
                1001,
                new FileMessage("big.bin")));
    assertEquals(MediaException.Reason.TOO_LARGE, e.reason());
    assertEquals(before, seen.size(), "nothing was uploaded");
    await(small.close());
  }
}
