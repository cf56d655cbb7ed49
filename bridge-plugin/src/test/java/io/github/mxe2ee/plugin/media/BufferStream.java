package io.github.mxe2ee.plugin.media;

import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.streams.ReadStream;

/** Test helper: a paused-by-default {@link ReadStream} over one buffer, in 8 KiB chunks. */
final class BufferStream implements ReadStream<Buffer> {
  private final Buffer data;
  private int pos;
  private long demand;
  private Handler<Buffer> handler;
  private Handler<Void> endHandler;
  private boolean ended;

  BufferStream(Buffer data) {
    this.data = data;
  }

  @Override
  public ReadStream<Buffer> exceptionHandler(Handler<Throwable> h) {
    return this;
  }

  @Override
  public ReadStream<Buffer> handler(Handler<Buffer> h) {
    this.handler = h;
    return this;
  }

  @Override
  public ReadStream<Buffer> pause() {
    demand = 0;
    return this;
  }

  @Override
  public ReadStream<Buffer> resume() {
    return fetch(Long.MAX_VALUE);
  }

  @Override
  public ReadStream<Buffer> fetch(long amount) {
    demand = Long.MAX_VALUE - demand < amount ? Long.MAX_VALUE : demand + amount;
    while (demand > 0 && pos < data.length() && handler != null) {
      int end = Math.min(data.length(), pos + 8192);
      Buffer chunk = data.slice(pos, end);
      pos = end;
      if (demand != Long.MAX_VALUE) {
        demand--;
      }
      handler.handle(chunk);
    }
    if (pos >= data.length() && !ended && endHandler != null && demand > 0) {
      ended = true;
      endHandler.handle(null);
    }
    return this;
  }

  @Override
  public ReadStream<Buffer> endHandler(Handler<Void> h) {
    this.endHandler = h;
    return this;
  }
}
