package io.github.mxe2ee.plugin.media;

import io.github.mxe2ee.plugin.HomeserverClient;
import io.github.mxe2ee.plugin.HomeserverException;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import io.vertx.core.streams.Pipe;
import io.vertx.core.streams.ReadStream;
import io.vertx.core.streams.WriteStream;
import java.util.Objects;
import java.util.function.UnaryOperator;

/**
 * The homeserver's media repository, streaming both ways (Client-Server API, "Content repository"):
 * uploads with {@code POST /_matrix/media/v3/upload} (still the upload endpoint after v1.11) and
 * downloads with the authenticated {@code GET /_matrix/client/v1/media/download/{serverName}/
 * {mediaId}} (v1.11), falling back to the deprecated {@code GET /_matrix/media/v3/download/...}
 * when the server does not know the new endpoint (it answers {@code M_UNRECOGNIZED}, or 404/405
 * without an error code); after one such fallback the legacy endpoint is used directly.
 *
 * <p>Bodies are never held in memory: an upload streams its {@link ReadStream} into the request, a
 * download streams the response into a {@link WriteStream} with back-pressure. A download is
 * refused as soon as its {@code Content-Length} or its counted bytes pass the limit; the request is
 * then reset. JSON answers (the upload's {@code content_uri}, error bodies) are read up to {@value
 * #MAX_JSON_BYTES} bytes.
 *
 * <p>Every request carries the logged-in session's access token (never logged) and has the idle
 * timeout of {@link MediaOptions#getIdleTimeoutMs()}. Thread-safe; futures complete on the client's
 * Vert.x context. Errors: {@link HomeserverException} for a non-2xx answer, {@link MediaException}
 * for a size limit or an invalid {@code content_uri}, the HTTP client's exception for transport
 * failures. {@link #close()} closes the HTTP client.
 */
public final class MediaClient {
  /** Largest JSON answer read (an upload's {@code content_uri} or an error): 64 KiB. */
  public static final int MAX_JSON_BYTES = 64 * 1024;

  static final String UPLOAD_PATH = "/_matrix/media/v3/upload";
  static final String DOWNLOAD_PATH = "/_matrix/client/v1/media/download/";
  static final String LEGACY_DOWNLOAD_PATH = "/_matrix/media/v3/download/";

  private static final System.Logger LOG = System.getLogger(MediaClient.class.getName());

  private final HomeserverClient hs;
  private final MediaOptions options;
  private final HttpClientAgent http;
  private volatile boolean legacyDownloads;

  /**
   * @param vertx the Vert.x instance of the HTTP client created here
   * @param hs the logged-in homeserver client: its base URL and session are used
   * @param options size limits and timeouts; copied
   */
  public MediaClient(Vertx vertx, HomeserverClient hs, MediaOptions options) {
    this.hs = Objects.requireNonNull(hs, "hs");
    this.options = new MediaOptions(options);
    this.http =
        vertx.createHttpClient(
            new HttpClientOptions()
                .setConnectTimeout(
                    (int) Math.min(Integer.MAX_VALUE, this.options.getIdleTimeoutMs())));
  }

  /**
   * Uploads a body of exactly {@code length} bytes as {@code application/octet-stream}, without a
   * file name (an encrypted upload must not reveal it).
   *
   * @param body the bytes to upload (ciphertext); it is read to its end
   * @param length the exact number of bytes {@code body} yields (sent as {@code Content-Length})
   * @return the {@code content_uri}, validated
   */
  public Future<MxcUri> upload(ReadStream<Buffer> body, long length) {
    Objects.requireNonNull(body, "body");
    if (length < 0) {
      throw new IllegalArgumentException("length must be >= 0");
    }
    HomeserverClient.Session s = session();
    RequestOptions req =
        new RequestOptions()
            .setMethod(HttpMethod.POST)
            .setAbsoluteURI(hs.baseUrl() + UPLOAD_PATH)
            .setIdleTimeout(options.getIdleTimeoutMs())
            .putHeader(HttpHeaders.AUTHORIZATION, "Bearer " + s.accessToken())
            .putHeader(HttpHeaders.CONTENT_TYPE, "application/octet-stream")
            .putHeader(HttpHeaders.CONTENT_LENGTH, Long.toString(length));
    return http.request(req)
        .compose(r -> sendBody(r, body))
        .compose(resp -> readJson(UPLOAD_PATH, resp))
        .map(
            json -> {
              Object uri = json.getValue("content_uri");
              return MxcUri.parse(uri instanceof String u ? u : null);
            });
  }

