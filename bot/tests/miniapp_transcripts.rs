//! The Mini App's transcripts on the real bot, Postgres and S3: the caller's
//! list pages newest first, full-text search finds Russian and English words
//! in the caller's own transcripts only, one transcript shows its segments and
//! links that download its files, and another user's transcript is a 404.

// Tests fail by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde_json::{Value, json};
use shared::{
    ids::{JobId, UserId},
    media::transcripts::{self, StoredTranscript},
};
use storage::{ObjectKey, ObjectName};
use support::{TestBot, spawn_bot};
use uuid::Uuid;

const SECRET: &str = "a-mini-app-session-secret-of-32-bytes-or-more";

async fn bot() -> TestBot {
    spawn_bot(&[("MINIAPP_JWT_SECRET", SECRET), ("WELCOME_BONUS_CREDITS", "0")]).await
}

/// A signed-in Telegram user: the session token and the user id.
struct Caller {
    token: String,
    id: UserId,
}

async fn sign_in(bot: &TestBot, telegram_id: i64) -> Caller {
    let body = support::miniapp_sign_in(bot, telegram_id, "ru").await;
    Caller {
        token: body["token"].as_str().unwrap_or_default().to_owned(),
        id: UserId(body["user"]["id"].as_i64().unwrap_or_default()),
    }
}

/// What a stored transcript is made of.
struct Recording<'a> {
    segments: &'a [(u64, u64, &'a str)],
    minutes_ago: i64,
    with_audio: bool,
}

impl Default for Recording<'_> {
    fn default() -> Self {
        Self { segments: &[(0, 1500, "Проверка связи")], minutes_ago: 0, with_audio: true }
    }
}

fn stamp(ms: u64) -> String {
    format!("{:02}:{:02}:{:02},{:03}", ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000)
}

/// Stores a finished transcription as the worker does: a job, its files in
/// object storage, the transcript row; recorded `minutes_ago`.
async fn transcript(bot: &TestBot, user: UserId, recording: Recording<'_>) -> JobId {
    let (db, store) = (&bot.state.db, &bot.state.store);
    let job = JobId(Uuid::new_v4());
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "INSERT INTO jobs (id, user_id, kind, status, chat_id) VALUES ($1, $2, 'transcribe', 'succeeded', 1)",
        [job.into(), user.into()],
    ))
    .await
    .unwrap();
    let txt: String = recording.segments.iter().map(|(_, _, text)| format!("{text}\n")).collect();
    let srt: String = recording
        .segments
        .iter()
        .enumerate()
        .map(|(i, (start, end, text))| {
            format!("{}\n{} --> {}\n{text}\n\n", i + 1, stamp(*start), stamp(*end))
        })
        .collect();
    let vtt = format!("WEBVTT\n\n{}", srt.replace(',', "."));
    let mut keys = Vec::new();
    for (name, body) in [
        ("transcript.txt", txt.clone()),
        ("transcript.srt", srt),
        ("transcript.vtt", vtt),
        ("original", format!("audio of {}", job.0)),
    ] {
        let key = ObjectKey::new(user.0, job.0, &ObjectName::parse(name).unwrap());
        store.put(&key, body.into(), "application/octet-stream").await.unwrap();
        keys.push(key.as_str().to_owned());
    }
    transcripts::record(
        db,
        &StoredTranscript {
            job_id: job,
            user_id: user,
            file_unique_id: None,
            duration_ms: i64::try_from(recording.segments.last().map_or(0, |s| s.1)).unwrap(),
            language: Some("ru".into()),
            audio_key: recording.with_audio.then(|| keys[3].clone()),
            txt_key: keys[0].clone(),
            srt_key: keys[1].clone(),
            vtt_key: recording.with_audio.then(|| keys[2].clone()),
            metadata: json!({}),
            text: txt,
        },
    )
    .await
    .unwrap();
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "UPDATE transcripts SET created_at = date_trunc('minute', now()) - make_interval(mins => $2::INT) \
         WHERE job_id = $1",
        [job.into(), i32::try_from(recording.minutes_ago).unwrap().into()],
    ))
    .await
    .unwrap();
    job
}

