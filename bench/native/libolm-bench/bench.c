/*
 * mxe2ee's own micro-benchmark of libolm (Debian's libolm-dev), for docs/PERFORMANCE.md.
 *
 * Every operation is timed with clock_gettime(CLOCK_MONOTONIC) over batches of iterations: a
 * warm-up that also calibrates the batch size, then RUNS timed runs of about TARGET_RUN_NS each;
 * the median run is printed as one JSON line {"impl":"libolm","op":...,"ns_per_op":...}. The
 * operation names and workloads match the vodozemac (Rust) and mxe2ee (JMH) benchmarks.
 *
 * libolm's public API works on base64 strings and decodes its input buffers in place, so each
 * iteration copies the input message into a scratch buffer first (a memcpy of a few hundred
 * bytes, negligible next to the curve operations) and the base64 coding is part of the timing.
 * The raw primitive rows (ed25519_*, x25519_dh) call libolm's exported internal
 * _olm_crypto_* functions, declared below by hand, so that they measure the curve code alone.
 */
#include <olm/olm.h>
#include <olm/inbound_group_session.h>
#include <olm/outbound_group_session.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#define RUNS 5
#define WARMUP_NS 500000000.0
#define TARGET_RUN_NS 400000000.0
#define EVENT_BYTES 200
#define BACKLOG 1000

/* libolm exports these internal functions (see `nm -D libolm.so.3`); the structs are plain
 * byte arrays: a key pair is the public key followed by the private key. */
struct bench_curve25519_pair {
  uint8_t public_key[32];
  uint8_t private_key[32];
};
struct bench_ed25519_pair {
  uint8_t public_key[32];
  uint8_t private_key[64];
};
void _olm_crypto_curve25519_generate_key(const uint8_t *random32, struct bench_curve25519_pair *out);
void _olm_crypto_curve25519_shared_secret(const struct bench_curve25519_pair *ours,
                                          const uint8_t *their_public32, uint8_t *out32);
void _olm_crypto_ed25519_generate_key(const uint8_t *random32, struct bench_ed25519_pair *out);
void _olm_crypto_ed25519_sign(const struct bench_ed25519_pair *ours, const uint8_t *message,
                              size_t message_length, uint8_t *signature64);
int _olm_crypto_ed25519_verify(const uint8_t *their_public32, const uint8_t *message,
                               size_t message_length, const uint8_t *signature64);

static const char *only = NULL;

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* CPU time of this thread: robust to other users' load on the shared machine. */
static double cpu_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int wanted(const char *op) { return only == NULL || strncmp(op, only, strlen(only)) == 0; }

static void die(const char *what, const char *err) {
  fprintf(stderr, "libolm-bench: %s failed: %s\n", what, err);
  exit(1);
}

