//! The demo chat's routes over the fake Telegram server, with this test playing the
//! bot through the Bot API: what the page sends arrives as Telegram updates, and what
//! the bot sends comes back to the page in order, with its keyboard and files.

// Tests fail by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Value, json};
use testkit::demo::{self, DemoChat, DemoUser};
use testkit::fake_telegram::FakeTelegram;

struct Demo {
    telegram: FakeTelegram,
    page: String,
    http: reqwest::Client,
}

async fn demo() -> Demo {
    let telegram = FakeTelegram::start().await;
    let user = DemoUser { id: 501, first_name: "Анна".to_owned(), language: "ru".to_owned() };
    let chat = DemoChat::new(telegram.clone(), user, None);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let page = format!("http://{}/demo", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, demo::router(chat)).await.unwrap() });
    Demo { telegram, page, http: reqwest::Client::new() }
}

impl Demo {
    /// A Bot API call as the bot makes it.
    async fn bot(&self, method: &str, body: reqwest::multipart::Form) -> Value {
        let url = format!("{}bot{}/{method}", self.telegram.api_url(), self.telegram.token());
        let answer: Value = self.http.post(url).multipart(body).send().await.unwrap().json().await.unwrap();
        assert_eq!(answer["ok"], json!(true), "{method}: {answer}");
        answer["result"].clone()
    }

    async fn updates(&self) -> Vec<Value> {
        let url = format!("{}bot{}/getUpdates", self.telegram.api_url(), self.telegram.token());
        let answer: Value =
            self.http.post(url).json(&json!({ "timeout": 0 })).send().await.unwrap().json().await.unwrap();
        answer["result"].as_array().unwrap().clone()
    }

    async fn post(&self, path: &str, body: &Value) -> reqwest::Response {
        self.http.post(format!("{}/api/{path}", self.page)).json(body).send().await.unwrap()
    }

    async fn media(
        &self,
        kind: &str,
        bytes: Vec<u8>,
        name: &str,
        mime: &str,
        caption: Option<&str>,
    ) -> Value {
        let mut part = reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned());
        if !mime.is_empty() {
            part = part.mime_str(mime).unwrap();
        }
        let mut form = reqwest::multipart::Form::new().text("kind", kind.to_owned()).part("file", part);
        if let Some(caption) = caption {
            form = form.text("caption", caption.to_owned());
        }
        let answer = self.http.post(format!("{}/api/media", self.page)).multipart(form).send().await.unwrap();
        assert!(answer.status().is_success(), "{}", answer.text().await.unwrap());
        answer.json().await.unwrap()
    }

    async fn chat(&self) -> Value {
        self.http.get(format!("{}/api/chat", self.page)).send().await.unwrap().json().await.unwrap()
    }
}

