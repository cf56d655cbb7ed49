package io.github.mxe2ee.plugin.media;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class MxcUriTest {

  @Test
  void parse_acceptsServerNamesOfTheGrammar() {
    for (String ok :
        new String[] {
          "mxc://localhost/abc",
          "mxc://example.org:8448/AQwafuaFswefuhsfAFAgsw",
          "mxc://1.2.3.4/a_b-c",
          "mxc://[::1]:8008/x",
          "mxc://[2001:db8::1]/x"
        }) {
      assertEquals(ok, MxcUri.parse(ok).toString(), ok);
    }
    MxcUri u = MxcUri.parse("mxc://[::1]:8008/media");
    assertEquals("[::1]:8008", u.serverName());
    assertEquals("%5B::1%5D:8008/media", u.downloadPath());
  }

  @Test
  void parse_rejectsPathTraversalQueriesAndOtherHosts() {
    for (String bad :
        new String[] {
          null,
          "",
          "https://example.org/abc",
          "mxc://",
          "mxc://example.org",
          "mxc://example.org/",
          "mxc://example.org/../../_matrix/client/v3/account/whoami",
          "mxc://example.org/a/b",
          "mxc://example.org/a?x=1",
          "mxc://example.org/a#f",
          "mxc://example.org/a%2F..",
          "mxc://ex ample.org/a",
          "mxc://user@example.org/a",
          "mxc://example.org:/a",
          "mxc://example.org:123456/a",
          "mxc://example.org:80:80/a",
          "mxc://[::1/a",
          "mxc://[zz::1]/a",
          "mxc://example.org/" + "a".repeat(256),
          "mxc://" + "a".repeat(256) + "/a",
          "mxc://example.org/é"
        }) {
      MediaException e = assertThrows(MediaException.class, () -> MxcUri.parse(bad), bad);
      assertEquals(MediaException.Reason.INVALID_MXC, e.reason(), bad);
    }
  }
}
