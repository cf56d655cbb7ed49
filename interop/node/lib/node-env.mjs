// Process set-up shared by every matrix-js-sdk program here (js-client-peer.mjs, chat.mjs).
// Import it FIRST: ES modules run in import order, so the console is redirected before matrix-js-sdk
// and its `loglevel` loggers bind to the console methods.
//
// 1. stdout belongs to the program (protocol replies, chat output): every console method writes to
//    stderr, filtered by MXE2EE_JS_LOG = debug | info | warn (default) | error | silent.
// 2. Node 20 polyfill. matrix-js-sdk 43 declares Node 22+; the one Node 22 API the code paths we use
//    call is `Promise.withResolvers` (ES2024; used by its scheduler and its crypto request loop:
//    without it, sending an event and the post-sync crypto step throw "Promise.withResolvers is not a
//    function"). The polyfill below is the standard definition. Everything else it needs
//    (fetch, AbortSignal.timeout, WebAssembly, crypto.subtle) exists in Node 20.
//    Checked by scanning node_modules/matrix-js-sdk/lib for the ES2024+/Node 22 APIs (Promise.try,
//    Object/Map.groupBy, Array.fromAsync, Set methods, iterator helpers, Uint8Array.fromBase64 -
//    the last one is feature-tested by the SDK itself) and by the end-to-end tests.

if (typeof Promise.withResolvers !== "function") {
  Object.defineProperty(Promise, "withResolvers", {
    configurable: true,
    writable: true,
    value: function withResolvers() {
      let resolve;
      let reject;
      const promise = new this((res, rej) => {
        resolve = res;
        reject = rej;
      });
      return { promise, resolve, reject };
    },
  });
}

const LEVELS = { debug: 0, info: 1, warn: 2, error: 3, silent: 4 };
const configured = (process.env.MXE2EE_JS_LOG ?? "warn").toLowerCase();
const threshold = LEVELS[configured] ?? LEVELS.warn;

function writer(level) {
  if (LEVELS[level] < threshold) return () => {};
  return (...args) => {
    const text = args
      .map((a) => (a instanceof Error ? (a.stack ?? a.message) : typeof a === "string" ? a : safeJson(a)))
      .join(" ");
    process.stderr.write(`[${level}] ${text}\n`);
  };
}

function safeJson(v) {
  try {
    return JSON.stringify(v);
  } catch {
    return String(v);
  }
}

console.trace = writer("debug");
console.debug = writer("debug");
console.log = writer("info");
console.info = writer("info");
console.warn = writer("warn");
console.error = writer("error");

/** Writes one diagnostic line to stderr regardless of the log level. */
export function note(...args) {
  process.stderr.write(args.map(String).join(" ") + "\n");
}
