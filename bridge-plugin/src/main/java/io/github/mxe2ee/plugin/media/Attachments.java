package io.github.mxe2ee.plugin.media;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.mxe2ee.attachment.AttachmentDecryptor;
import io.github.mxe2ee.attachment.AttachmentEncryptor;
import io.github.mxe2ee.attachment.EncryptedFile;
import io.github.mxe2ee.attachment.EncryptedFileException;
import io.github.mxe2ee.crypto.CryptoException;
import io.github.mxe2ee.plugin.HomeserverClient;
import io.github.mxe2ee.plugin.MatrixE2ee;
import io.github.mxe2ee.plugin.UnencryptedRoomException;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.file.AsyncFile;
import io.vertx.core.file.CopyOptions;
import io.vertx.core.file.FileSystem;
import io.vertx.core.file.OpenOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.streams.ReadStream;
import io.vertx.core.streams.WriteStream;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Encrypted attachments through the plugin (Client-Server API, "End-to-end encryption", "Sending
 * encrypted attachments"; media endpoints of v1.11): {@link #sendFile} encrypts a file while it
 * streams to the media repository and sends an encrypted {@code m.room.message} whose {@code file}
 * (an {@code EncryptedFile} with the key, IV and SHA-256) replaces {@code url}; {@link
 * #downloadFile} downloads, checks the SHA-256 and decrypts, also streaming. Get one from {@link
 * MatrixE2ee#attachments()}.
 *
 * <p><b>Memory.</b> No file is ever held whole in memory: chunks of {@value #CHUNK_BYTES} bytes
 * flow from the source through the cipher to the network or disk with back-pressure.
 *
 * <p><b>Sending.</b> Only into encrypted rooms: the key of the file travels in the event, so a room
 * without encryption fails with {@link UnencryptedRoomException} before anything is uploaded. A
 * file larger than {@link MediaOptions#getMaxUploadBytes()} fails with {@link
 * MediaException.Reason#TOO_LARGE}, before the upload when its size is known. The upload is {@code
 * application/octet-stream} ciphertext without a file name; the name and MIME type go only into the
 * encrypted event ({@code body}, {@code info.mimetype}, {@code info.size}).
 *
 * <p><b>Receiving.</b> The {@code EncryptedFile} is validated (version, key, IV, hash; {@link
 * MediaException.Reason#INVALID_FILE}) and its {@code url} must be a valid {@link MxcUri} ({@link
 * MediaException.Reason#INVALID_MXC}) before any request is made. The download is refused when its
 * {@code Content-Length} or its counted bytes pass the limit ({@link
 * MediaException.Reason#TOO_LARGE}). No plaintext reaches its destination before the whole
 * ciphertext matched its SHA-256 (constant-time compare): to a {@link Path}, the plaintext is
 * written to a temporary file (mode 0600) beside the target and moved onto it atomically only after
 * the hash matched; to a {@link WriteStream}, the ciphertext is first spooled to a temporary file
 * and checked, then decrypted into the stream. On any failure the temporary file is deleted, the
 * target is left as it was and nothing is written to the stream; a mismatch fails with {@link
 * MediaException.Reason#HASH_MISMATCH}.
 *
 * <p>Thread-safe; futures complete on Vert.x contexts. Keys are never logged or put in messages.
 */
public final class Attachments {
  /** Bytes read from a file per chunk: large enough to amortise calls, small for the heap. */
  public static final int CHUNK_BYTES = 64 * 1024;

  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final String TEMP_PERMS = "rw-------";

  private final Vertx vertx;
  private final MatrixE2ee e2ee;
  private final MediaOptions options;
  private final MediaClient media;
  private final SecureRandom random = new SecureRandom();

  /**
   * @param vertx the Vert.x instance for file and HTTP I/O
   * @param hs the logged-in homeserver client
   * @param e2ee the started plugin that encrypts and sends the events
   * @param options limits; copied
   */
  public Attachments(Vertx vertx, HomeserverClient hs, MatrixE2ee e2ee, MediaOptions options) {
    this.vertx = Objects.requireNonNull(vertx, "vertx");
    this.e2ee = Objects.requireNonNull(e2ee, "e2ee");
    this.options = new MediaOptions(options);
    this.media = new MediaClient(vertx, hs, this.options);
  }

  /** The media repository client these attachments use. */
  public MediaClient mediaClient() {
    return media;
  }

  // ---------------------------------------------------------------- send

  /**
   * Encrypts and uploads a file, then sends it to an encrypted room.
   *
   * @param roomId the room
   * @param file a regular file, read to its end (its size is taken before reading; a file that
   *     changes size meanwhile fails with {@link MediaException.Reason#SIZE_MISMATCH})
   * @param message the event's file name, MIME type, msgtype and transaction id
   * @return the sent file; failed with {@link MediaException}, {@link UnencryptedRoomException},
   *     {@link io.github.mxe2ee.plugin.HomeserverException} or a transport error
   */
  public Future<SentFile> sendFile(String roomId, Path file, FileMessage message) {
    Objects.requireNonNull(roomId, "roomId");
    Objects.requireNonNull(file, "file");
    FileMessage msg = new FileMessage(message);
    FileSystem fs = vertx.fileSystem();
    String path = file.toString();
    return fs.props(path)
        .recover(err -> Future.failedFuture(io("cannot read " + file.getFileName(), err)))
        .compose(
            props -> {
              if (!props.isRegularFile()) {
                return Future.failedFuture(io(file.getFileName() + " is not a regular file", null));
              }
              if (props.size() > options.getMaxUploadBytes()) {
                return Future.failedFuture(uploadTooLarge(props.size()));
              }
              return requireEncrypted(roomId)
                  .compose(v -> fs.open(path, new OpenOptions().setRead(true).setWrite(false)))
                  .compose(
                      in -> {
                        in.setReadBufferSize(CHUNK_BYTES);
                        return uploadEncrypted(in, props.size())
                            .eventually(() -> in.close().recover(e -> Future.succeededFuture()));
                      })
                  .compose(up -> sendEvent(roomId, msg, up));
            });
  }

  /**
   * Encrypts and uploads a stream, then sends it to an encrypted room. The stream is paused at once
   * and consumed by this call.
   *
   * @param size the exact number of bytes {@code data} yields, or -1 if unknown: the ciphertext is
   *     then spooled to a temporary file (mode 0600, deleted afterwards) to learn the length the
   *     upload must announce
   * @return as {@link #sendFile(String, Path, FileMessage)}
   */
  public Future<SentFile> sendFile(
      String roomId, ReadStream<Buffer> data, long size, FileMessage message) {
    Objects.requireNonNull(roomId, "roomId");
    Objects.requireNonNull(data, "data");
    FileMessage msg = new FileMessage(message);
    data.pause();
    if (size > options.getMaxUploadBytes()) {
      return Future.failedFuture(uploadTooLarge(size));
    }
    if (size < -1) {
      return Future.failedFuture(new IllegalArgumentException("size must be >= -1"));
    }
    return requireEncrypted(roomId)
        .compose(v -> size >= 0 ? uploadEncrypted(data, size) : spoolAndUpload(data))
        .compose(up -> sendEvent(roomId, msg, up));
  }

  private record Uploaded(MxcUri uri, EncryptedFile file, long size) {}

  private Future<Void> requireEncrypted(String roomId) {
    return e2ee.isRoomEncrypted(roomId)
        .compose(
            encrypted ->
                encrypted
                    ? Future.<Void>succeededFuture()
                    : Future.failedFuture(new UnencryptedRoomException(roomId)));
  }

  /** Encrypts {@code plain} while it is uploaded with the announced {@code size}. */
  private Future<Uploaded> uploadEncrypted(ReadStream<Buffer> plain, long size) {
    AttachmentEncryptor enc = AttachmentEncryptor.start(random);
    AtomicReference<EncryptedFile> done = new AtomicReference<>();
    ReadStream<Buffer> cipher =
        new MappedReadStream(
            plain,
            new MappedReadStream.Mapper() {
              @Override
              public Buffer map(Buffer in) {
                byte[] b = in.getBytes();
                if (enc.length() + b.length > size) {
                  throw sizeMismatch(size, "more");
                }
                if (b.length > 0) {
                  enc.update(b, 0, b.length);
                  if (enc.length() == size) {
                    // Finished with the last byte, not at the end event: the server may answer
                    // the upload (it has all its Content-Length) before the end event runs.
                    done.set(enc.finish());
                  }
                }
                return Buffer.buffer(b);
              }

              @Override
              public void end() {
                if (enc.length() != size) {
                  throw sizeMismatch(size, "fewer");
                }
                if (done.get() == null) {
                  done.set(enc.finish());
                }
              }
            });
    return media.upload(cipher, size).map(uri -> uploaded(uri, done.get(), size));
  }

  /** Encrypts {@code plain} into a temporary file, then uploads that file. */
  private Future<Uploaded> spoolAndUpload(ReadStream<Buffer> plain) {
    FileSystem fs = vertx.fileSystem();
    AttachmentEncryptor enc = AttachmentEncryptor.start(random);
    AtomicReference<EncryptedFile> done = new AtomicReference<>();
    long max = options.getMaxUploadBytes();
    ReadStream<Buffer> cipher =
        new MappedReadStream(
            plain,
            new MappedReadStream.Mapper() {
              @Override
              public Buffer map(Buffer in) {
                byte[] b = in.getBytes();
                if (enc.length() + b.length > max) {
                  throw uploadTooLarge(enc.length() + b.length);
                }
                enc.update(b, 0, b.length);
                return Buffer.buffer(b);
              }

              @Override
              public void end() {
                done.set(enc.finish());
              }
            });
    return tempFile(tempDir(), "mxe2ee-upload-")
        .compose(
            tmp ->
                fs.open(tmp, new OpenOptions().setWrite(true).setTruncateExisting(true))
                    .compose(out -> cipher.pipeTo(out))
                    .compose(v -> fs.open(tmp, new OpenOptions().setRead(true).setWrite(false)))
                    .compose(
                        in -> {
                          in.setReadBufferSize(CHUNK_BYTES);
                          long size = enc.length();
                          return media
                              .upload(in, size)
                              .map(uri -> uploaded(uri, done.get(), size))
                              .eventually(() -> in.close().recover(e -> Future.succeededFuture()));
                        })
                    .eventually(() -> deleteQuietly(tmp)));
  }

  private static Uploaded uploaded(MxcUri uri, EncryptedFile file, long size) {
    if (file == null) {
      throw new MediaException(
          MediaException.Reason.IO, "the upload was answered before the file was read");
    }
    return new Uploaded(uri, file.withUrl(uri.toString()), size);
  }

  private Future<SentFile> sendEvent(String roomId, FileMessage msg, Uploaded up) {
    JsonObject content =
        new JsonObject()
            .put("msgtype", msg.getMsgtype())
            .put("body", msg.getFileName())
            .put("file", new JsonObject(up.file().toJson().toString()))
            .put(
                "info", new JsonObject().put("mimetype", msg.getMimeType()).put("size", up.size()));
    String txnId = msg.getTxnId() != null ? msg.getTxnId() : "mxe2ee-file-" + UUID.randomUUID();
    return e2ee.send(roomId, "m.room.message", content, txnId)
        .map(eventId -> new SentFile(eventId, up.uri(), up.size()));
  }

  // ---------------------------------------------------------------- download

  /**
   * {@link #downloadFile(JsonObject, Path, long)} with {@link MediaOptions#getMaxDownloadBytes()}.
   */
  public Future<Long> downloadFile(JsonObject encryptedFile, Path target) {
    return downloadFile(encryptedFile, target, options.getMaxDownloadBytes());
  }

  /**
   * Downloads, verifies and decrypts a file into {@code target}, which appears (mode 0600,
   * replacing an older file atomically) only once the whole file matched its hash.
   *
   * @param encryptedFile the event's {@code content.file} (or {@code info.thumbnail_file})
   * @param maxBytes the largest file accepted
   * @return the file's size; failed with {@link MediaException}, {@link
   *     io.github.mxe2ee.plugin.HomeserverException} or a transport error, and then no temporary
   *     file is left and {@code target} is unchanged
   */
  public Future<Long> downloadFile(JsonObject encryptedFile, Path target, long maxBytes) {
    Objects.requireNonNull(target, "target");
    EncryptedFile file;
    MxcUri uri;
    try {
      file = parse(encryptedFile);
      uri = MxcUri.parse(file.url().orElse(null));
    } catch (MediaException e) {
      return Future.failedFuture(e);
    }
    Path absolute = target.toAbsolutePath();
    String dir = absolute.getParent().toString();
    return downloadChecked(
            uri, maxBytes, dir, ".mxe2ee-download-", AttachmentDecryptor.decrypting(file))
        .compose(
            done ->
                vertx
                    .fileSystem()
                    .move(
                        done.path(),
                        absolute.toString(),
                        new CopyOptions().setReplaceExisting(true).setAtomicMove(true))
                    .map(done.size())
                    .recover(
                        err -> deleteQuietly(done.path()).compose(v -> Future.failedFuture(err))));
  }

  /** A downloaded file in a temporary file whose hash matched. */
  private record Checked(String path, long size) {}

  /**
   * Downloads {@code uri} into a new temporary file (mode 0600) in {@code dir}, each chunk passed
   * through {@code through} (a verifying or decrypting {@link AttachmentDecryptor}), and checks the
   * hash at the end; on any failure the temporary file is deleted.
   */
  private Future<Checked> downloadChecked(
      MxcUri uri, long maxBytes, String dir, String prefix, AttachmentDecryptor through) {
    FileSystem fs = vertx.fileSystem();
    return tempFile(dir, prefix)
        .compose(
            tmp ->
                fs.open(tmp, new OpenOptions().setWrite(true).setTruncateExisting(true))
                    .compose(
                        out ->
                            media
                                .download(uri, maxBytes, out, chunk -> transform(through, chunk))
                                .eventually(out::close))
                    .map(
                        n -> {
                          checkHash(through, uri);
                          return new Checked(tmp, n);
                        })
                    .recover(err -> deleteQuietly(tmp).compose(v -> Future.failedFuture(err))));
  }

  /**
   * {@link #downloadFile(JsonObject, WriteStream, long)} with {@link
   * MediaOptions#getMaxDownloadBytes()}.
   */
  public Future<Long> downloadFile(JsonObject encryptedFile, WriteStream<Buffer> sink) {
    return downloadFile(encryptedFile, sink, options.getMaxDownloadBytes());
  }

  /**
   * Downloads a file, verifies it and only then decrypts it into {@code sink}, which is ended when
   * the file has been written, and not ended when the call fails. The ciphertext waits in a
   * temporary file (mode 0600 in {@link MediaOptions#getTempDir()}), deleted afterwards.
   *
   * @return the file's size; failed as {@link #downloadFile(JsonObject, Path, long)}, and then
   *     nothing was written to {@code sink} unless the temporary file changed between the check and
   *     the decryption (which the hash detects at the end)
   */
  public Future<Long> downloadFile(
      JsonObject encryptedFile, WriteStream<Buffer> sink, long maxBytes) {
    Objects.requireNonNull(sink, "sink");
    EncryptedFile file;
    MxcUri uri;
    try {
      file = parse(encryptedFile);
      uri = MxcUri.parse(file.url().orElse(null));
    } catch (MediaException e) {
      return Future.failedFuture(e);
    }
    AttachmentDecryptor dec = AttachmentDecryptor.decrypting(file);
    return downloadChecked(
            uri, maxBytes, tempDir(), "mxe2ee-download-", AttachmentDecryptor.verifying(file))
        .compose(
            done ->
                vertx
                    .fileSystem()
                    .open(done.path(), new OpenOptions().setRead(true).setWrite(false))
                    .compose(in -> decryptInto(in, dec, uri, sink))
                    .map(done.size())
                    .eventually(() -> deleteQuietly(done.path())));
  }

  private Future<Void> decryptInto(
      AsyncFile in, AttachmentDecryptor dec, MxcUri uri, WriteStream<Buffer> sink) {
    in.setReadBufferSize(CHUNK_BYTES);
    ReadStream<Buffer> plain =
        new MappedReadStream(
            in,
            new MappedReadStream.Mapper() {
              @Override
              public Buffer map(Buffer chunk) {
                return transform(dec, chunk);
              }

              @Override
              public void end() {
                checkHash(dec, uri);
              }
            });
    // Not ended on failure: an ended stream would look like a complete file to its consumer.
    io.vertx.core.streams.Pipe<Buffer> pipe = plain.pipe();
    pipe.endOnFailure(false);
    return pipe.to(sink).eventually(() -> in.close().recover(e -> Future.succeededFuture()));
  }

  private static Buffer transform(AttachmentDecryptor dec, Buffer chunk) {
    byte[] b = chunk.getBytes();
    dec.update(b, 0, b.length);
    return Buffer.buffer(b);
  }

  private static void checkHash(AttachmentDecryptor dec, MxcUri uri) {
    try {
      dec.finish();
    } catch (CryptoException e) {
      throw new MediaException(
          MediaException.Reason.HASH_MISMATCH,
          "the SHA-256 of "
              + uri
              + " does not match the event's hashes.sha256: the file was altered"
              + " or is not the one the event describes");
    }
  }

  private static EncryptedFile parse(JsonObject json) {
    if (json == null) {
      throw new MediaException(MediaException.Reason.INVALID_FILE, "no EncryptedFile given");
    }
    try {
      JsonNode node = MAPPER.readTree(json.encode());
      return EncryptedFile.fromJson(node);
    } catch (EncryptedFileException e) {
      throw new MediaException(MediaException.Reason.INVALID_FILE, e.getMessage(), e);
    } catch (java.io.IOException | RuntimeException e) {
      throw new MediaException(
          MediaException.Reason.INVALID_FILE, "the EncryptedFile is not valid JSON");
    }
  }

  // ---------------------------------------------------------------- helpers

  private String tempDir() {
    return options.getTempDir() != null
        ? options.getTempDir()
        : System.getProperty("java.io.tmpdir");
  }

  private Future<String> tempFile(String dir, String prefix) {
    return vertx
        .fileSystem()
        .createTempFile(dir, prefix, ".part", TEMP_PERMS)
        .recover(err -> Future.failedFuture(io("cannot create a temporary file in " + dir, err)));
  }

  private Future<Void> deleteQuietly(String path) {
    return vertx.fileSystem().delete(path).recover(e -> Future.succeededFuture());
  }

  private MediaException uploadTooLarge(long size) {
    return new MediaException(
        MediaException.Reason.TOO_LARGE,
        "file of "
            + size
            + " bytes is over the upload limit of "
            + options.getMaxUploadBytes()
            + " bytes");
  }

  private static MediaException sizeMismatch(long size, String what) {
    return new MediaException(
        MediaException.Reason.SIZE_MISMATCH,
        "the stream yielded " + what + " bytes than the announced size of " + size);
  }

  private static MediaException io(String message, Throwable cause) {
    return new MediaException(MediaException.Reason.IO, message, cause);
  }

  /** Closes the media HTTP client; transfers in flight fail. */
  public Future<Void> close() {
    return media.close();
  }
}
