//! The demo chat page (`scripts/run` without a bot token) in a real browser:
//! Debian's Chromium, headless, driven through ChromeDriver. Behind the page: the
//! demo's routes over the fake Telegram server, the real bot and a transcription
//! worker in this process, real PostgreSQL, Redis and S3, and the fake OpenAI.
//!
//! The walk: press Start and read the welcome, send a voice note through the file
//! picker and read its transcript, press the transcript's ".srt" button and download
//! the document it brings, record a voice message from Chromium's fake microphone
//! (MediaRecorder, WebM/Opus) and read its transcript, switch the language and ask
//! for /help. The page is photographed into `docs/screenshots/demo.png`
//! (README, "Without Docker").
//!
//! Needs `chromium` and `chromium-driver` (`scripts/test` installs them).

// Tests fail by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::{path::Path, time::Duration};

use fantoccini::{Client, Locator};
use serde_json::{Value, json};
use support::browser::{self, Browser};
use support::spawn_bot_with;
use testkit::demo::{self, DemoChat, DemoUser};
use testkit::fake_openai::FakeOpenAi;

const TELEGRAM_ID: i64 = 7101;
const WAIT: Duration = Duration::from_secs(30);

/// Chromium under ChromeDriver, stopped when dropped.
async fn browser() -> Browser {
    browser::launch(&[
        "--window-size=480,900".to_owned(),
        // A microphone that plays a beep, allowed without asking.
        "--use-fake-device-for-media-stream".to_owned(),
        "--use-fake-ui-for-media-stream".to_owned(),
    ])
    .await
}

async fn js(client: &Client, script: &str) -> Value {
    client.execute(script, vec![]).await.unwrap_or_else(|err| panic!("{script}: {err}"))
}

/// Waits until `script` returns something truthy and answers it.
async fn until(client: &Client, what: &str, script: &str) -> Value {
    let started = tokio::time::Instant::now();
    loop {
        let value = js(client, script).await;
        if !(value.is_null() || value == json!(false) || value == json!("")) {
            return value;
        }
        let page = js(client, "return document.body.innerText").await;
        assert!(started.elapsed() < WAIT, "waited {WAIT:?} for {what}; the page: {page}");
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
}

async fn click(client: &Client, css: &str) {
    let element = client.wait().at_most(WAIT).for_element(Locator::Css(css)).await.unwrap_or_else(|err| {
        panic!("no {css}: {err}");
    });
    element.click().await.unwrap_or_else(|err| panic!("clicking {css}: {err}"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_person_talks_to_the_bot_on_the_demo_page() {
    let openai = FakeOpenAi::start().await.unwrap();
    let base = openai.base_url();
    let bot = spawn_bot_with(move |_| {
        vec![("STT_BASE_URL".to_owned(), base.clone()), ("IMAGE_BASE_URL".to_owned(), base.clone())]
    })
    .await;
    tokio::spawn(support::transcription_worker(&bot, 2));
    let user = DemoUser { id: TELEGRAM_ID, first_name: "Анна".to_owned(), language: "ru".to_owned() };
    let chat = DemoChat::new(bot.telegram.clone(), user, Some(format!("http://{}", bot.http)));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let page = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, demo::router(chat)).await.unwrap() });

    let browser = browser().await;
    let client = &browser.client;
    client.goto(&format!("{page}/demo")).await.unwrap();
    // The page says plainly what is fake.
    until(client, "the notice", "return document.getElementById('notice').innerText.includes('поддельные')")
        .await;

    // A new chat: Telegram's Start button sends /start; the welcome comes back.
    click(client, "#start").await;
    until(
        client,
        "the welcome",
        "return [...document.querySelectorAll('.msg.bot')].some(m => m.innerText.includes('Здравствуйте, Анна!'))",
    )
    .await;
    let own = js(client, "return document.querySelector('.msg.user').innerText").await;
    assert_eq!(own, json!("/start"), "the person's own message is shown");

    // A voice note from the file picker: sent as Telegram sends an audio file, transcribed
    // by the worker, and what the (fake) recogniser heard comes back.
    let folder = std::env::temp_dir().join(format!("demo-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&folder).unwrap();
    let voice = folder.join("voice.ogg");
    std::fs::write(&voice, testkit::audio::voice_note(8)).unwrap();
    client.find(Locator::Css("#file")).await.unwrap().send_keys(voice.to_str().unwrap()).await.unwrap();
    until(client, "the sent recording", "return document.querySelector('.msg.user.audio audio') !== null")
        .await;
    let transcript = until(
        client,
        "the transcript",
        r"const m = [...document.querySelectorAll('.msg.bot')].find(m => /\b[0-9a-f]{8}-0\b/.test(m.innerText));
          return m ? m.innerText : null",
    )
    .await;
    let _ = std::fs::remove_dir_all(&folder);
    let heard = openai.transcription_requests();
    assert!(!heard.is_empty(), "the worker asked the recogniser");
    for request in &heard {
        let hash = &request.audio.as_ref().expect("audio the fake could read").hash;
        assert!(transcript.as_str().unwrap().contains(&format!("{hash}-0")), "{transcript} lacks {hash}");
    }

    // The transcript's ".srt" button: a callback query, answered with a document.
    click(client, ".msg.bot button[data-callback$=':srt']").await;
    let href = until(
        client,
        "the .srt document",
        "const a = [...document.querySelectorAll('.msg.bot a.document')].find(a => a.innerText.includes('.srt'));
         return a ? a.href : null",
    )
    .await;
    let srt = reqwest::get(href.as_str().unwrap()).await.unwrap().text().await.unwrap();
    assert!(srt.contains(" --> "), "subtitles: {srt}");
    assert!(!bot.telegram.callback_answers().is_empty(), "the bot answered the button press");

    // The screenshot for the README: the conversation so far.
    js(client, "document.getElementById('chat').scrollTop = 1e9").await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    let png = client.screenshot().await.unwrap();
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/screenshots");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join("demo.png"), png).unwrap();

    // A voice message from the microphone: MediaRecorder's recording is sent as a voice
    // note, and the worker transcribes it too.
    let transcripts = "[...document.querySelectorAll('.msg.bot')].filter(m => /\\b[0-9a-f]{8}-0\\b/.test(m.innerText)).length";
    click(client, "#record").await;
    until(
        client,
        "the recording",
        "return document.getElementById('record').classList.contains('recording')",
    )
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    click(client, "#record").await;
    until(client, "the voice message", "return document.querySelector('.msg.user.voice audio') !== null")
        .await;
    until(client, "the voice message's transcript", &format!("return {transcripts} >= 2")).await;

    // The language button switches the page's words and the language the client reports.
    click(client, "#language").await;
    until(
        client,
        "English words",
        "return document.getElementById('text').placeholder.startsWith('Message')",
    )
    .await;
    client.find(Locator::Css("#text")).await.unwrap().send_keys("/help\u{E007}").await.unwrap();
    until(
        client,
        "the answer to /help",
        "const all = [...document.querySelectorAll('#chat .msg')];
         const sent = all.findIndex(m => m.classList.contains('user') && m.innerText.trim() === '/help');
         return sent >= 0 && all.slice(sent + 1).some(m => m.classList.contains('bot'))",
    )
    .await;
}
