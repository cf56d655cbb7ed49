package io.github.mxe2ee.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.StringReader;
import java.io.StringWriter;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The mxe2ee driver's framing and error handling, in process (no crypto involved). */
class PeerDriverTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private static List<JsonNode> serve(String input) throws Exception {
    StringWriter out = new StringWriter();
    new PeerDriver(new SecureRandom()).serve(new StringReader(input), out);
    List<JsonNode> replies = new ArrayList<>();
    for (String line : out.toString().split("\n")) {
      if (!line.isEmpty()) {
        replies.add(MAPPER.readTree(line));
      }
    }
    return replies;
  }

  @Test
  void serve_repliesInOrderAndKeepsServingAfterErrors() throws Exception {
    List<JsonNode> replies =
        serve(
            "{\"id\":1,\"op\":\"info\"}\n"
                + "garbage\n"
                + "\n"
                + "{\"id\":2,\"op\":\"nope\"}\n"
                + "{\"id\":3,\"op\":\"free\"}\n"
                + "{\"id\":4,\"op\":\"free\",\"handle\":\"session-1\"}\n"
                + "{\"id\":5,\"op\":\"info\"}\n");
    assertEquals(6, replies.size(), "one reply per non-blank line: " + replies);
    assertEquals("mxe2ee", replies.get(0).get("result").get("name").asText());
    assertTrue(replies.get(1).get("id").isNull());
    assertEquals("bad_request", replies.get(1).get("error").get("kind").asText());
    assertEquals("unknown_op", replies.get(2).get("error").get("kind").asText());
    assertEquals("bad_request", replies.get(3).get("error").get("kind").asText());
    assertEquals("unknown_handle", replies.get(4).get("error").get("kind").asText());
    assertEquals(5, replies.get(5).get("id").asInt());
  }

  @Test
  void quit_stopsReadingFurtherRequests() throws Exception {
    List<JsonNode> replies = serve("{\"id\":1,\"op\":\"quit\"}\n{\"id\":2,\"op\":\"info\"}\n");
    assertEquals(1, replies.size(), replies.toString());
    assertEquals(0, replies.get(0).get("result").size());
  }

  @Test
  void output_isAsciiWithNonAsciiEscaped() throws Exception {
    StringWriter out = new StringWriter();
    new PeerDriver(new SecureRandom())
        .serve(new StringReader("{\"id\":\"é✓\",\"op\":\"info\"}\n"), out);
    assertTrue(out.toString().chars().allMatch(c -> c < 128), out.toString());
    assertEquals("é✓", MAPPER.readTree(out.toString()).get("id").asText());
  }

  @Test
  void handles_rejectWrongKindAndFreedHandles() {
    Handles handles = new Handles();
    String h = handles.add(Handles.ACCOUNT, "an object");
    assertEquals("an object", handles.get(h, Handles.ACCOUNT, String.class));
    PeerException wrongKind =
        org.junit.jupiter.api.Assertions.assertThrows(
            PeerException.class, () -> handles.get(h, Handles.SESSION, String.class));
    assertEquals(ErrorKinds.UNKNOWN_HANDLE, wrongKind.kind());
    handles.free(h);
    PeerException freed =
        org.junit.jupiter.api.Assertions.assertThrows(PeerException.class, () -> handles.get(h));
    assertEquals(ErrorKinds.UNKNOWN_HANDLE, freed.kind());
    assertFalse(freed.getMessage().contains("an object"), "messages name handles, not values");
  }

  @Test
  void args_rejectMissingIllTypedAndBadBase64() throws Exception {
    Args args =
        new Args(
            MAPPER.readTree(
                "{\"s\":1,\"n\":-1,\"b\":\"not base64!\",\"m\":{\"type\":2,\"body\":\"AA\"}}"));
    assertEquals(ErrorKinds.BAD_REQUEST, kindOf(() -> args.string("missing")));
    assertEquals(ErrorKinds.BAD_REQUEST, kindOf(() -> args.string("s")));
    assertEquals(ErrorKinds.BAD_REQUEST, kindOf(() -> args.nonNegativeInt("n")));
    assertEquals(ErrorKinds.DECODE, kindOf(() -> args.base64("b")));
    assertEquals(ErrorKinds.BAD_REQUEST, kindOf(() -> args.olmMessage("m")));
    Args good = new Args(MAPPER.readTree("{\"m\":{\"type\":1,\"body\":\"AAEC\"}}"));
    Args.OlmMessageArg m = good.olmMessage("m");
    assertEquals(1, m.type());
    assertEquals("AAEC", m.body());
    Args unpadded = new Args(MAPPER.readTree("{\"k\":\"AAE\"}"));
    assertEquals(2, unpadded.base64("k").length, "unpadded base64 is accepted");
  }

  private static String kindOf(Runnable r) {
    try {
      r.run();
    } catch (PeerException e) {
      return e.kind();
    }
    throw new AssertionError("no PeerException");
  }
}
