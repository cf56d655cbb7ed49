package io.github.mxe2ee.plugin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import org.junit.jupiter.api.Test;

/**
 * How long a failed answer asks us to wait (Client-Server API "Rate limiting"; RFC 9110 10.2.3).
 */
class RetryAfterTest {
  @Test
  void bodyFirst_thenHeaderSecondsOrDate_elseNone() {
    JsonObject body =
        new JsonObject().put("errcode", "M_LIMIT_EXCEEDED").put("retry_after_ms", 1500);
    assertEquals(1500, HomeserverClient.retryAfterMs(body, "9"));
    assertEquals(9000, HomeserverClient.retryAfterMs(new JsonObject(), "9"));
    String in30s =
        DateTimeFormatter.RFC_1123_DATE_TIME.format(
            ZonedDateTime.now(ZoneOffset.UTC).plusSeconds(30));
    long date = HomeserverClient.retryAfterMs(null, in30s);
    assertTrue(date > 25_000 && date <= 30_000, "HTTP date: " + date);
    assertEquals(-1, HomeserverClient.retryAfterMs(null, null));
    assertEquals(-1, HomeserverClient.retryAfterMs(null, "soon"));
    assertEquals(-1, HomeserverClient.retryAfterMs(new JsonObject().put("retry_after_ms", -5), ""));
    assertEquals(
        -1, HomeserverClient.retryAfterMs(new JsonObject().put("retry_after_ms", 1.5), null));
    assertEquals(-1, HomeserverClient.retryAfterMs(null, "99999999999"), "absurd: ignored");
  }
}
