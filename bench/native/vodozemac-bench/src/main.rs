//! mxe2ee's own micro-benchmark of vodozemac (crates.io), for docs/PERFORMANCE.md.
//!
//! Every operation is timed with `std::time::Instant` over batches of iterations: a warm-up,
//! then RUNS timed runs of about TARGET_RUN_NANOS each; the median run is reported as one JSON
//! line `{"impl":"vodozemac","op":...,"ns_per_op":...}` on stdout. The operation names and the
//! workloads are the same in the libolm (C) and mxe2ee (JMH) benchmarks.

use std::hint::black_box;
use std::time::{Duration, Instant};

use vodozemac::megolm::{
    GroupSession, InboundGroupSession, MegolmMessage, SessionConfig as MegolmConfig,
};
use vodozemac::olm::{Account, OlmMessage, SessionConfig as OlmConfig};
use vodozemac::{Curve25519PublicKey, Curve25519SecretKey, Ed25519PublicKey, Ed25519SecretKey};

const RUNS: usize = 5;
const WARMUP: Duration = Duration::from_millis(500);
const TARGET_RUN_NANOS: f64 = 400_000_000.0;
/// Size of the event plaintext, about a small m.room.message event.
const EVENT_BYTES: usize = 200;
/// Events in the backlog benchmark.
const BACKLOG: usize = 1000;

/// CPU time consumed by this thread, in nanoseconds.
fn thread_cpu_ns() -> f64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes into the timespec we own.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
    ts.tv_sec as f64 * 1e9 + ts.tv_nsec as f64
}

/// Times `f`, which performs `ops_per_call` operations per call, and prints one JSON line with
/// the median wall-clock time per op and the median thread CPU time per op.
fn bench<F: FnMut()>(op: &str, ops_per_call: usize, mut f: F) {
    // Warm-up, which also calibrates the number of calls per run.
    let start = Instant::now();
    let mut calls: u64 = 0;
    while start.elapsed() < WARMUP {
        f();
        calls += 1;
    }
    let per_call = start.elapsed().as_nanos() as f64 / calls as f64;
    let calls_per_run = ((TARGET_RUN_NANOS / per_call) as u64).max(1);
    let mut samples = Vec::with_capacity(RUNS);
    let mut cpu_samples = Vec::with_capacity(RUNS);
    let ops = calls_per_run as f64 * ops_per_call as f64;
    for _ in 0..RUNS {
        let c = thread_cpu_ns();
        let t = Instant::now();
        for _ in 0..calls_per_run {
            f();
        }
        let ns = t.elapsed().as_nanos() as f64;
        samples.push(ns / ops);
        cpu_samples.push((thread_cpu_ns() - c) / ops);
    }
    samples.sort_by(|a, b| a.partial_cmp(b).unwrap());
    cpu_samples.sort_by(|a, b| a.partial_cmp(b).unwrap());
    println!(
        "{{\"impl\":\"vodozemac\",\"op\":\"{}\",\"ns_per_op\":{:.1},\"cpu_ns_per_op\":{:.1},\"min_ns\":{:.1},\"max_ns\":{:.1},\"runs\":{},\"ops_per_run\":{}}}",
        op,
        samples[RUNS / 2],
        cpu_samples[RUNS / 2],
        samples[0],
        samples[RUNS - 1],
        RUNS,
        calls_per_run * ops_per_call as u64
    );
}

fn event() -> Vec<u8> {
    // A deterministic printable payload; content does not affect the timing.
    (0..EVENT_BYTES).map(|i| b'a' + (i % 26) as u8).collect()
}