#[tokio::test]
async fn the_page_and_its_assets_are_served() {
    let demo = demo().await;
    let page = demo.http.get(&demo.page).send().await.unwrap().text().await.unwrap();
    assert!(page.contains(r#"<main id="chat""#) && page.contains("/demo/assets/demo.js"), "{page}");
    let script = demo.http.get(format!("{}/assets/demo.js", demo.page)).send().await.unwrap();
    assert_eq!(script.headers()["content-type"], "text/javascript; charset=utf-8");
    let sample =
        demo.http.get(format!("{}/sample.wav", demo.page)).send().await.unwrap().bytes().await.unwrap();
    let probed = testkit::fake_openai::probe_audio(&sample).expect("a WAV");
    assert!((probed.duration_s - 7.0).abs() < 0.01, "{probed:?}");
    // Without a bot to forward to, other paths are not found.
    let other = demo.http.get(demo.page.replace("/demo", "/ready")).send().await.unwrap();
    assert_eq!(other.status(), 404);
}

#[tokio::test]
async fn what_the_person_sends_reaches_the_bot_as_telegram_updates() {
    let demo = demo().await;
    assert!(demo.post("text", &json!({ "text": "/start" })).await.status().is_success());
    let photo = testkit::fake_openai::solid_png(64, [200, 30, 30]);
    demo.media("file", photo, "cat.png", "image/png", Some("make it blue")).await;
    demo.media("file", testkit::audio::tone_wav(7, 330.0), "talk.wav", "audio/wav", None).await;
    demo.media("voice", testkit::audio::tone_wav(3, 330.0), "voice.wav", "", None).await;
    demo.media("file", b"minutes of the meeting".to_vec(), "notes.txt", "text/plain", Some("fyi")).await;

    let updates = demo.updates().await;
    let messages: Vec<&Value> = updates.iter().map(|u| &u["message"]).collect();
    assert_eq!(messages.len(), 5, "{updates:?}");
    assert_eq!(messages[0]["text"], "/start");
    assert_eq!(messages[0]["entities"][0]["type"], "bot_command");
    assert_eq!(messages[0]["from"]["language_code"], "ru");
    assert_eq!(messages[1]["caption"], "make it blue");
    assert_eq!(messages[1]["photo"].as_array().unwrap().last().unwrap()["width"], 64);
    assert_eq!(messages[2]["audio"]["file_name"], "talk.wav");
    assert_eq!(messages[2]["audio"]["duration"], 7, "measured from the file, as a client does");
    assert_eq!(messages[3]["voice"]["duration"], 3);
    assert_eq!(messages[3]["voice"]["mime_type"], "audio/wav", "sniffed when the browser gives no type");
    assert_eq!(messages[4]["document"]["file_name"], "notes.txt");
    assert_eq!(messages[4]["caption"], "fyi");

    // The language button: later updates carry the client's new language.
    assert!(demo.post("language", &json!({ "language": "en" })).await.status().is_success());
    assert_eq!(demo.post("language", &json!({ "language": "de" })).await.status(), 400);
    demo.post("text", &json!({ "text": "hello" })).await;
    let updates = demo.updates().await;
    assert_eq!(updates.last().unwrap()["message"]["from"]["language_code"], "en");
    assert_eq!(demo.chat().await["user"]["language"], "en");
    assert_eq!(demo.post("text", &json!({ "text": "  " })).await.status(), 400);
}

#[tokio::test]
async fn the_bots_messages_come_back_in_order_with_keyboards_and_files() {
    let demo = demo().await;
    demo.post("text", &json!({ "text": "/start" })).await;
    let chat_id = demo.chat().await["user"]["id"].to_string();
    let keyboard = json!({ "inline_keyboard": [[{ "text": "Get .srt", "callback_data": "tf:1:srt" }],
                                                [{ "text": "Site", "url": "https://example.org/" }]] });
    let sent = demo
        .bot(
            "sendMessage",
            reqwest::multipart::Form::new()
                .text("chat_id", chat_id.clone())
                .text("text", "<b>Done</b>: 0:08")
                .text("parse_mode", "HTML")
                .text("reply_markup", keyboard.to_string()),
        )
        .await;
    let document = reqwest::multipart::Part::bytes(b"1\n00:00:00,000 --> 00:00:05,000\nhi\n".to_vec())
        .file_name("transcript.srt")
        .mime_str("application/x-subrip")
        .unwrap();
    demo.bot(
        "sendDocument",
        reqwest::multipart::Form::new().text("chat_id", chat_id.clone()).part("document", document),
    )
    .await;
    let gone = demo
        .bot(
            "sendMessage",
            reqwest::multipart::Form::new().text("chat_id", chat_id.clone()).text("text", "status"),
        )
        .await;
    demo.bot(
        "deleteMessage",
        reqwest::multipart::Form::new()
            .text("chat_id", chat_id)
            .text("message_id", gone["message_id"].to_string()),
    )
    .await;

    let chat = demo.chat().await;
    let messages = chat["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 3, "the deleted one is gone: {messages:?}");
    assert_eq!((&messages[0]["from"], &messages[0]["text"]), (&json!("user"), &json!("/start")));
    let reply = &messages[1];
    assert_eq!(reply["text"], "Done: 0:08", "plain text, as Telegram stores it");
    assert_eq!(reply["entities"][0], json!({ "type": "bold", "offset": 0, "length": 4 }));
    assert_eq!(reply["keyboard"][0][0], json!({ "text": "Get .srt", "data": "tf:1:srt" }));
    assert_eq!(reply["keyboard"][1][0], json!({ "text": "Site", "url": "https://example.org/" }));
    let file = &messages[2]["file"];
    assert_eq!((&messages[2]["kind"], &file["name"]), (&json!("document"), &json!("transcript.srt")));
    let url = format!("{}/api/files/{}", demo.page, file["id"].as_str().unwrap());
    let download = demo.http.get(url).send().await.unwrap();
    assert_eq!(download.headers()["content-disposition"], "inline; filename=\"transcript.srt\"");
    assert!(download.text().await.unwrap().contains(" --> "));

    // Pressing a button is a callback query on that message; a button it lacks is refused.
    let message_id = sent["message_id"].clone();
    let pressed = demo.post("press", &json!({ "message_id": message_id, "data": "tf:1:srt" })).await;
    assert!(pressed.status().is_success());
    let updates = demo.updates().await;
    let query = &updates.last().unwrap()["callback_query"];
    assert_eq!((&query["data"], &query["message"]["message_id"]), (&json!("tf:1:srt"), &message_id));
    let refused = demo.post("press", &json!({ "message_id": message_id, "data": "nope" })).await;
    assert_eq!(refused.status(), 400);
}