static void fill_random(void *buf, size_t len) {
  uint8_t *p = buf;
  while (len > 0) {
    ssize_t n = getrandom(p, len, 0);
    if (n < 0) die("getrandom", "error");
    p += n;
    len -= (size_t)n;
  }
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

typedef void (*op_fn)(void *ctx);

static void bench(const char *op, size_t ops_per_call, op_fn f, void *ctx) {
  double start = now_ns(), elapsed;
  unsigned long calls = 0;
  do {
    f(ctx);
    calls++;
    elapsed = now_ns() - start;
  } while (elapsed < WARMUP_NS);
  unsigned long per_run = (unsigned long)(TARGET_RUN_NS / (elapsed / calls));
  if (per_run < 1) per_run = 1;
  double samples[RUNS], cpu[RUNS];
  double ops = (double)per_run * ops_per_call;
  for (int r = 0; r < RUNS; r++) {
    double c = cpu_ns();
    double t = now_ns();
    for (unsigned long i = 0; i < per_run; i++) f(ctx);
    samples[r] = (now_ns() - t) / ops;
    cpu[r] = (cpu_ns() - c) / ops;
  }
  qsort(samples, RUNS, sizeof(double), cmp_double);
  qsort(cpu, RUNS, sizeof(double), cmp_double);
  printf("{\"impl\":\"libolm\",\"op\":\"%s\",\"ns_per_op\":%.1f,\"cpu_ns_per_op\":%.1f,"
         "\"min_ns\":%.1f,\"max_ns\":%.1f,\"runs\":%d,\"ops_per_run\":%lu}\n",
         op, samples[RUNS / 2], cpu[RUNS / 2], samples[0], samples[RUNS - 1], RUNS,
         per_run * ops_per_call);
  fflush(stdout);
}

/* ---------- shared state ---------- */

static uint8_t plaintext[EVENT_BYTES];
static uint8_t scratch[8192];
static uint8_t out[8192];
static volatile uint8_t sink;

/* ---------- primitives ---------- */

static struct bench_ed25519_pair ed_pair;
static uint8_t ed_sig[64];
static struct bench_curve25519_pair x_ours, x_theirs;

static void op_ed25519_sign(void *ctx) {
  (void)ctx;
  _olm_crypto_ed25519_sign(&ed_pair, plaintext, EVENT_BYTES, out);
  sink = out[0];
}

static void op_ed25519_verify(void *ctx) {
  (void)ctx;
  if (!_olm_crypto_ed25519_verify(ed_pair.public_key, plaintext, EVENT_BYTES, ed_sig))
    die("ed25519 verify", "bad signature");
}

static void op_x25519(void *ctx) {
  (void)ctx;
  _olm_crypto_curve25519_shared_secret(&x_ours, x_theirs.public_key, out);
  sink = out[0];
}

/* ---------- Megolm ---------- */

static OlmOutboundGroupSession *out_group;
static OlmInboundGroupSession *in_group;
static void *in_group_mem;
static uint8_t group_key[512];
static size_t group_key_len;
static uint8_t group_msg[1024];
static size_t group_msg_len;
static uint8_t *backlog[BACKLOG];
static size_t backlog_len[BACKLOG];

static void op_megolm_encrypt(void *ctx) {
  (void)ctx;
  size_t len = olm_group_encrypt_message_length(out_group, EVENT_BYTES);
  if (olm_group_encrypt(out_group, plaintext, EVENT_BYTES, out, len) == olm_error())
    die("olm_group_encrypt", olm_outbound_group_session_last_error(out_group));
}

static void group_decrypt_one(OlmInboundGroupSession *s, const uint8_t *msg, size_t len) {
  uint32_t index;
  memcpy(scratch, msg, len);
  size_t n = olm_group_decrypt(s, scratch, len, out, sizeof out, &index);
  if (n == olm_error()) die("olm_group_decrypt", olm_inbound_group_session_last_error(s));
  sink = out[0];
}

static void op_megolm_decrypt(void *ctx) {
  (void)ctx;
  group_decrypt_one(in_group, group_msg, group_msg_len);
}

static void op_megolm_backlog(void *ctx) {
  (void)ctx;
  OlmInboundGroupSession *s = olm_inbound_group_session(in_group_mem);
  if (olm_init_inbound_group_session(s, group_key, group_key_len) == olm_error())
    die("olm_init_inbound_group_session", olm_inbound_group_session_last_error(s));
  for (int i = 0; i < BACKLOG; i++) group_decrypt_one(s, backlog[i], backlog_len[i]);
  olm_clear_inbound_group_session(s);
}

/* ---------- Olm ---------- */

static OlmAccount *alice, *bob;
static char alice_identity[64], bob_identity[64], bob_fallback[64];
static void *session_mem;
static uint8_t prekey_msg[2048];
static size_t prekey_len;
static OlmSession *established;

/* Copies the first JSON string value that follows `after` in `json` into `dst`. */
static void json_string_after(const char *json, const char *after, char *dst, size_t cap) {
  const char *p = strstr(json, after);
  if (p == NULL) die("parse json", after);
  p += strlen(after);
  p = strchr(p, '"');
  /* skip nested key names: take the first quoted value that follows a ':' */
  while (p != NULL) {
    const char *end = strchr(p + 1, '"');
    if (end == NULL) break;
    const char *q = end + 1;
    while (*q == ' ') q++;
    if (*q != ':') {
      size_t n = (size_t)(end - p - 1);
      if (n + 1 > cap) die("parse json", "value too long");
      memcpy(dst, p + 1, n);
      dst[n] = 0;
      return;
    }
    p = strchr(q, '"');
  }
  die("parse json", after);
}

static OlmAccount *new_account(void) {
  OlmAccount *a = olm_account(malloc(olm_account_size()));
  size_t rl = olm_create_account_random_length(a);
  uint8_t *r = malloc(rl);
  fill_random(r, rl);
  if (olm_create_account(a, r, rl) == olm_error()) die("olm_create_account", olm_account_last_error(a));
  free(r);
  return a;
}

static void identity_curve25519(OlmAccount *a, char *dst) {
  char buf[256];
  size_t n = olm_account_identity_keys(a, buf, sizeof buf - 1);
  if (n == olm_error()) die("olm_account_identity_keys", olm_account_last_error(a));
  buf[n] = 0;
  json_string_after(buf, "\"curve25519\":", dst, 64);
}

static size_t olm_encrypt_to(OlmSession *s, uint8_t *dst, size_t cap) {
  uint8_t random[64];
  size_t rl = olm_encrypt_random_length(s);
  fill_random(random, rl);
  size_t len = olm_encrypt_message_length(s, EVENT_BYTES);
  if (len > cap) die("olm_encrypt", "buffer");
  if (olm_encrypt(s, plaintext, EVENT_BYTES, random, rl, dst, len) == olm_error())
    die("olm_encrypt", olm_session_last_error(s));
  return len;
}

static OlmSession *outbound_to_bob(void *mem) {
  OlmSession *s = olm_session(mem);
  uint8_t random[64];
  size_t rl = olm_create_outbound_session_random_length(s);
  fill_random(random, rl);
  if (olm_create_outbound_session(s, alice, bob_identity, strlen(bob_identity), bob_fallback,
                                  strlen(bob_fallback), random, rl) == olm_error())
    die("olm_create_outbound_session", olm_session_last_error(s));
  return s;
}

static void op_olm_outbound(void *ctx) {
  (void)ctx;
  OlmSession *s = outbound_to_bob(session_mem);
  olm_encrypt_to(s, out, sizeof out);
  olm_clear_session(s);
}

static OlmSession *inbound_from_alice(void *mem) {
  OlmSession *s = olm_session(mem);
  memcpy(scratch, prekey_msg, prekey_len);
  if (olm_create_inbound_session_from(s, bob, alice_identity, strlen(alice_identity), scratch,
                                      prekey_len) == olm_error())
    die("olm_create_inbound_session_from", olm_session_last_error(s));
  memcpy(scratch, prekey_msg, prekey_len);
  size_t n = olm_decrypt(s, OLM_MESSAGE_TYPE_PRE_KEY, scratch, prekey_len, out, sizeof out);
  if (n != EVENT_BYTES) die("olm_decrypt", olm_session_last_error(s));
  return s;
}

static void op_olm_inbound(void *ctx) {
  (void)ctx;
  olm_clear_session(inbound_from_alice(session_mem));
}

static void op_olm_encrypt(void *ctx) {
  (void)ctx;
  olm_encrypt_to(established, out, sizeof out);
}

int main(int argc, char **argv) {
  if (argc > 1) only = argv[1];
  for (int i = 0; i < EVENT_BYTES; i++) plaintext[i] = (uint8_t)('a' + i % 26);

  uint8_t seed[32];
  fill_random(seed, 32);
  _olm_crypto_ed25519_generate_key(seed, &ed_pair);
  _olm_crypto_ed25519_sign(&ed_pair, plaintext, EVENT_BYTES, ed_sig);
  if (!_olm_crypto_ed25519_verify(ed_pair.public_key, plaintext, EVENT_BYTES, ed_sig))
    die("ed25519 self-check", "signature did not verify");
  fill_random(seed, 32);
  _olm_crypto_curve25519_generate_key(seed, &x_ours);
  fill_random(seed, 32);
  _olm_crypto_curve25519_generate_key(seed, &x_theirs);

  if (wanted("ed25519_sign")) bench("ed25519_sign", 1, op_ed25519_sign, NULL);
  if (wanted("ed25519_verify")) bench("ed25519_verify", 1, op_ed25519_verify, NULL);
  /* libolm decodes the public key inside every verify, so a new key costs the same. */
  if (wanted("ed25519_verify_new_key")) bench("ed25519_verify_new_key", 1, op_ed25519_verify, NULL);
  if (wanted("x25519_dh")) bench("x25519_dh", 1, op_x25519, NULL);

  /* Megolm */
  out_group = olm_outbound_group_session(malloc(olm_outbound_group_session_size()));
  {
    size_t rl = olm_init_outbound_group_session_random_length(out_group);
    uint8_t *r = malloc(rl);
    fill_random(r, rl);
    if (olm_init_outbound_group_session(out_group, r, rl) == olm_error())
      die("olm_init_outbound_group_session", olm_outbound_group_session_last_error(out_group));
    free(r);
  }
  group_key_len = olm_outbound_group_session_key(out_group, group_key, sizeof group_key);
  if (group_key_len == olm_error()) die("olm_outbound_group_session_key", "error");
  in_group_mem = malloc(olm_inbound_group_session_size());
  in_group = olm_inbound_group_session(malloc(olm_inbound_group_session_size()));
  if (olm_init_inbound_group_session(in_group, group_key, group_key_len) == olm_error())
    die("olm_init_inbound_group_session", olm_inbound_group_session_last_error(in_group));
  for (int i = 0; i < BACKLOG; i++) {
    backlog_len[i] = olm_group_encrypt_message_length(out_group, EVENT_BYTES);
    backlog[i] = malloc(backlog_len[i]);
    if (olm_group_encrypt(out_group, plaintext, EVENT_BYTES, backlog[i], backlog_len[i]) == olm_error())
      die("olm_group_encrypt", olm_outbound_group_session_last_error(out_group));
  }
  memcpy(group_msg, backlog[0], backlog_len[0]);
  group_msg_len = backlog_len[0];
  {
    uint32_t index;
    memcpy(scratch, group_msg, group_msg_len);
    size_t n = olm_group_decrypt(in_group, scratch, group_msg_len, out, sizeof out, &index);
    if (n != EVENT_BYTES || memcmp(out, plaintext, EVENT_BYTES) != 0) die("megolm self-check", "mismatch");
  }
  if (wanted("megolm_encrypt")) bench("megolm_encrypt_200B", 1, op_megolm_encrypt, NULL);
  if (wanted("megolm_decrypt_200B")) bench("megolm_decrypt_200B", 1, op_megolm_decrypt, NULL);
  if (wanted("megolm_decrypt_backlog"))
    bench("megolm_decrypt_backlog_1000_per_event", BACKLOG, op_megolm_backlog, NULL);

  /* Olm: Bob publishes a fallback key, which an inbound session does not consume, so the same
   * pre-key message can be replayed for every iteration (as in the other two benchmarks). */
  alice = new_account();
  bob = new_account();
  {
    size_t rl = olm_account_generate_fallback_key_random_length(bob);
    uint8_t *r = malloc(rl);
    fill_random(r, rl);
    if (olm_account_generate_fallback_key(bob, r, rl) == olm_error())
      die("olm_account_generate_fallback_key", olm_account_last_error(bob));
    free(r);
    char buf[256];
    size_t n = olm_account_unpublished_fallback_key(bob, buf, sizeof buf - 1);
    if (n == olm_error()) die("olm_account_unpublished_fallback_key", olm_account_last_error(bob));
    buf[n] = 0;
    json_string_after(buf, "\"curve25519\":", bob_fallback, sizeof bob_fallback);
  }
  identity_curve25519(alice, alice_identity);
  identity_curve25519(bob, bob_identity);
  session_mem = malloc(olm_session_size());

  if (wanted("olm_outbound")) bench("olm_outbound_create_encrypt_200B", 1, op_olm_outbound, NULL);

  {
    OlmSession *s = outbound_to_bob(malloc(olm_session_size()));
    if (olm_encrypt_message_type(s) != OLM_MESSAGE_TYPE_PRE_KEY) die("setup", "expected pre-key");
    prekey_len = olm_encrypt_to(s, prekey_msg, sizeof prekey_msg);
    established = s;
  }
  if (wanted("olm_inbound")) bench("olm_inbound_prekey_decrypt_200B", 1, op_olm_inbound, NULL);

  if (wanted("olm_encrypt")) {
    /* Make the session used both ways, so encrypt works on an established sending chain. */
    OlmSession *b = inbound_from_alice(malloc(olm_session_size()));
    uint8_t reply[2048];
    size_t type = olm_encrypt_message_type(b);
    size_t reply_len = olm_encrypt_to(b, reply, sizeof reply);
    size_t n = olm_decrypt(established, type, reply, reply_len, out, sizeof out);
    if (n != EVENT_BYTES) die("olm_decrypt reply", olm_session_last_error(established));
    olm_encrypt_to(established, out, sizeof out);
    if (olm_encrypt_message_type(established) != OLM_MESSAGE_TYPE_MESSAGE) die("setup", "expected normal");
    bench("olm_encrypt_existing_200B", 1, op_olm_encrypt, NULL);
  }
  return 0;
}
