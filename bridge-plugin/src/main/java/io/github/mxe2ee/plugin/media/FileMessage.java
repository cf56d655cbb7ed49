package io.github.mxe2ee.plugin.media;

import java.util.Objects;

/**
 * What {@link Attachments#sendFile} says about a file in its {@code m.room.message}: the {@code
 * body} (file name), {@code info.mimetype}, the {@code msgtype} and the transaction id. A mutable
 * data object with fluent setters; not thread-safe.
 *
 * <p>Defaults: {@code msgtype} from the MIME type ({@code image/*} is {@code m.image}, {@code
 * video/*} {@code m.video}, {@code audio/*} {@code m.audio}, anything else {@code m.file}); a
 * random transaction id.
 */
public class FileMessage {
  /** The default MIME type when none is set. */
  public static final String DEFAULT_MIME_TYPE = "application/octet-stream";

  private String fileName;
  private String mimeType = DEFAULT_MIME_TYPE;
  private String msgtype;
  private String txnId;

  /**
   * @param fileName the {@code body} of the message (shown by clients as the file's name)
   */
  public FileMessage(String fileName) {
    this.fileName = Objects.requireNonNull(fileName, "fileName");
  }

  /** A copy of {@code other}. */
  public FileMessage(FileMessage other) {
    this.fileName = other.fileName;
    this.mimeType = other.mimeType;
    this.msgtype = other.msgtype;
    this.txnId = other.txnId;
  }

  /** The file name, sent as {@code body}. */
  public String getFileName() {
    return fileName;
  }

  /** Sets the file name, sent as {@code body}. */
  public FileMessage setFileName(String fileName) {
    this.fileName = Objects.requireNonNull(fileName, "fileName");
    return this;
  }

  /**
   * The MIME type, sent as {@code info.mimetype}; the upload itself is always {@code
   * application/octet-stream} ciphertext.
   */
  public String getMimeType() {
    return mimeType;
  }

  /** Sets the MIME type. */
  public FileMessage setMimeType(String mimeType) {
    this.mimeType = Objects.requireNonNull(mimeType, "mimeType");
    return this;
  }

  /** The {@code msgtype}: the one set, else derived from the MIME type. */
  public String getMsgtype() {
    if (msgtype != null) {
      return msgtype;
    }
    if (mimeType.startsWith("image/")) {
      return "m.image";
    }
    if (mimeType.startsWith("video/")) {
      return "m.video";
    }
    if (mimeType.startsWith("audio/")) {
      return "m.audio";
    }
    return "m.file";
  }

  /** Sets the {@code msgtype} ({@code m.file}, {@code m.image}, ...); null derives it. */
  public FileMessage setMsgtype(String msgtype) {
    this.msgtype = msgtype;
    return this;
  }

  /** The transaction id of the event, or null for a random one. */
  public String getTxnId() {
    return txnId;
  }

  /**
   * Sets the transaction id of the event ({@link io.github.mxe2ee.plugin.MatrixE2ee#send(String,
   * String, io.vertx.core.json.JsonObject, String)}): the same id sends the event once, however
   * often the call is repeated (the upload itself is repeated).
   */
  public FileMessage setTxnId(String txnId) {
    this.txnId = txnId;
    return this;
  }
}
