package io.github.mxe2ee.interop;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.Mxe2eeException;
import io.github.mxe2ee.crypto.PickleCipher;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Reader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;

/**
 * The interop peer driver over mxe2ee's own Olm and Megolm: reads one JSON request per line on
 * stdin and writes one JSON reply per line on stdout, as specified in {@code
 * docs/interop-protocol.md} (issue 3, item 6). Launched by {@code interop/mxe2ee-peer}.
 *
 * <p>Contract: replies come in request order; after an error the driver keeps serving; it exits
 * with status 0 on end of input or after {@code quit}. Error messages never contain private keys,
 * pickle keys, pickles or plaintext: core failures are reported by their kind and message (the core
 * keeps secrets out of both), anything else by exception type and source location only.
 *
 * <p>Not thread-safe: one instance serves one stream, one request at a time.
 */
public final class PeerDriver {
  /** Driver name reported by {@code info}. */
  static final String NAME = "mxe2ee";

  /** Native pickle format of this driver. */
  static final String PICKLE_FORMAT = "mxe2ee";

  /** Every pickle format named by the protocol, readable here or not. */
  static final Set<String> PICKLE_FORMATS = Set.of("mxe2ee", "libolm", "vodozemac");

  /** The {@code kind} values of {@code unpickle}. */
  static final Set<String> PICKLE_KINDS =
      Set.of(Handles.ACCOUNT, Handles.SESSION, Handles.GROUP_OUTBOUND, Handles.GROUP_INBOUND);

  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  private final ObjectMapper mapper =
      JsonMapper.builder().enable(JsonWriteFeature.ESCAPE_NON_ASCII).build();
  private final Map<String, Operation> operations = new TreeMap<>();
  private final Map<String, Pickler> picklers = new HashMap<>();
  private final List<ErrorMapper> errorMappers = new ArrayList<>();
  private final Handles handles = new Handles();
  private final SecureRandom random;
  private boolean running = true;

  /** A driver drawing all key material from {@code random}. */
  public PeerDriver(SecureRandom random) {
    this.random = Objects.requireNonNull(random, "random");
    register("info", args -> info());
    register(
        "free",
        args -> {
          handles.free(args.string("handle"));
          return object();
        });
    register(
        "quit",
        args -> {
          running = false;
          return object();
        });
    register("pickle", this::pickle);
    register("unpickle", this::unpickle);
    UtilOperations.register(this);
    OlmOperations.register(this);
    MegolmOperations.register(this);
    BackupOperations.register(this);
  }

  /** Runs the driver on stdin/stdout until end of input or {@code quit}. */
  public static void main(String[] args) throws IOException {
    PeerDriver driver = new PeerDriver(new SecureRandom());
    Reader in = new InputStreamReader(System.in, StandardCharsets.UTF_8);
    Writer out =
        new OutputStreamWriter(new FileOutputStream(FileDescriptor.out), StandardCharsets.UTF_8);
    driver.serve(in, out);
  }

  /**
   * Serves requests from {@code in} until end of input or {@code quit}, writing replies to {@code
   * out}. Replies are flushed whenever no further request is already buffered, so a pipelining
   * caller gets them in batches and an interactive caller gets each one at once.
   */
  public void serve(Reader in, Writer out) throws IOException {
    BufferedReader reader = new BufferedReader(in);
    BufferedWriter writer = new BufferedWriter(out);
    String line;
    while (running && (line = reader.readLine()) != null) {
      if (line.isBlank()) {
        continue;
      }
      writer.write(mapper.writeValueAsString(handleLine(line)));
      writer.write('\n');
      if (!running || !reader.ready()) {
        writer.flush();
      }
    }
    writer.flush();
  }

  /** Handles one request line and returns the reply object (never null, never throws). */
  ObjectNode handleLine(String line) {
    JsonNode request;
    try {
      request = mapper.readTree(line);
    } catch (JsonProcessingException e) {
      return error(NODES.nullNode(), ErrorKinds.BAD_REQUEST, "request is not JSON");
    }
    if (request == null || !request.isObject()) {
      return error(NODES.nullNode(), ErrorKinds.BAD_REQUEST, "request is not a JSON object");
    }
    JsonNode id = request.has("id") ? request.get("id") : NODES.nullNode();
    JsonNode op = request.get("op");
    Operation operation = op != null && op.isTextual() ? operations.get(op.textValue()) : null;
    if (operation == null) {
      return error(
          id, ErrorKinds.UNKNOWN_OP, "unknown op " + (op == null ? "null" : op.toString()));
    }
    try {
      ObjectNode result = operation.apply(new Args(request));
      ObjectNode reply = NODES.objectNode();
      reply.set("id", id);
      reply.set("result", result);
      return reply;
    } catch (PeerException e) {
      return error(id, e.kind(), e.getMessage());
    } catch (RuntimeException e) {
      return errorReply(id, e);
    } catch (LinkageError e) {
      // A core class missing or changed on the classpath (e.g. a stale mxe2ee-core jar in the
      // local repository): report it and keep serving, as for any other failure.
      return error(id, ErrorKinds.INTERNAL, e.getClass().getName() + ": " + e.getMessage());
    }
  }

