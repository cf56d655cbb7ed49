package io.github.mxe2ee.plugin.media;

/**
 * Options of the plugin's attachments ({@link Attachments}), in the Vert.x style: defaults named by
 * {@code DEFAULT_*} constants, a copy constructor and fluent setters. Not thread-safe; configure
 * before {@link io.github.mxe2ee.plugin.MatrixE2ee#create} (which copies the options).
 */
public class MediaOptions {
  /**
   * Default largest file sent: 50 MiB, Synapse's default {@code max_upload_size}; a larger upload
   * would be refused by such a server after the whole file was sent.
   */
  public static final long DEFAULT_MAX_UPLOAD_BYTES = 50L * 1024 * 1024;

  /**
   * Default largest file received: 50 MiB, the same bound, so that a bot receives what a default
   * server lets its users send, and a hostile server cannot fill the disk.
   */
  public static final long DEFAULT_MAX_DOWNLOAD_BYTES = 50L * 1024 * 1024;

  /**
   * Default time without any byte moving after which a media request is abandoned: a file of any
   * size may take long, but a stalled transfer does not hold its connection and temporary file.
   */
  public static final long DEFAULT_IDLE_TIMEOUT_MS = 60_000;

  /** Hard upper bound of both size limits: 4 GiB. */
  public static final long MAX_LIMIT_BYTES = 4L << 30;

  private long maxUploadBytes = DEFAULT_MAX_UPLOAD_BYTES;
  private long maxDownloadBytes = DEFAULT_MAX_DOWNLOAD_BYTES;
  private long idleTimeoutMs = DEFAULT_IDLE_TIMEOUT_MS;
  private String tempDir;

  /** Options with every default. */
  public MediaOptions() {}

  /** A copy of {@code other}. */
  public MediaOptions(MediaOptions other) {
    this.maxUploadBytes = other.maxUploadBytes;
    this.maxDownloadBytes = other.maxDownloadBytes;
    this.idleTimeoutMs = other.idleTimeoutMs;
    this.tempDir = other.tempDir;
  }

  /** The largest file {@link Attachments#sendFile} sends, in bytes. */
  public long getMaxUploadBytes() {
    return maxUploadBytes;
  }

  /** Sets the largest file sent, in bytes, in [1, {@link #MAX_LIMIT_BYTES}]. */
  public MediaOptions setMaxUploadBytes(long maxUploadBytes) {
    this.maxUploadBytes = checkLimit("maxUploadBytes", maxUploadBytes);
    return this;
  }

  /** The default largest file {@link Attachments#downloadFile} accepts, in bytes. */
  public long getMaxDownloadBytes() {
    return maxDownloadBytes;
  }

  /** Sets the default largest file received, in bytes, in [1, {@link #MAX_LIMIT_BYTES}]. */
  public MediaOptions setMaxDownloadBytes(long maxDownloadBytes) {
    this.maxDownloadBytes = checkLimit("maxDownloadBytes", maxDownloadBytes);
    return this;
  }

  /** Milliseconds without progress after which a media request fails. */
  public long getIdleTimeoutMs() {
    return idleTimeoutMs;
  }

  /** Sets the idle timeout of media requests, in milliseconds (at least 1). */
  public MediaOptions setIdleTimeoutMs(long idleTimeoutMs) {
    if (idleTimeoutMs < 1) {
      throw new IllegalArgumentException("idleTimeoutMs must be positive");
    }
    this.idleTimeoutMs = idleTimeoutMs;
    return this;
  }

  /**
   * The directory of temporary files (ciphertext spooled before it is verified or uploaded), or
   * null for the JVM's {@code java.io.tmpdir}. Files are created with mode 0600 and deleted when
   * the transfer ends.
   */
  public String getTempDir() {
    return tempDir;
  }

  /** Sets the directory of temporary files; null means {@code java.io.tmpdir}. */
  public MediaOptions setTempDir(String tempDir) {
    this.tempDir = tempDir;
    return this;
  }

  private static long checkLimit(String name, long value) {
    if (value < 1 || value > MAX_LIMIT_BYTES) {
      throw new IllegalArgumentException(name + " must be in [1, 4 GiB], was " + value);
    }
    return value;
  }

  @Override
  public String toString() {
    return "MediaOptions[maxUpload="
        + maxUploadBytes
        + ", maxDownload="
        + maxDownloadBytes
        + ", idleTimeoutMs="
        + idleTimeoutMs
        + ", tempDir="
        + tempDir
        + "]";
  }
}