  /**
   * Uploads {@code body} (ciphertext held in memory, e.g. an encrypted room key bundle) as {@code
   * application/octet-stream}, without a file name.
   *
   * @return the {@code content_uri}, validated
   */
  public Future<MxcUri> upload(Buffer body) {
    Objects.requireNonNull(body, "body");
    HomeserverClient.Session s = session();
    RequestOptions req =
        new RequestOptions()
            .setMethod(HttpMethod.POST)
            .setAbsoluteURI(hs.baseUrl() + UPLOAD_PATH)
            .setIdleTimeout(options.getIdleTimeoutMs())
            .putHeader(HttpHeaders.AUTHORIZATION, "Bearer " + s.accessToken())
            .putHeader(HttpHeaders.CONTENT_TYPE, "application/octet-stream");
    return http.request(req)
        .compose(r -> r.send(body))
        .compose(resp -> readJson(UPLOAD_PATH, resp))
        .map(
            json -> {
              Object uri = json.getValue("content_uri");
              return MxcUri.parse(uri instanceof String u ? u : null);
            });
  }

  /**
   * Streams {@code body} into the request. A failing body (a size mismatch, an encryption error, a
   * read error) resets the request and fails the result with the body's exception: the request is
   * never ended short of its {@code Content-Length}, which would leave the server waiting.
   */
  private static Future<HttpClientResponse> sendBody(
      HttpClientRequest request, ReadStream<Buffer> body) {
    Promise<HttpClientResponse> result = Promise.promise();
    request.response().onComplete(result::tryComplete, result::tryFail);
    Pipe<Buffer> pipe = body.pipe();
    pipe.endOnFailure(false);
    pipe.to(request)
        .onFailure(
            err -> {
              if (result.tryFail(err)) {
                request.reset(0, err);
              }
            });
    return result.future();
  }

  /**
   * Downloads {@code uri} into {@code sink} with back-pressure; {@code sink} is neither ended nor
   * closed (the caller decides what a failed download leaves behind).
   *
   * @param maxBytes the largest body accepted; larger fails with {@link
   *     MediaException.Reason#TOO_LARGE} before (Content-Length) or while (counted) reading
   * @return the number of bytes written
   */
  public Future<Long> download(MxcUri uri, long maxBytes, WriteStream<Buffer> sink) {
    return download(uri, maxBytes, sink, UnaryOperator.identity());
  }

  /** {@link #download(MxcUri, long, WriteStream)} with each chunk mapped before it is written. */
  Future<Long> download(
      MxcUri uri, long maxBytes, WriteStream<Buffer> sink, UnaryOperator<Buffer> map) {
    Objects.requireNonNull(uri, "uri");
    Objects.requireNonNull(sink, "sink");
    if (maxBytes < 1) {
      throw new IllegalArgumentException("maxBytes must be positive");
    }
    HomeserverClient.Session s = session();
    String legacy = LEGACY_DOWNLOAD_PATH + uri.downloadPath();
    if (legacyDownloads) {
      return get(s, legacy).compose(resp -> receive(legacy, resp, maxBytes, sink, map));
    }
    String path = DOWNLOAD_PATH + uri.downloadPath();
    return get(s, path)
        .compose(
            resp -> {
              if (resp.statusCode() / 100 == 2) {
                return receive(path, resp, maxBytes, sink, map);
              }
              return readJson(path, resp)
                  .transform(
                      ar -> {
                        if (ar.failed()
                            && ar.cause() instanceof HomeserverException h
                            && unrecognized(h)) {
                          LOG.log(
                              System.Logger.Level.INFO,
                              "the homeserver has no authenticated media ({0} {1}); using {2}",
                              h.statusCode(),
                              h.errcode(),
                              LEGACY_DOWNLOAD_PATH);
                          legacyDownloads = true;
                          return get(s, legacy)
                              .compose(r -> receive(legacy, r, maxBytes, sink, map));
                        }
                        return Future.failedFuture(
                            ar.failed()
                                ? ar.cause()
                                : new HomeserverException(
                                    path, resp.statusCode(), null, "unexpected answer"));
                      });
            });
  }

  /** A server without the v1.11 endpoint: {@code M_UNRECOGNIZED}, or a bare 404/405. */
  private static boolean unrecognized(HomeserverException h) {
    if ("M_UNRECOGNIZED".equals(h.errcode())) {
      return true;
    }
    return (h.statusCode() == 404 || h.statusCode() == 405) && h.errcode() == null;
  }

