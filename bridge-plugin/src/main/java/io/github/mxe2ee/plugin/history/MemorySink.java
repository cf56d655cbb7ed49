package io.github.mxe2ee.plugin.history;

import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.streams.WriteStream;

/**
 * A write stream collecting what is written in memory, refusing to grow past a bound (the writer
 * gets a failed write). For downloads whose size is already bounded by the download (the media
 * client counts bytes too): the bound here is a second fence. Holds ciphertext only.
 */
final class MemorySink implements WriteStream<Buffer> {
  private final long maxBytes;
  private final Buffer data = Buffer.buffer();

  MemorySink(long maxBytes) {
    this.maxBytes = maxBytes;
  }

  /** The bytes written so far. */
  byte[] bytes() {
    return data.getBytes();
  }

  @Override
  public WriteStream<Buffer> exceptionHandler(Handler<Throwable> handler) {
    return this;
  }

  @Override
  public Future<Void> write(Buffer chunk) {
    if ((long) data.length() + chunk.length() > maxBytes) {
      return Future.failedFuture(
          new IllegalStateException("more than " + maxBytes + " bytes written"));
    }
    data.appendBuffer(chunk);
    return Future.succeededFuture();
  }

  @Override
  public Future<Void> end() {
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
  public WriteStream<Buffer> drainHandler(Handler<Void> handler) {
    return this;
  }
}