async fn get(bot: &TestBot, caller: &Caller, path_and_query: &str) -> (u16, Value) {
    let response = reqwest::Client::new()
        .get(format!("http://{}{path_and_query}", bot.http))
        .bearer_auth(&caller.token)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

fn job_ids(page: &Value) -> Vec<String> {
    page["items"].as_array().unwrap().iter().map(|item| item["job_id"].as_str().unwrap().to_owned()).collect()
}

fn id(job: JobId) -> String {
    job.0.to_string()
}

#[tokio::test]
async fn the_list_is_newest_first_and_pages_without_repeats_or_gaps() {
    let bot = bot().await;
    let (anna, boris) = (sign_in(&bot, 7001).await, sign_in(&bot, 7002).await);
    let mut made = Vec::new();
    // Two recorded in the same minute: the job id orders them, and paging must not lose one.
    for minutes_ago in [50, 40, 30, 30, 10] {
        made.push((
            minutes_ago,
            transcript(&bot, anna.id, Recording { minutes_ago, ..Recording::default() }).await,
        ));
    }
    let others = transcript(&bot, boris.id, Recording::default()).await;
    made.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.0.cmp(&a.1.0)));
    let newest_first: Vec<String> = made.iter().map(|(_, job)| id(*job)).collect();

    let (status, everything) = get(&bot, &anna, "/api/transcripts").await;
    assert_eq!(status, 200, "{everything}");
    assert_eq!(job_ids(&everything), newest_first);
    assert_eq!(everything["next"], Value::Null);
    let first = &everything["items"][0];
    assert_eq!(first["preview"], "Проверка связи");
    assert_eq!(first["duration_seconds"], 1.5);
    assert_eq!(first["language"], "ru");
    assert!(first["created_at"].as_str().unwrap().parse::<chrono::DateTime<chrono::Utc>>().is_ok());

    let mut paged = Vec::new();
    let mut path = "/api/transcripts?limit=2".to_owned();
    for _ in 0..3 {
        let (status, page) = get(&bot, &anna, &path).await;
        assert_eq!(status, 200, "{page}");
        assert!(job_ids(&page).len() <= 2);
        paged.extend(job_ids(&page));
        match page["next"].as_str() {
            Some(next) => path = format!("/api/transcripts?limit=2&before={next}"),
            None => break,
        }
    }
    assert_eq!(paged, newest_first);
    assert!(!paged.contains(&id(others)));

    let (status, body) = get(&bot, &anna, "/api/transcripts?before=not-a-cursor").await;
    assert_eq!((status, body["error"].as_str()), (400, Some("bad_cursor")));
    let (status, _) = get(&bot, &anna, "/api/transcripts?limit=many").await;
    assert_eq!(status, 400);
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn search_finds_russian_and_english_words_in_the_callers_own_transcripts() {
    let bot = bot().await;
    let (anna, boris) = (sign_in(&bot, 7101).await, sign_in(&bot, 7102).await);
    let russian = transcript(
        &bot,
        anna.id,
        Recording {
            segments: &[(0, 4000, "Мы обсуждали бюджет на следующий квартал")],
            ..Recording::default()
        },
    )
    .await;
    let english = transcript(
        &bot,
        anna.id,
        Recording {
            segments: &[(0, 2000, "Привет всем."), (2000, 5000, "The meetings were about the new release")],
            ..Recording::default()
        },
    )
    .await;
    // Boris said the same words: none of it may show up for Anna.
    let borises = transcript(
        &bot,
        boris.id,
        Recording { segments: &[(0, 3000, "бюджет meetings релиз")], ..Recording::default() },
    )
    .await;

    // Inflected forms find the stem in either language.
    for (words, expected) in [
        ("бюджета", vec![id(russian)]),
        ("обсуждаем", vec![id(russian)]),
        ("meeting", vec![id(english)]),
        ("\"new release\"", vec![id(english)]),
        ("бюджет or release", vec![id(english), id(russian)]),
        ("релиз", vec![]),
        ("бюджетом -следующего", vec![]),
    ] {
        let query = url::form_urlencoded::Serializer::new(String::new()).append_pair("q", words).finish();
        let (status, page) = get(&bot, &anna, &format!("/api/transcripts?{query}")).await;
        assert_eq!(status, 200, "{page}");
        let mut found = job_ids(&page);
        let mut expected = expected;
        found.sort();
        expected.sort();
        assert_eq!(found, expected, "q={words}");
    }
    let (_, page) = get(&bot, &anna, "/api/transcripts?q=meetings").await;
    assert_eq!(page["items"][0]["preview"], "Привет всем. The meetings were about the new release");

    let (_, page) = get(&bot, &boris, "/api/transcripts?q=meetings").await;
    assert_eq!(job_ids(&page), vec![id(borises)]);
    // An empty search is the plain list.
    let (_, page) = get(&bot, &anna, "/api/transcripts?q=%20").await;
    assert_eq!(job_ids(&page).len(), 2);
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn one_transcript_has_its_segments_and_links_that_download_its_files() {
    let bot = bot().await;
    let anna = sign_in(&bot, 7201).await;
    let job = transcript(
        &bot,
        anna.id,
        Recording {
            segments: &[(0, 2500, "Первая фраза"), (2500, 3_723_004, "Second line\nwith a break")],
            ..Recording::default()
        },
    )
    .await;

    let (status, body) = get(&bot, &anna, &format!("/api/transcripts/{}", id(job))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["job_id"], id(job));
    assert_eq!(body["duration_seconds"], 3723.004);
    assert_eq!(
        body["segments"],
        json!([
            { "start_seconds": 0.0, "end_seconds": 2.5, "text": "Первая фраза" },
            { "start_seconds": 2.5, "end_seconds": 3723.004, "text": "Second line\nwith a break" },
        ])
    );
    assert_eq!(body["downloads_expire_in"], 600);
    let downloads = body["downloads"].as_object().unwrap();
    let mut kinds: Vec<&str> = downloads.keys().map(String::as_str).collect();
    kinds.sort_unstable();
    assert_eq!(kinds, ["audio", "srt", "txt", "vtt"]);
    for (kind, name) in [
        ("txt", "transcript.txt"),
        ("srt", "transcript.srt"),
        ("vtt", "transcript.vtt"),
        ("audio", "original"),
    ] {
        let url = downloads[kind].as_str().unwrap();
        let downloaded = reqwest::get(url).await.unwrap();
        assert_eq!(downloaded.status(), 200, "{kind}");
        let key = ObjectKey::new(anna.id.0, job.0, &ObjectName::parse(name).unwrap());
        assert_eq!(downloaded.bytes().await.unwrap(), bot.state.store.get(&key).await.unwrap(), "{kind}");
    }
    let srt = reqwest::get(downloads["srt"].as_str().unwrap()).await.unwrap().text().await.unwrap();
    assert!(srt.starts_with("1\n00:00:00,000 --> 00:00:02,500\nПервая фраза\n"), "{srt}");

    // Without a stored recording or WebVTT file, only what is stored is offered.
    let bare = transcript(&bot, anna.id, Recording { with_audio: false, ..Recording::default() }).await;
    let (status, body) = get(&bot, &anna, &format!("/api/transcripts/{}", id(bare))).await;
    assert_eq!(status, 200, "{body}");
    let mut kinds: Vec<&str> = body["downloads"].as_object().unwrap().keys().map(String::as_str).collect();
    kinds.sort_unstable();
    assert_eq!(kinds, ["srt", "txt"]);
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn another_users_transcript_is_not_found_and_no_token_is_401() {
    let bot = bot().await;
    let (anna, boris) = (sign_in(&bot, 7301).await, sign_in(&bot, 7302).await);
    let annas = transcript(&bot, anna.id, Recording::default()).await;

    for path in [
        format!("/api/transcripts/{}", id(annas)),
        format!("/api/transcripts/{}", Uuid::new_v4()),
        "/api/transcripts/not-a-job-id".to_owned(),
    ] {
        let (status, body) = get(&bot, &boris, &path).await;
        assert_eq!((status, body["error"].as_str()), (404, Some("not_found")), "{path}");
    }
    // Neither Boris's list nor his search shows anything of Anna's.
    let (_, page) = get(&bot, &boris, "/api/transcripts?q=связи").await;
    assert_eq!(job_ids(&page), Vec::<String>::new());
    let (_, page) = get(&bot, &boris, "/api/transcripts").await;
    assert_eq!(job_ids(&page), Vec::<String>::new());
    let (status, _) = get(&bot, &anna, &format!("/api/transcripts/{}", id(annas))).await;
    assert_eq!(status, 200);

    let client = reqwest::Client::new();
    for path in ["/api/transcripts".to_owned(), format!("/api/transcripts/{}", id(annas))] {
        let answer = client.get(format!("http://{}{path}", bot.http)).send().await.unwrap();
        assert_eq!(answer.status(), 401, "{path}");
        let answer =
            client.get(format!("http://{}{path}", bot.http)).bearer_auth("not-a-token").send().await.unwrap();
        assert_eq!(answer.status(), 401, "{path}");
    }
    bot.stop().await.unwrap();
}
