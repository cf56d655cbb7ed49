package io.github.mxe2ee.export;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.File;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Writes {@code src/test/resources/export/key_export_fuzz_corpus.json}, the corpus that {@link
 * KeyExportFuzzCorpusTest} replays. Not a test: run once by hand ({@code java -cp ...
 * io.github.mxe2ee.export.KeyExportFuzzCorpus <file>}). The committed corpus is only ever added to,
 * never regenerated, so this class documents how its cases were made.
 *
 * <p>File cases mutate a valid export (bit flips, byte changes, truncations, insertions and
 * deletions of the binary body, and character- and line-level edits of the armored text); each
 * records whether its body still decodes to the original bytes ({@code "ok"}) or not ({@code
 * "error"}). Payload cases encrypt a mutated JSON payload correctly, so they reach the entry
 * parser. Mutations that would set the PBKDF2 round count between 1,000 and {@link
 * KeyExportFile#MAX_ROUNDS} are skipped to keep the replay fast.
 */
final class KeyExportFuzzCorpus {
  static final long SEED = 20261123L;
  static final String PASSPHRASE = "fuzz";
  static final int FILE_CASES = 160;
  static final int PAYLOAD_CASES = 80;

  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final String TEXT_ALPHABET =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/= \n\r\t-_!é\u0000";

  private KeyExportFuzzCorpus() {}

  public static void main(String[] args) throws IOException {
    Random random = new Random(SEED);
    List<ExportedRoomKey> keys = List.of(ExportedRoomKeyTest.freshKey("!fuzz:example.org", true));
    byte[] payload = ExportedRoomKey.toJsonArray(keys);
    byte[] salt = new byte[16];
    byte[] iv = new byte[16];
    random.nextBytes(salt);
    random.nextBytes(iv);
    iv[8] &= 0x7f;
    String base = KeyExportFile.encrypt(payload, PASSPHRASE.toCharArray(), salt, iv, 1);
    byte[] body = KeyExportFile.unarmor(base);

    ObjectNode out = JsonNodeFactory.instance.objectNode();
    out.put(
        "description",
        "Mutated Megolm key export files. 'cases': mutations of 'base' (expect 'ok' when the"
            + " mutated text still decodes to the same binary body, else 'error' with a typed"
            + " exception). 'payload_cases': validly encrypted files whose JSON payload was"
            + " mutated (expect a parse result or a PAYLOAD error). Passphrase 'fuzz', 1 round."
            + " Generated once by KeyExportFuzzCorpus (seed "
            + SEED
            + "); only ever added to.");
    out.put("passphrase", PASSPHRASE);
    ObjectNode baseNode = out.putObject("base");
    baseNode.put("armored", base);
    ArrayNode ids = baseNode.putArray("session_ids");
    keys.forEach(k -> ids.add(k.sessionId()));

    ArrayNode cases = out.putArray("cases");
    while (cases.size() < FILE_CASES) {
      String[] mutation = new String[1];
      String armored = mutateFile(base, body, random, mutation);
      byte[] decoded = tryUnarmor(armored);
      if (decoded != null && slowRounds(decoded)) {
        continue;
      }
      ObjectNode c = cases.addObject();
      c.put("id", String.format("f%03d", cases.size() - 1));
      c.put("mutation", mutation[0]);
      c.put("armored", armored);
      c.put("expect", decoded != null && Arrays.equals(decoded, body) ? "ok" : "error");
    }

    ArrayNode payloadCases = out.putArray("payload_cases");
    JsonNode tree = MAPPER.readTree(payload);
    while (payloadCases.size() < PAYLOAD_CASES) {
      String[] mutation = new String[1];
      byte[] mutated = mutatePayload(tree, payload, random, mutation);
      ObjectNode c = payloadCases.addObject();
      c.put("id", String.format("p%03d", payloadCases.size() - 1));
      c.put("mutation", mutation[0]);
      c.put("armored", KeyExportFile.encrypt(mutated, PASSPHRASE.toCharArray(), salt, iv, 1));
    }
    MAPPER.enable(SerializationFeature.INDENT_OUTPUT).writeValue(new File(args[0]), out);
  }

  private static byte[] tryUnarmor(String armored) {
    try {
      return KeyExportFile.unarmor(armored);
    } catch (KeyExportDecodeException e) {
      return null;
    }
  }

  private static boolean slowRounds(byte[] body) {
    if (body.length < KeyExportFile.HEADER_LENGTH) {
      return false;
    }
    long rounds = ByteBuffer.wrap(body, 33, 4).getInt() & 0xffffffffL;
    return rounds > 1_000 && rounds <= KeyExportFile.MAX_ROUNDS;
  }

  private static String mutateFile(String base, byte[] body, Random r, String[] what) {
    byte[] b = body.clone();
    switch (r.nextInt(12)) {
      case 0 -> {
        int i = r.nextInt(b.length);
        int bit = r.nextInt(8);
        b[i] ^= (byte) (1 << bit);
        what[0] = "flip body byte " + i + " bit " + bit;
      }
      case 1 -> {
        int i = r.nextInt(b.length);
        b[i] = (byte) r.nextInt(256);
        what[0] = "set body byte " + i;
      }
      case 2 -> {
        int n = r.nextInt(b.length);
        b = Arrays.copyOf(b, n);
        what[0] = "truncate body to " + n + " bytes";
      }
      case 3 -> {
        int n = 1 + r.nextInt(40);
        byte[] extra = new byte[n];
        r.nextBytes(extra);
        b = concat(b, extra);
        what[0] = "append " + n + " random bytes";
      }
      case 4 -> {
        int at = r.nextInt(b.length);
        byte[] extra = new byte[1 + r.nextInt(8)];
        r.nextBytes(extra);
        b = concat(concat(Arrays.copyOf(b, at), extra), Arrays.copyOfRange(b, at, b.length));
        what[0] = "insert " + extra.length + " bytes at " + at;
      }
      case 5 -> {
        int at = r.nextInt(b.length);
        int n = 1 + r.nextInt(Math.min(16, b.length - at));
        b = concat(Arrays.copyOf(b, at), Arrays.copyOfRange(b, at + n, b.length));
        what[0] = "delete " + n + " bytes at " + at;
      }
      case 6 -> {
        b[0] = (byte) r.nextInt(256);
        what[0] = "version byte " + (b[0] & 0xff);
      }
      case 7 -> {
        int rounds = r.nextBoolean() ? r.nextInt(1_000) : r.nextInt();
        ByteBuffer.wrap(b, 33, 4).putInt(rounds);
        what[0] = "rounds " + (rounds & 0xffffffffL);
      }
      case 8 -> {
        int at = r.nextInt(base.length());
        what[0] = "delete text char " + at;
        return base.substring(0, at) + base.substring(at + 1);
      }
      case 9 -> {
        int at = r.nextInt(base.length() + 1);
        char c = TEXT_ALPHABET.charAt(r.nextInt(TEXT_ALPHABET.length()));
        what[0] = "insert text char U+" + Integer.toHexString(c) + " at " + at;
        return base.substring(0, at) + c + base.substring(at);
      }
      case 10 -> {
        int at = r.nextInt(base.length());
        char c = TEXT_ALPHABET.charAt(r.nextInt(TEXT_ALPHABET.length()));
        what[0] = "replace text char " + at + " with U+" + Integer.toHexString(c);
        return base.substring(0, at) + c + base.substring(at + 1);
      }
      default -> {
        List<String> lines = new ArrayList<>(List.of(base.split("\n", -1)));
        int i = r.nextInt(lines.size());
        int j = r.nextInt(lines.size());
        switch (r.nextInt(3)) {
          case 0 -> {
            lines.remove(i);
            what[0] = "delete line " + i;
          }
          case 1 -> {
            lines.add(i, lines.get(j));
            what[0] = "copy line " + j + " before line " + i;
          }
          default -> {
            String t = lines.get(i);
            lines.set(i, lines.get(j));
            lines.set(j, t);
            what[0] = "swap lines " + i + " and " + j;
          }
        }
        return String.join("\n", lines);
      }
    }
    return KeyExportFile.armor(b);
  }

  private static byte[] mutatePayload(JsonNode tree, byte[] payload, Random r, String[] what) {
    ArrayNode copy = (ArrayNode) tree.deepCopy();
    String[] fields = {
      "algorithm",
      "forwarding_curve25519_key_chain",
      "room_id",
      "sender_key",
      "sender_claimed_keys",
      "session_id",
      "session_key",
      "shared_history"
    };
    int entry = r.nextInt(copy.size());
    ObjectNode object = (ObjectNode) copy.get(entry);
    String field = fields[r.nextInt(fields.length)];
    switch (r.nextInt(8)) {
      case 0 -> {
        object.remove(field);
        what[0] = "entry " + entry + ": remove " + field;
      }
      case 1 -> {
        JsonNode value = randomValue(r);
        object.set(field, value);
        what[0] = "entry " + entry + ": " + field + " = " + value.getNodeType();
      }
      case 2 -> {
        String text = object.path(field).isTextual() ? object.get(field).textValue() : "";
        if (text.isEmpty()) {
          object.put(field, "");
          what[0] = "entry " + entry + ": " + field + " = empty string";
        } else {
          int at = r.nextInt(text.length());
          char c = TEXT_ALPHABET.charAt(r.nextInt(TEXT_ALPHABET.length()));
          object.put(field, text.substring(0, at) + c + text.substring(at + 1));
          what[0] = "entry " + entry + ": replace char " + at + " of " + field;
        }
      }
      case 3 -> {
        copy.set(entry, randomValue(r));
        what[0] = "entry " + entry + " replaced by " + copy.get(entry).getNodeType();
      }
      case 4 -> {
        int n = r.nextInt(payload.length);
        what[0] = "payload truncated to " + n + " bytes";
        return Arrays.copyOf(payload, n);
      }
      case 5 -> {
        int at = r.nextInt(payload.length);
        byte[] out = payload.clone();
        out[at] = (byte) TEXT_ALPHABET.charAt(r.nextInt(TEXT_ALPHABET.length()));
        what[0] = "payload byte " + at + " replaced";
        return out;
      }
      case 6 -> {
        int depth = r.nextBoolean() ? 10 : 1_500;
        what[0] = "payload nested " + depth + " arrays deep";
        return ("[".repeat(depth) + "]".repeat(depth)).getBytes(StandardCharsets.UTF_8);
      }
      default -> {
        copy.add(copy.get(entry).deepCopy());
        copy.add(JsonNodeFactory.instance.objectNode());
        what[0] = "entry " + entry + " duplicated, empty object appended";
      }
    }
    try {
      return MAPPER.enable(SerializationFeature.INDENT_OUTPUT).writeValueAsBytes(copy);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private static JsonNode randomValue(Random r) {
    JsonNodeFactory f = JsonNodeFactory.instance;
    return switch (r.nextInt(7)) {
      case 0 -> f.nullNode();
      case 1 -> f.numberNode(r.nextLong());
      case 2 -> f.booleanNode(r.nextBoolean());
      case 3 -> f.arrayNode().add("x").add(1);
      case 4 -> f.objectNode().put("ed25519", "x");
      case 5 -> f.textNode("m.megolm.v1.aes-sha2");
      default -> f.textNode(Long.toString(r.nextLong(), 36));
    };
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] out = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
