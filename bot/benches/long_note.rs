//! The long-recording benchmark: a 60-minute voice note through the whole path, from the
//! user's message to the last message of the transcript, with the speech provider answering
//! in `1 s + 2.5 s per audio minute` per request and 16 requests allowed at once.
//!
//! Real bot, worker, PostgreSQL, Redis and S3 (the test environment's `TEST_*` variables), the
//! fake Telegram and the fake OpenAI. The note is `audio/bench/make-voice-note.sh`'s output,
//! made once and kept in the system's temporary folder (or given as the first argument).
//! Prints one JSON line per run and one with the median:
//!
//! ```sh
//! cargo bench -p bot --bench long_note [-- FILE.opus [RUNS]]
//! ```
//!
//! With `BENCH_TRACE=1` the bot's and the worker's log lines (JSON, with times) go to stdout, filtered
//! by `RUST_LOG` (`RUST_LOG=warn,worker=debug,bot=info` shows the worker's steps).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

#[path = "../tests/support/mod.rs"]
mod support;

use std::{
    path::PathBuf,
    time::{Duration, Instant},
};

use shared::{billing::ledger::BonusReason, billing::money::Credits, ids::TelegramUserId, people::users};
use testkit::fake_openai::{Endpoint, FakeOpenAi};

/// Requests the provider takes at once.
const LANES: usize = 16;

fn voice_note(given: Option<String>) -> PathBuf {
    if let Some(path) = given {
        return PathBuf::from(path);
    }
    let path = std::env::temp_dir().join("tgbot-bench-voice-60min.opus");
    if !path.exists() {
        eprintln!("making {} (about 75 s, once)", path.display());
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../audio/bench/make-voice-note.sh");
        let status = std::process::Command::new("sh").arg(script).arg(&path).status().expect("sh runs");
        assert!(status.success(), "make-voice-note.sh failed");
    }
    path
}

fn main() {
    if std::env::var_os("BENCH_TRACE").is_some() {
        shared::platform::telemetry::init(shared::platform::telemetry::LogFormat::Json);
    }
    let mut args = std::env::args().skip(1).filter(|a| a != "--bench");
    let note = std::fs::read(voice_note(args.next())).expect("the voice note is readable");
    let runs: usize = args.next().and_then(|r| r.parse().ok()).unwrap_or(3);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(bench(note, runs));
}

async fn bench(note: Vec<u8>, runs: usize) {
    let openai = FakeOpenAi::start().await.unwrap();
    openai.set_audio_pace(Duration::from_secs(1), Duration::from_millis(2500));
    openai.limit_concurrency(Endpoint::Transcriptions, LANES);
    // As long as an hour of speech: about 9,000 words, so it comes as a file like a real one.
    openai.speak_words_per_segment(12);
    let stt = openai.base_url();
    let lanes = LANES.to_string();
    let bot = support::spawn_bot_with(move |_| {
        vec![
            ("STT_BASE_URL".into(), stt),
            ("STT_CONCURRENCY".into(), lanes),
            ("LOG_FORMAT".into(), "json".into()),
        ]
    })
    .await;
    let worker = tokio::spawn({
        let transcribing = support::transcription_worker(&bot, 1);
        let sweeping = support::maintenance(&bot);
        async move {
            tokio::join!(transcribing, sweeping);
        }
    });

    let mut seconds = Vec::new();
    for run in 0..runs {
        let id = 7_000 + i64::try_from(run).unwrap();
        let user = bot.telegram.user(id, "Bench", Some("ru"));
        user.send_command("/start").unwrap();
        user.wait_for_messages(1, Duration::from_secs(10)).await.unwrap();
        let stored = users::find_by_telegram_id(&bot.db.db, TelegramUserId(id)).await.unwrap().unwrap();
        bot.state
            .ledger
            .grant_bonus(&bot.db.db, stored.id, Credits::whole(2_000), &BonusReason::Welcome)
            .await
            .unwrap();
        let before = user.messages().len();
        let requests_before = openai.transcription_requests().len();
        let file = bot.telegram.register_file(note.clone(), "audio/ogg", Some(3600));

        let sent = Instant::now();
        user.send_voice(&file).unwrap();
        let footer = bot
            .telegram
            .wait_until("the transcript's footer", Duration::from_secs(300), |t| {
                t.messages(id)[before..]
                    .iter()
                    .find_map(|m| m.body().filter(|b| b.contains("Длительность")).map(str::to_owned))
            })
            .await
            .unwrap();
        let took = sent.elapsed().as_secs_f64();

        let requests: Vec<_> = openai.transcription_requests().into_iter().skip(requests_before).collect();
        let minutes: Vec<f64> =
            requests.iter().filter_map(|r| r.audio.as_ref()).map(|a| a.duration_s / 60.0).collect();
        let longest = minutes.iter().copied().fold(0.0, f64::max);
        let shortest = minutes.iter().copied().fold(f64::INFINITY, f64::min);
        let refused = requests.iter().filter(|r| r.status == 429).count();
        // Where the time went: before the provider heard the first chunk, and after the last answer.
        let after =
            |at: Instant| (at.saturating_duration_since(sent).as_secs_f64() * 1000.0).round() / 1000.0;
        let first_request = requests.iter().map(|r| r.arrived).min().map(after);
        let last_answer = requests.iter().map(|r| r.answered).max().map(after);
        if std::env::var_os("BENCH_TRACE").is_some() {
            // Every Bot API call of the run, with when it arrived.
            let calls: Vec<(String, f64)> = bot
                .telegram
                .all_calls()
                .into_iter()
                .filter(|c| c.arrived >= sent)
                .map(|c| (c.method.clone(), after(c.arrived)))
                .collect();
            println!("{}", serde_json::json!({ "bench": "long_note_calls", "run": run, "calls": calls }));
        }
        println!(
            "{}",
            serde_json::json!({
                "bench": "long_note",
                "run": run,
                "seconds_to_transcript": (took * 1000.0).round() / 1000.0,
                "requests": requests.len(),
                "refused_429": refused,
                "peak_in_flight": openai.peak_concurrency(Endpoint::Transcriptions),
                "first_request_after_s": first_request,
                "last_answer_after_s": last_answer,
                "chunk_minutes_longest": (longest * 100.0).round() / 100.0,
                "chunk_minutes_shortest": (shortest * 100.0).round() / 100.0,
                "footer": footer,
            })
        );
        seconds.push(took);
    }
    seconds.sort_by(f64::total_cmp);
    let median = seconds[seconds.len() / 2];
    println!(
        "{}",
        serde_json::json!({
            "bench": "long_note",
            "runs": runs,
            "median_seconds_to_transcript": (median * 1000.0).round() / 1000.0,
            "provider": "1 s + 2.5 s per audio minute, 16 at once",
        })
    );
    worker.abort();
    bot.stop().await.unwrap();
}
