//! Benchmark: what the credential scrubber costs per 200 KB of text, and how much of that is
//! the extra reading of the text's wide characters as the bytes they carry
//! (`secret::narrowed`, finding round19-text/04), side by side in one run on one machine.
//!
//! It also times the scrub of 1 MB of random letters and digits with two credentials known: the
//! text a k6 threshold name or a Prometheus label value may be (finding round31-text/01: 16 µs
//! a character in release, 0.5 ms in debug, kept `verify` busy for minutes).
//!
//! And it times many short texts scrubbed one by one (finding round34-text/01: the label names
//! and values of a Prometheus answer, each scrubbed on its own) beside the same bytes as one text.
//!
//! Run with `cargo bench --bench scrub`. Under `cargo test --benches` it runs each text once,
//! as a smoke test (the credential masked in each), and prints no timings.

use std::time::{Duration, Instant};

const CREDENTIAL: &str = "Zq8wK3mP9vT2xL7nR4cY";
const SECOND_CREDENTIAL: &str = "Zq9SecretTokenXw7Vb6Nm5Lk4";
const SIZE: usize = 200 * 1024;
const RANDOM_SIZE: usize = 1024 * 1024;

fn main() {
    let measuring = std::env::args().any(|a| a == "--bench");
    let _known = gatecheck::secret::from_input("bench", CREDENTIAL).unwrap();
    let _second = gatecheck::secret::from_input("bench", SECOND_CREDENTIAL).unwrap();
    let texts = [
        ("ASCII log lines", "2026-12-06T10:00:00Z level=info msg=\"request served\" path=/api/v1/items/1234 status=200 duration_ms=12.5\n"),
        ("CJK text (every character wide)", "東京都の天気は晴れです。リクエストは正常に処理されました。\n"),
        ("mixed: JSON with escapes and CJK", "{\"msg\":\"\\u00e9t\\u00e9 \\u6771\\u4eac\",\"who\":\"Grüße aus Köln\",\"n\":[1,2,3]}\n"),
    ];
    let runs = if measuring { 15 } else { 1 };
    for (name, line) in texts {
        let mut text = line.repeat(SIZE / line.len() + 1);
        // One echo of the credential in the middle: the scrub must find it.
        text.insert_str(text.len() / 2 - text.len() / 2 % line.len(), &format!("token={CREDENTIAL}\n"));
        let scrubbed = gatecheck::secret::scrub(&text);
        assert!(!scrubbed.contains(CREDENTIAL), "{name}: the credential is masked");
        let whole = median(runs, || {
            std::hint::black_box(gatecheck::secret::scrub(&text));
        });
        let narrowed = gatecheck::secret::narrowed(&text);
        let narrowing = median(runs, || {
            std::hint::black_box(gatecheck::secret::narrowed(&text));
        });
        // The narrowed texts read as any text is: an upper bound of what reading them adds
        // (each is scrubbed whole, its own narrowing included).
        let reading = median(runs, || {
            for one in &narrowed {
                std::hint::black_box(gatecheck::secret::scrub(&one.text));
            }
        });
        if measuring {
            let share = (narrowing + reading).as_secs_f64() / whole.as_secs_f64();
            println!(
                "{name}, {} KB: scrub {:.1} ms; finding wide characters {:.1} ms; reading {} narrowed text(s) at most {:.1} ms \
                 ({:.0}% of the scrub at most)",
                text.len() / 1024,
                ms(whole),
                ms(narrowing),
                narrowed.len(),
                ms(reading),
                100.0 * share
            );
        }
    }
    // Random letters and digits: no reading but the plain one starts anywhere, yet every
    // position is a candidate start of some form's piece.
    let mut text = random_alphanumeric(RANDOM_SIZE);
    text.insert_str(text.len() / 2, &format!(" {CREDENTIAL} "));
    assert!(!gatecheck::secret::scrub(&text).contains(CREDENTIAL), "random text: the credential is masked");
    let random = median(if measuring { 3 } else { 1 }, || {
        std::hint::black_box(gatecheck::secret::scrub(&text));
    });
    if measuring {
        println!(
            "random letters and digits, {} KB, two credentials known: scrub {:.1} ms",
            text.len() / 1024,
            ms(random)
        );
    }
    // Many short texts, each scrubbed on its own: the label names and values of a Prometheus
    // answer of many series (finding round34-text/01: ~45 µs a label in debug, whatever its
    // length), beside one scrub of the same bytes as one text, so the fixed cost per call shows.
    let count = if measuring { 100_000 } else { 1_000 };
    let short: Vec<String> =
        (0..count).map(|i| if i % 2 == 0 { format!("l{}", i % 20) } else { format!("v{i}") }).collect();
    let mut with_echo = short.clone();
    with_echo.push(CREDENTIAL.to_string());
    assert!(
        with_echo.iter().any(|text| gatecheck::secret::scrub(text) == "***"),
        "many short texts: the credential is masked"
    );
    let each = median(if measuring { 3 } else { 1 }, || {
        for text in &short {
            std::hint::black_box(gatecheck::secret::scrub(text));
        }
    });
    let joined = short.join(" ");
    let whole = median(if measuring { 3 } else { 1 }, || {
        std::hint::black_box(gatecheck::secret::scrub(&joined));
    });
    if measuring {
        println!(
            "{count} short texts ({} KB), two credentials known: scrubbed one by one {:.1} ms ({:.2} µs a text); \
             as one text {:.1} ms",
            joined.len() / 1024,
            ms(each),
            each.as_secs_f64() * 1e6 / count as f64,
            ms(whole)
        );
    }
    if !measuring {
        println!("scrub bench: smoke run ok (use `cargo bench --bench scrub` for timings)");
    }
}

/// `length` letters and digits from a fixed xorshift sequence (the same text every run).
fn random_alphanumeric(length: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..length)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            char::from(ALPHABET[(state % ALPHABET.len() as u64) as usize])
        })
        .collect()
}

fn median(runs: usize, mut body: impl FnMut()) -> Duration {
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            body();
            start.elapsed()
        })
        .collect();
    times.sort();
    times[times.len() / 2]
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}