  /**
   * The error reply for a failure inside an operation: the first {@link ErrorMapper} that knows the
   * exception decides; otherwise a core {@link Mxe2eeException} reports its kind (mapped by {@link
   * ErrorKinds#fromCore}) and its message, which the core keeps free of secrets; anything else is
   * {@code internal}.
   */
  private ObjectNode errorReply(JsonNode id, RuntimeException e) {
    for (ErrorMapper mapper : errorMappers) {
      PeerException mapped = mapper.map(e);
      if (mapped != null) {
        return error(id, mapped.kind(), mapped.getMessage());
      }
    }
    if (e instanceof Mxe2eeException core) {
      return error(id, ErrorKinds.fromCore(core.kind()), String.valueOf(core.getMessage()));
    }
    return internalError(id, e);
  }

  void addErrorMapper(ErrorMapper mapper) {
    errorMappers.add(Objects.requireNonNull(mapper, "mapper"));
  }

  void addPickler(String kind, Pickler pickler) {
    if (picklers.putIfAbsent(kind, pickler) != null) {
      throw new IllegalStateException("pickler registered twice: " + kind);
    }
  }

  private ObjectNode pickle(Args args) {
    String handle = args.string("handle");
    String kind = handles.kind(handle);
    Pickler pickler = pickler(kind);
    byte[] key = args.base64("key");
    try {
      requireMxe2eeKeyLength(key);
      ObjectNode result = object();
      result.put("pickle", pickler.pickle(handles.get(handle), key));
      result.put("format", PICKLE_FORMAT);
      return result;
    } finally {
      Arrays.fill(key, (byte) 0);
    }
  }

  private ObjectNode unpickle(Args args) {
    String kind = args.string("kind");
    if (!PICKLE_KINDS.contains(kind)) {
      throw new PeerException(ErrorKinds.BAD_REQUEST, "unknown pickle kind '" + kind + "'");
    }
    String format = args.string("format");
    if (!PICKLE_FORMATS.contains(format)) {
      throw new PeerException(ErrorKinds.BAD_REQUEST, "unknown pickle format '" + format + "'");
    }
    if (!format.equals(PICKLE_FORMAT) && !format.equals("libolm")) {
      throw new PeerException(ErrorKinds.UNSUPPORTED, "mxe2ee cannot read " + format + " pickles");
    }
    Pickler pickler = pickler(kind);
    String pickle = args.string("pickle");
    byte[] key = args.base64("key");
    try {
      if (format.equals(PICKLE_FORMAT)) {
        requireMxe2eeKeyLength(key);
      }
      Object value =
          format.equals(PICKLE_FORMAT)
              ? pickler.fromMxe2ee(pickle, key)
              : pickler.fromLibolm(pickle, key);
      ObjectNode result = object();
      result.put("handle", handles.add(kind, value));
      return result;
    } finally {
      Arrays.fill(key, (byte) 0);
    }
  }

  /** A wrong key length is a malformed request (as for vodozemac), not malformed data. */
  private static void requireMxe2eeKeyLength(byte[] key) {
    if (key.length != PickleCipher.MXE2EE_KEY_LENGTH) {
      throw new PeerException(
          ErrorKinds.BAD_REQUEST,
          "the mxe2ee pickle format needs a "
              + PickleCipher.MXE2EE_KEY_LENGTH
              + "-byte key, got "
              + key.length
              + " bytes");
    }
  }

  private Pickler pickler(String kind) {
    Pickler pickler = picklers.get(kind);
    if (pickler == null) {
      throw new PeerException(
          ErrorKinds.UNSUPPORTED, "this build of the mxe2ee driver cannot pickle a " + kind);
    }
    return pickler;
  }

  void register(String name, Operation operation) {
    if (operations.putIfAbsent(name, operation) != null) {
      throw new IllegalStateException("operation registered twice: " + name);
    }
  }

  Handles handles() {
    return handles;
  }

  SecureRandom random() {
    return random;
  }

  static ObjectNode object() {
    return NODES.objectNode();
  }

  ObjectNode error(JsonNode id, String kind, String message) {
    ObjectNode error = NODES.objectNode();
    error.put("kind", kind);
    error.put("message", message);
    ObjectNode reply = NODES.objectNode();
    reply.set("id", id);
    reply.set("error", error);
    return reply;
  }

  /**
   * An {@code internal} error for an exception that is not a documented failure: type and the
   * throwing source location only, since an arbitrary message could quote secret input.
   */
  ObjectNode internalError(JsonNode id, RuntimeException e) {
    StringBuilder message = new StringBuilder(e.getClass().getName());
    StackTraceElement[] trace = e.getStackTrace();
    if (trace.length > 0) {
      message.append(" at ").append(trace[0].getClassName()).append('.');
      message.append(trace[0].getMethodName()).append(':').append(trace[0].getLineNumber());
    }
    return error(id, ErrorKinds.INTERNAL, message.toString());
  }

  private ObjectNode info() {
    ObjectNode result = object();
    result.put("name", NAME);
    Package pkg = PeerDriver.class.getPackage();
    String version = pkg == null ? null : pkg.getImplementationVersion();
    result.put("version", version == null ? "dev" : version);
    result.put("pickle_format", PICKLE_FORMAT);
    ArrayNode ops = result.putArray("ops");
    operations.keySet().forEach(ops::add);
    return result;
  }
}