  private Future<HttpClientResponse> get(HomeserverClient.Session s, String path) {
    RequestOptions req =
        new RequestOptions()
            .setMethod(HttpMethod.GET)
            .setAbsoluteURI(hs.baseUrl() + path)
            .setIdleTimeout(options.getIdleTimeoutMs())
            .putHeader(HttpHeaders.AUTHORIZATION, "Bearer " + s.accessToken());
    return http.request(req).compose(r -> r.send());
  }

  /** Streams a 2xx body into {@code sink}, counting; fails a non-2xx with its error. */
  private Future<Long> receive(
      String path,
      HttpClientResponse resp,
      long maxBytes,
      WriteStream<Buffer> sink,
      UnaryOperator<Buffer> map) {
    if (resp.statusCode() / 100 != 2) {
      return readJson(path, resp).map(json -> 0L);
    }
    String announced = resp.getHeader(HttpHeaders.CONTENT_LENGTH);
    if (announced != null) {
      long n;
      try {
        n = Long.parseLong(announced.trim());
      } catch (NumberFormatException e) {
        n = -1;
      }
      if (n > maxBytes) {
        resp.request().reset();
        return Future.failedFuture(tooLarge(path, "announces " + n + " bytes", maxBytes));
      }
    }
    Promise<Long> done = Promise.promise();
    long[] count = {0};
    resp.exceptionHandler(done::tryFail);
    resp.handler(
        chunk -> {
          if (done.future().isComplete()) {
            return;
          }
          count[0] += chunk.length();
          if (count[0] > maxBytes) {
            done.tryFail(tooLarge(path, "sent more than the limit", maxBytes));
            resp.request().reset();
            return;
          }
          Buffer out;
          try {
            out = map.apply(chunk);
          } catch (RuntimeException e) {
            done.tryFail(e);
            resp.request().reset();
            return;
          }
          sink.write(out)
              .onFailure(
                  err -> {
                    if (done.tryFail(
                        new MediaException(
                            MediaException.Reason.IO, "writing the download failed", err))) {
                      resp.request().reset();
                    }
                  });
          if (sink.writeQueueFull()) {
            resp.pause();
            sink.drainHandler(v -> resp.resume());
          }
        });
    resp.endHandler(v -> done.tryComplete(count[0]));
    return done.future();
  }

  private static MediaException tooLarge(String path, String what, long maxBytes) {
    return new MediaException(
        MediaException.Reason.TOO_LARGE,
        "download " + path + " " + what + ", over the limit of " + maxBytes + " bytes");
  }

  /**
   * Reads a JSON answer of at most {@link #MAX_JSON_BYTES}; a non-2xx status fails with {@link
   * HomeserverException} carrying its {@code errcode}.
   */
  private static Future<JsonObject> readJson(String path, HttpClientResponse resp) {
    Promise<Buffer> body = Promise.promise();
    Buffer buf = Buffer.buffer();
    resp.exceptionHandler(body::tryFail);
    resp.handler(
        chunk -> {
          if (buf.length() + chunk.length() > MAX_JSON_BYTES) {
            body.tryFail(
                new HomeserverException(
                    path, resp.statusCode(), null, "answer over " + MAX_JSON_BYTES + " bytes"));
            resp.request().reset();
          } else {
            buf.appendBuffer(chunk);
          }
        });
    resp.endHandler(v -> body.tryComplete(buf));
    return body.future()
        .map(
            raw -> {
              JsonObject json = null;
              try {
                json = raw.length() == 0 ? null : new JsonObject(raw);
              } catch (DecodeException | ClassCastException e) {
                json = null;
              }
              if (resp.statusCode() / 100 != 2) {
                String errcode = json == null ? null : stringOrNull(json, "errcode");
                String error = json == null ? "no JSON body" : stringOrNull(json, "error");
                throw new HomeserverException(
                    path, resp.statusCode(), errcode, error == null ? "no error message" : error);
              }
              if (json == null) {
                throw new HomeserverException(path, resp.statusCode(), null, "expected JSON");
              }
              return json;
            });
  }

  private static String stringOrNull(JsonObject json, String field) {
    return json.getValue(field) instanceof String s ? s : null;
  }

  private HomeserverClient.Session session() {
    HomeserverClient.Session s = hs.session();
    if (s == null) {
      throw new IllegalStateException("media request before login");
    }
    return s;
  }

  /** Closes the HTTP client; transfers in flight fail. */
  public Future<Void> close() {
    return http.close();
  }
}
