package io.github.mxe2ee.plugin.media;

import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.streams.ReadStream;

/**
 * A {@link ReadStream} that passes each chunk of another through a {@link Mapper} (encrypt, hash,
 * count). A mapper that throws fails the stream: the source is paused and the exception goes to the
 * exception handler, so a pipe to an HTTP request or a file aborts it. Not API.
 */
final class MappedReadStream implements ReadStream<Buffer> {

  /** Transforms chunks; runs on the source's context. */
  interface Mapper {
    /** The chunk to emit for {@code in}; may throw to fail the stream. */
    Buffer map(Buffer in);

    /** Called once at the end of the source, before the end handler; may throw to fail. */
    void end();
  }

  private final ReadStream<Buffer> source;
  private final Mapper mapper;
  private Handler<Throwable> exceptionHandler;
  private boolean failed;

  MappedReadStream(ReadStream<Buffer> source, Mapper mapper) {
    this.source = source;
    this.mapper = mapper;
  }

  @Override
  public ReadStream<Buffer> exceptionHandler(Handler<Throwable> handler) {
    this.exceptionHandler = handler;
    source.exceptionHandler(handler);
    return this;
  }

  @Override
  public ReadStream<Buffer> handler(Handler<Buffer> handler) {
    if (handler == null) {
      source.handler(null);
      return this;
    }
    source.handler(
        chunk -> {
          if (failed) {
            return;
          }
          Buffer out;
          try {
            out = mapper.map(chunk);
          } catch (RuntimeException e) {
            fail(e);
            return;
          }
          handler.handle(out);
        });
    return this;
  }

  @Override
  public ReadStream<Buffer> endHandler(Handler<Void> handler) {
    if (handler == null) {
      source.endHandler(null);
      return this;
    }
    source.endHandler(
        v -> {
          if (failed) {
            return;
          }
          try {
            mapper.end();
          } catch (RuntimeException e) {
            fail(e);
            return;
          }
          handler.handle(v);
        });
    return this;
  }

  private void fail(RuntimeException e) {
    failed = true;
    source.pause();
    Handler<Throwable> h = exceptionHandler;
    if (h != null) {
      h.handle(e);
    }
  }

  @Override
  public ReadStream<Buffer> pause() {
    source.pause();
    return this;
  }

  @Override
  public ReadStream<Buffer> resume() {
    source.resume();
    return this;
  }

  @Override
  public ReadStream<Buffer> fetch(long amount) {
    source.fetch(amount);
    return this;
  }
}
