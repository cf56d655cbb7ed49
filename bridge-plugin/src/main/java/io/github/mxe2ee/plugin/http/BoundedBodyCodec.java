package io.github.mxe2ee.plugin.http;

import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.streams.WriteStream;
import io.vertx.ext.web.codec.BodyCodec;
import io.vertx.ext.web.codec.spi.BodyStream;

/**
 * A Web Client {@link BodyCodec} that buffers a response body up to a bound and fails with {@link
 * SyncBodyException} as soon as the body grows past it, so a homeserver cannot make the client hold
 * an unbounded body in memory. Bytes beyond the bound are discarded as they arrive.
 */
public final class BoundedBodyCodec implements BodyCodec<Buffer> {
  private final long maxBytes;

  /**
   * @param maxBytes the largest body accepted
   */
  public BoundedBodyCodec(long maxBytes) {
    if (maxBytes < 1) {
      throw new IllegalArgumentException("maxBytes must be positive");
    }
    this.maxBytes = maxBytes;
  }

  @Override
  public BodyStream<Buffer> stream() {
    return new Stream(maxBytes);
  }

  private static final class Stream implements BodyStream<Buffer> {
    private final long max;
    private final Buffer buffer = Buffer.buffer();
    private final Promise<Buffer> result = Promise.promise();
    private boolean over;

    Stream(long max) {
      this.max = max;
    }

    @Override
    public Future<Buffer> result() {
      return result.future();
    }

    @Override
    public void handle(Throwable failure) {
      result.tryFail(failure);
    }

    @Override
    public WriteStream<Buffer> exceptionHandler(Handler<Throwable> handler) {
      return this;
    }

    @Override
    public Future<Void> write(Buffer data) {
      if (!over) {
        if (buffer.length() + (long) data.length() > max) {
          over = true;
          result.tryFail(
              new SyncBodyException("response body over the limit of " + max + " bytes"));
        } else {
          buffer.appendBuffer(data);
        }
      }
      return Future.succeededFuture();
    }

    @Override
    public Future<Void> end() {
      result.tryComplete(buffer);
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
}