fn main() {
    let plaintext = event();
    let only = std::env::args().nth(1);
    let wanted = |op: &str| only.as_deref().map_or(true, |o| op.starts_with(o));

    // --- primitives ---
    if wanted("ed25519_sign") {
        let key = Ed25519SecretKey::new();
        bench("ed25519_sign", 1, || {
            black_box(key.sign(black_box(&plaintext)));
        });
    }
    if wanted("ed25519_verify") {
        let key = Ed25519SecretKey::new();
        let public = key.public_key();
        let sig = key.sign(&plaintext);
        assert!(public.verify(&plaintext, &sig).is_ok());
        bench("ed25519_verify", 1, || {
            assert!(public.verify(black_box(&plaintext), black_box(&sig)).is_ok());
        });
    }
    if wanted("ed25519_verify_new_key") {
        let key = Ed25519SecretKey::new();
        let encoded = key.public_key().as_bytes().to_owned();
        let sig = key.sign(&plaintext);
        bench("ed25519_verify_new_key", 1, || {
            let public = Ed25519PublicKey::from_slice(black_box(&encoded)).expect("valid key");
            assert!(public.verify(black_box(&plaintext), black_box(&sig)).is_ok());
        });
    }
    if wanted("x25519_dh") {
        let ours = Curve25519SecretKey::new();
        let theirs = Curve25519PublicKey::from(&Curve25519SecretKey::new());
        bench("x25519_dh", 1, || {
            black_box(ours.diffie_hellman(black_box(&theirs)).expect("contributory"));
        });
    }

    // --- Megolm ---
    if wanted("megolm_encrypt") {
        let mut outbound = GroupSession::new(MegolmConfig::version_1());
        bench("megolm_encrypt_200B", 1, || {
            black_box(outbound.encrypt(black_box(&plaintext)));
        });
    }
    if wanted("megolm_decrypt_200B") {
        let mut outbound = GroupSession::new(MegolmConfig::version_1());
        let mut inbound = InboundGroupSession::new(&outbound.session_key(), MegolmConfig::version_1());
        let message = outbound.encrypt(&plaintext);
        assert_eq!(inbound.decrypt(&message).unwrap().plaintext, plaintext);
        bench("megolm_decrypt_200B", 1, || {
            black_box(inbound.decrypt(black_box(&message)).unwrap());
        });
    }
    if wanted("megolm_decrypt_backlog") {
        let mut outbound = GroupSession::new(MegolmConfig::version_1());
        let key = outbound.session_key();
        let backlog: Vec<MegolmMessage> = (0..BACKLOG).map(|_| outbound.encrypt(&plaintext)).collect();
        bench("megolm_decrypt_backlog_1000_per_event", BACKLOG, || {
            let mut inbound = InboundGroupSession::new(&key, MegolmConfig::version_1());
            for m in &backlog {
                black_box(inbound.decrypt(m).unwrap());
            }
        });
    }

    // --- Olm ---
    // Bob publishes a fallback key; a fallback key, unlike a one-time key, is not consumed by
    // an inbound session, so the same pre-key message can be replayed for every iteration.
    let alice = Account::new();
    let mut bob = Account::new();
    bob.generate_fallback_key();
    let bob_key = *bob.fallback_key().values().next().unwrap();
    let bob_identity = bob.curve25519_key();
    let alice_identity = alice.curve25519_key();

    if wanted("olm_outbound") {
        bench("olm_outbound_create_encrypt_200B", 1, || {
            let mut session = alice
                .create_outbound_session(OlmConfig::version_1(), bob_identity, bob_key)
                .unwrap();
            black_box(session.encrypt(black_box(&plaintext)).unwrap());
        });
    }
    if wanted("olm_inbound") {
        let mut session =
            alice.create_outbound_session(OlmConfig::version_1(), bob_identity, bob_key).unwrap();
        let pre_key = match session.encrypt(&plaintext).unwrap() {
            OlmMessage::PreKey(m) => m,
            OlmMessage::Normal(_) => panic!("expected a pre-key message"),
        };
        bench("olm_inbound_prekey_decrypt_200B", 1, || {
            let result = bob
                .create_inbound_session(OlmConfig::version_1(), alice_identity, black_box(&pre_key))
                .unwrap();
            black_box(result);
        });
    }
    if wanted("olm_encrypt") {
        // A session that has been used both ways, so encrypt produces normal messages on an
        // established sending chain.
        let mut alice_session =
            alice.create_outbound_session(OlmConfig::version_1(), bob_identity, bob_key).unwrap();
        let pre_key = match alice_session.encrypt(&plaintext).unwrap() {
            OlmMessage::PreKey(m) => m,
            OlmMessage::Normal(_) => panic!("expected a pre-key message"),
        };
        let mut bob_session = bob
            .create_inbound_session(OlmConfig::version_1(), alice_identity, &pre_key)
            .unwrap()
            .session;
        let reply = bob_session.encrypt(&plaintext).unwrap();
        assert_eq!(alice_session.decrypt(&reply).unwrap(), plaintext);
        let first = alice_session.encrypt(&plaintext).unwrap();
        assert!(matches!(first, OlmMessage::Normal(_)));
        bench("olm_encrypt_existing_200B", 1, || {
            black_box(alice_session.encrypt(black_box(&plaintext)).unwrap());
        });
    }
}
