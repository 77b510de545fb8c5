//! The Mini App page in a real browser: Debian's Chromium, headless, driven
//! through ChromeDriver, on a 360 px phone screen. The page is served by the
//! running bot; `window.Telegram.WebApp` is a stub injected before the page
//! loads, carrying init data signed for the test bot's token (the same string
//! a Telegram client hands a Mini App). Behind it: real PostgreSQL, Redis and
//! S3, the worker in this process, fake Telegram, OpenAI and YooKassa.
//!
//! The walk: sign in and see the balance, buy a package through YooKassa and
//! see the balance change, upload a 30 MB recording straight to storage and
//! see its job finish, read the transcript and download its .srt, find it by
//! full-text search, read the history, ask for an edit of a picture, switch
//! the language. Every view is photographed in the light and the dark theme
//! into `docs/screenshots/miniapp/` (README, "Mini App").
//!
//! Needs `chromium` and `chromium-driver` (`scripts/test` installs them).

// Tests fail by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    time::Duration,
};

use axum::{
    body::Body,
    extract::Request,
    http::{Method, StatusCode},
    response::Response,
};
use fantoccini::{Client, Locator, wd::WebDriverCompatibleCommand};
use serde_json::{Value, json};
use shared::ids::{TelegramUserId, UserId};
use support::browser::{self, Browser};
use support::{TestBot, spawn_bot_with};
use testkit::{fake_openai::FakeOpenAi, fake_yookassa::FakeYooKassa};

const SECRET: &str = "a-mini-app-session-secret-of-32-bytes-or-more";
const TELEGRAM_ID: i64 = 7001;
const WIDTH: u32 = 360;
const HEIGHT: u32 = 740;
const WAIT: Duration = Duration::from_secs(20);

/// Telegram's light and dark themes, as `themeParams` carries them.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Theme {
    Light,
    Dark,
}

impl Theme {
    fn name(self) -> &'static str {
        match self {
            Self::Light => "light",
            Self::Dark => "dark",
        }
    }

    fn params(self) -> Value {
        match self {
            Self::Light => json!({
                "bg_color": "#ffffff", "text_color": "#000000", "hint_color": "#999999",
                "link_color": "#2481cc", "button_color": "#2481cc", "button_text_color": "#ffffff",
                "secondary_bg_color": "#efeff3", "section_bg_color": "#ffffff",
            }),
            Self::Dark => json!({
                "bg_color": "#212121", "text_color": "#ffffff", "hint_color": "#aaaaaa",
                "link_color": "#8774e1", "button_color": "#8774e1", "button_text_color": "#ffffff",
                "secondary_bg_color": "#0f0f0f", "section_bg_color": "#212121",
            }),
        }
    }
}

/// A Chrome DevTools command through ChromeDriver's `goog/cdp/execute`.
#[derive(Debug)]
struct Cdp {
    command: &'static str,
    params: Value,
}

impl WebDriverCompatibleCommand for Cdp {
    fn endpoint(&self, base_url: &url::Url, session_id: Option<&str>) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!("session/{}/goog/cdp/execute", session_id.unwrap_or_default()))
    }

    fn method_and_body(&self, _: &url::Url) -> (Method, Option<String>) {
        (Method::POST, Some(json!({ "cmd": self.command, "params": self.params }).to_string()))
    }
}

/// Chromium under ChromeDriver, stopped when dropped.
/// A phone-sized headless Chromium whose pages find `Telegram.WebApp`
/// stubbed with `init_data` in `theme`.
async fn browser(init_data: &str, theme: Theme) -> Browser {
    let browser = browser::launch(&[
        format!("--window-size={WIDTH},{HEIGHT}"),
        // No network here: Telegram's script fails at once instead of timing out.
        "--host-resolver-rules=MAP telegram.org ~NOTFOUND".to_owned(),
    ])
    .await;
    cdp(
        &browser.client,
        "Emulation.setDeviceMetricsOverride",
        json!({ "width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 1, "mobile": true }),
    )
    .await;
    cdp(
        &browser.client,
        "Page.addScriptToEvaluateOnNewDocument",
        json!({ "source": stub(init_data, theme) }),
    )
    .await;
    browser
}

async fn cdp(client: &Client, command: &'static str, params: Value) -> Value {
    client.issue_cmd(Cdp { command, params }).await.unwrap_or_else(|err| panic!("{command}: {err}"))
}

/// `Telegram.WebApp` as a Telegram client provides it, recording what the
/// page asks of the client (links, invoices, buttons) in `window.__tg`.
fn stub(init_data: &str, theme: Theme) -> String {
    let user = json!({ "id": TELEGRAM_ID, "first_name": "Анна", "language_code": "ru" });
    let scheme = theme.name();
    format!(
        r"(() => {{
  const calls = {{ links: [], invoices: [], violations: [] }};
  const handlers = {{ main: [], back: [] }};
  const button = (name) => ({{
    isVisible: false, isActive: true, text: '',
    show() {{ this.isVisible = true; }}, hide() {{ this.isVisible = false; }},
    setText(text) {{ this.text = text; }}, enable() {{ this.isActive = true; }}, disable() {{ this.isActive = false; }},
    showProgress() {{}}, hideProgress() {{}},
    onClick(f) {{ handlers[name].push(f); }}, offClick(f) {{ handlers[name] = handlers[name].filter((g) => g !== f); }},
  }});
  window.__tg = {{ calls, press: (name) => handlers[name].slice().forEach((f) => f()), invoiceDone: null }};
  window.Telegram = {{ WebApp: {{
    initData: {init_data}, initDataUnsafe: {{ user: {user} }},
    version: '8.0', platform: 'android', colorScheme: '{scheme}', themeParams: {theme},
    ready() {{}}, expand() {{}}, onEvent() {{}}, offEvent() {{}},
    openLink(url) {{ calls.links.push(url); }},
    openInvoice(url, done) {{ calls.invoices.push(url); window.__tg.invoiceDone = done; }},
    BackButton: button('back'), MainButton: button('main'),
  }} }};
  document.addEventListener('securitypolicyviolation', (e) => calls.violations.push(e.violatedDirective + ' ' + e.blockedURI));
}})();",
        init_data = Value::String(init_data.to_owned()),
        theme = theme.params(),
    )
}

/// An S3 server's answer to the browser with the CORS headers an operator
/// configures on the bucket (s3s-fs has no CORS of its own): preflights are
/// answered here, everything else goes to the server unchanged, `Host`
/// included, so the presigned signatures still hold.
async fn cors_proxy(upstream: String) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let client = reqwest::Client::new();
    let app = axum::Router::new().fallback(move |request: Request| {
        let (client, upstream) = (client.clone(), upstream.clone());
        async move {
            let (parts, body) = request.into_parts();
            let cors = |builder: axum::http::response::Builder| {
                builder
                    .header("access-control-allow-origin", "*")
                    .header("access-control-allow-methods", "GET, PUT, HEAD")
                    .header("access-control-allow-headers", "*")
                    .header("access-control-expose-headers", "ETag")
            };
            if parts.method == Method::OPTIONS {
                return cors(Response::builder().status(StatusCode::NO_CONTENT)).body(Body::empty()).unwrap();
            }
            let body = axum::body::to_bytes(body, 64 << 20).await.unwrap();
            let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
            let mut forward = client.request(parts.method.clone(), format!("{upstream}{path}")).body(body);
            for (name, value) in &parts.headers {
                if !matches!(name.as_str(), "connection" | "content-length" | "transfer-encoding" | "origin")
                {
                    forward = forward.header(name, value);
                }
            }
            let answer = forward.send().await.unwrap();
            let mut response = cors(Response::builder().status(answer.status()));
            for (name, value) in answer.headers() {
                if !matches!(name.as_str(), "connection" | "transfer-encoding" | "content-length") {
                    response = response.header(name, value);
                }
            }
            response.body(Body::from(answer.bytes().await.unwrap())).unwrap()
        }
    });
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    address
}

async fn js(client: &Client, script: &str) -> Value {
    client.execute(script, vec![]).await.unwrap_or_else(|err| panic!("{script}: {err}"))
}

/// Waits until `script` returns something truthy and answers it.
async fn until(client: &Client, what: &str, timeout: Duration, script: &str) -> Value {
    let started = tokio::time::Instant::now();
    loop {
        let value = js(client, script).await;
        if !(value.is_null() || value == json!(false) || value == json!("") || value == json!(0)) {
            return value;
        }
        assert!(
            started.elapsed() < timeout,
            "waited {timeout:?} for {what}; the page: {}",
            page_text(client).await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn page_text(client: &Client) -> Value {
    js(client, "return document.body.innerText").await
}

async fn click(client: &Client, css: &str) {
    let element = match client.wait().at_most(WAIT).for_element(Locator::Css(css)).await {
        Ok(element) => element,
        Err(err) => panic!("no {css}: {err}; the page: {}", page_text(client).await),
    };
    element.click().await.unwrap_or_else(|err| panic!("clicking {css}: {err}"));
}

/// Goes to `view` from the home view.
async fn open_view(client: &Client, view: &str) {
    home(client).await;
    click(client, &format!("[data-go='{view}']")).await;
    until(
        client,
        view,
        WAIT,
        &format!("return document.querySelector(\"[data-view-name='{view}']\") !== null"),
    )
    .await;
}

/// Back to the home view with Telegram's back button.
async fn home(client: &Client) {
    for _ in 0..5 {
        if js(client, "return document.querySelector(\"[data-view-name='home']\") !== null").await
            == json!(true)
        {
            return;
        }
        js(client, "window.__tg.press('back')").await;
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    panic!("the back button does not lead home; the page: {}", page_text(client).await);
}

fn screenshots() -> PathBuf {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/screenshots/miniapp");
    std::fs::create_dir_all(&folder).unwrap();
    folder
}

/// Photographs the view and checks what every view must hold on a 360 px
/// phone: nothing wider than the screen, the theme's background, no content
/// the security policy blocked.
async fn photograph(client: &Client, name: &str, theme: Theme) {
    // Loading states settle; fonts and pictures arrive.
    tokio::time::sleep(Duration::from_millis(400)).await;
    let width = js(client, "return document.documentElement.scrollWidth").await;
    assert!(width.as_u64().unwrap() <= u64::from(WIDTH), "{name}: {width} px wide on a {WIDTH} px screen");
    let background = js(
        client,
        "const c = getComputedStyle(document.body).backgroundColor.match(/\\d+/g).map(Number);
         return (0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]) / 255",
    )
    .await
    .as_f64()
    .unwrap();
    match theme {
        Theme::Light => {
            assert!(background > 0.7, "{name}: a light theme with a dark background ({background})")
        }
        Theme::Dark => {
            assert!(background < 0.3, "{name}: a dark theme with a light background ({background})")
        }
    }
    let violations = js(client, "return window.__tg.calls.violations").await;
    assert_eq!(violations, json!([]), "{name}: blocked by the Content-Security-Policy");
    let png = client.screenshot().await.unwrap();
    std::fs::write(screenshots().join(format!("{name}-{}.png", theme.name())), png).unwrap();
}

/// A picture the user drew earlier, kept in storage.
async fn picture(bot: &TestBot, user: UserId) -> String {
    let mut png = Vec::new();
    let gradient = image::RgbImage::from_fn(256, 256, |x, y| {
        image::Rgb([200u8.saturating_add((x / 8) as u8), (90 + y / 4) as u8, (40 + x / 6) as u8])
    });
    image::DynamicImage::ImageRgb8(gradient)
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    support::stored_picture(bot, user, "рыжая лиса в осеннем лесу, акварель", png).await
}

fn digits(value: &Value) -> String {
    value
        .as_str()
        .unwrap_or_default()
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == ',' || *c == '.')
        .collect()
}

/// What the fake chat model answers when Anna asks for a summary.
const SUMMARY: &str = "Анна и Олег перенесли релиз на пятницу.\n\nЗадачи:\n- Олег: обновить план до среды";

#[tokio::test]
async fn a_phone_user_signs_in_buys_uploads_reads_and_finds_a_transcript() {
    let openai = FakeOpenAi::start().await.unwrap();
    let kassa = FakeYooKassa::start("123456", "test_secret").await.unwrap();
    let proxy =
        cors_proxy(std::env::var("TEST_S3_ENDPOINT").unwrap_or_else(|_| "http://127.0.0.1:9000".into()))
            .await;
    let (stt, kassa_api) = (openai.base_url(), kassa.api_url());
    let bot = spawn_bot_with(move |_| {
        [
            ("MINIAPP_JWT_SECRET", SECRET.to_owned()),
            ("S3_PUBLIC_ENDPOINT", format!("http://{proxy}")),
            ("STT_BASE_URL", stt.clone()),
            ("SUMMARY_BASE_URL", stt),
            ("WELCOME_BONUS_CREDITS", "1000".to_owned()),
            ("FREE_MINUTES_PER_DAY", "3".to_owned()),
            ("YOOKASSA_SHOP_ID", "123456".to_owned()),
            ("YOOKASSA_SECRET_KEY", "test_secret".to_owned()),
            ("YOOKASSA_RETURN_URL", "https://t.me/test_bot".to_owned()),
            ("YOOKASSA_API_URL", kassa_api),
            ("YOOKASSA_NOTIFY_IPS", "127.0.0.2/32".to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    })
    .await;
    kassa.set_notification_url(format!("http://{}/webhooks/yookassa", bot.http));
    kassa.set_notification_source("127.0.0.2".parse::<std::net::IpAddr>().unwrap()).unwrap();
    let worker = {
        let transcribing = support::transcription_worker(&bot, 1);
        let summarising = support::summary_worker(&bot, 1);
        let sweeping = support::maintenance(&bot);
        tokio::spawn(async move {
            tokio::join!(transcribing, summarising, sweeping);
        })
    };
    // Anna has the bot's chat open (the app is opened from it).
    let person = bot.telegram.user(TELEGRAM_ID, "Анна", Some("ru"));
    person.send_command("/start").unwrap();
    person.wait_for_messages(1, WAIT).await.unwrap();
    let auth_date = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let user = json!({ "id": TELEGRAM_ID, "first_name": "Анна", "language_code": "ru" });
    let init_data = miniapp::sign_init_data(
        &[
            ("query_id", "AAHdF6IQAAAAAN0XohDhrOrc"),
            ("user", &user.to_string()),
            ("auth_date", &auth_date.to_string()),
        ],
        bot.telegram.token(),
    );
    let app = format!("http://{}/app/", bot.http);
    let light = browser(&init_data, Theme::Light).await;
    let page = &light.client;
    let theme = Theme::Light;

    // Signed in: the welcome gift is on the balance, in Russian.
    page.goto(&app).await.unwrap();
    let balance = until(
        page,
        "the balance",
        WAIT,
        "const b = document.getElementById('balance'); return b && /\\d/.test(b.innerText) && b.innerText",
    )
    .await;
    assert_eq!(digits(&balance), "1000", "{balance}");
    let text = page_text(page).await;
    assert!(text.as_str().unwrap().contains("Анна"), "{text}");
    photograph(page, "home", theme).await;
    let user_id = shared::people::users::find_by_telegram_id(&bot.state.db, TelegramUserId(TELEGRAM_ID))
        .await
        .unwrap()
        .unwrap()
        .id;
    let source = picture(&bot, user_id).await;

    // Buy 100 credits through YooKassa: the page opens the confirmation page
    // in Telegram, the payer pays, YooKassa notifies the bot, the page sees it.
    open_view(page, "buy").await;
    until(page, "packages", WAIT, "return document.querySelectorAll('.package .pay-yookassa').length").await;
    photograph(page, "buy", theme).await;
    click(page, ".package .pay-yookassa").await;
    let opened = until(page, "the confirmation link", WAIT, "return window.__tg.calls.links[0]").await;
    let payment = kassa.payments().remove(0);
    assert!(
        opened.as_str().unwrap().contains(&payment.id),
        "{opened} is not the payment's confirmation page"
    );
    kassa.succeed(&payment.id).await.unwrap();
    let balance = until(
        page,
        "the new balance",
        WAIT,
        "const b = document.getElementById('balance'); return b && b.innerText.replace(/\\D/g, '') === '1100' && b.innerText",
    )
    .await;
    assert_eq!(digits(&balance), "1100");

    // Stars: the page opens Telegram's invoice for a link the bot made;
    // a payer who closes it is told nothing was charged.
    click(page, ".package .pay-stars").await;
    let invoice = until(page, "the invoice", WAIT, "return window.__tg.calls.invoices[0]").await;
    assert!(invoice.as_str().unwrap().starts_with("https://t.me/"), "{invoice}");
    js(page, "window.__tg.invoiceDone('cancelled')").await;
    until(
        page,
        "the cancelled note",
        WAIT,
        "const b = document.getElementById('payment-status'); return b && b.dataset.state === 'cancelled'",
    )
    .await;

    // A 30 MB recording, past Telegram's 20 MB: parts go straight to storage,
    // the job is followed to its end.
    let recording = testkit::audio::tone_wav(960, 180.0);
    assert!(recording.len() > 30_000_000, "{}", recording.len());
    let file = std::env::temp_dir().join(format!("interview-{}.wav", uuid::Uuid::new_v4()));
    std::fs::write(&file, &recording).unwrap();
    open_view(page, "upload").await;
    page.find(Locator::Css("#upload-file")).await.unwrap().send_keys(file.to_str().unwrap()).await.unwrap();
    click(page, "#upload-start").await;
    let status = until(
        page,
        "the job's end",
        Duration::from_secs(180),
        "const s = document.getElementById('job-status'); const v = s && s.dataset.status;
         return ['succeeded', 'failed', 'cancelled', 'undeliverable'].includes(v) && v",
    )
    .await;
    assert_eq!(status, "succeeded", "{}", page_text(page).await);
    std::fs::remove_file(&file).unwrap();
    photograph(page, "upload", theme).await;
    // 16:00 less 3 free minutes at 15 credits a minute: 195 credits.
    let charged = bot.state.ledger.balance(&bot.state.db, user_id).await.unwrap();
    assert_eq!(charged.available.amount().normalize().to_string(), "905");
    let footer = bot
        .telegram
        .wait_until("the transcript in chat", WAIT, |t| {
            t.messages(TELEGRAM_ID).into_iter().find(|m| {
                m.body().is_some_and(|b| b.contains("16:00"))
                    && m.callback_data_of("Краткое содержание").is_some()
            })
        })
        .await
        .unwrap();
    // In chat she asks for a summary; the app shows it with the transcript.
    openai.queue_chat_reply(SUMMARY);
    person.press_button(footer.message_id, &footer.callback_data_of("Краткое содержание").unwrap()).unwrap();
    bot.telegram
        .wait_until("the summary in chat", WAIT, |t| {
            t.messages(TELEGRAM_ID).into_iter().find(|m| m.body().is_some_and(|b| b.contains("пятницу")))
        })
        .await
        .unwrap();

    // The transcript: its segments, and a .srt that downloads.
    click(page, "#open-transcript").await;
    let first = until(
        page,
        "segments",
        WAIT,
        "const s = document.querySelector('.segment-text'); return s && s.innerText",
    )
    .await;
    let word = first.as_str().unwrap().split_whitespace().next().unwrap().to_owned();
    let srt_link = until(
        page,
        "the .srt link",
        WAIT,
        "const a = document.getElementById('download-srt'); return a && !a.hidden && a.href",
    )
    .await;
    let srt = reqwest::get(srt_link.as_str().unwrap()).await.unwrap().text().await.unwrap();
    assert!(srt.contains(" --> ") && srt.contains(&word), "{srt}");
    let summary = until(
        page,
        "the summary",
        WAIT,
        "const s = document.querySelector('#summary .summary-text'); return s && s.innerText",
    )
    .await;
    assert_eq!(summary.as_str().unwrap().trim(), SUMMARY);
    photograph(page, "transcript", theme).await;

    // Full-text search finds it by a word of it, and nothing for another word.
    open_view(page, "transcripts").await;
    let search = page.wait().at_most(WAIT).for_element(Locator::Css("#search")).await.unwrap();
    search.send_keys(&format!("{word}\u{E007}")).await.unwrap();
    until(
        page,
        "the search result",
        WAIT,
        "return document.querySelectorAll('.transcript-item').length === 1",
    )
    .await;
    photograph(page, "transcripts", theme).await;
    search.clear().await.unwrap();
    search.send_keys("бухгалтерия\u{E007}").await.unwrap();
    until(page, "no result", WAIT, "return document.querySelectorAll('.transcript-item').length === 0").await;

    // The history reads as a person reads it: the purchase and the transcription.
    open_view(page, "history").await;
    let lines = until(
        page,
        "history lines",
        WAIT,
        "const l = document.querySelectorAll('.history-line'); return l.length >= 2 && l.length",
    )
    .await;
    assert!(lines.as_u64().unwrap() >= 2);
    photograph(page, "history", theme).await;

    // A picture from the gallery, edited: a new job, announced in chat.
    open_view(page, "images").await;
    until(
        page,
        "the picture",
        WAIT,
        "const i = document.querySelector('.image-item img'); return i && i.complete && i.naturalWidth",
    )
    .await;
    photograph(page, "images", theme).await;
    click(page, ".image-edit").await;
    let prompt = page.wait().at_most(WAIT).for_element(Locator::Css(".image-edit-prompt")).await.unwrap();
    prompt.send_keys("добавь шляпу").await.unwrap();
    click(page, ".image-edit-submit").await;
    until(
        page,
        "the edit job",
        WAIT,
        "const s = document.getElementById('job-status'); return s && s.dataset.status",
    )
    .await;
    let edit = <shared::entities::jobs::Entity as sea_orm::EntityTrait>::find()
        .all(&bot.state.db)
        .await
        .unwrap()
        .into_iter()
        .find(|job| job.input["type"] == "edit_picture")
        .expect("an edit job");
    assert_eq!(edit.input["source"], source.as_str());
    assert_eq!(edit.user_id, user_id);

    // English from the same catalogue, at once.
    open_view(page, "settings").await;
    photograph(page, "settings", theme).await;
    page.find(Locator::Css("#language")).await.unwrap().select_by_value("en").await.unwrap();
    until(page, "English", WAIT, "return document.documentElement.lang === 'en'").await;
    home(page).await;
    let text = page_text(page).await;
    assert!(
        text.as_str().unwrap().contains("Balance") || text.as_str().unwrap().contains("balance"),
        "{text}"
    );

    // The same views in the dark theme (the account now speaks English).
    let dark = browser(&init_data, Theme::Dark).await;
    let page = &dark.client;
    page.goto(&app).await.unwrap();
    until(
        page,
        "the balance",
        WAIT,
        "const b = document.getElementById('balance'); return b && /\\d/.test(b.innerText)",
    )
    .await;
    photograph(page, "home", Theme::Dark).await;
    for view in ["buy", "upload", "transcripts", "history", "images", "settings"] {
        open_view(page, view).await;
        let ready = match view {
            "buy" => "return document.querySelectorAll('.package').length",
            "transcripts" => "return document.querySelectorAll('.transcript-item').length",
            "history" => "return document.querySelectorAll('.history-line').length",
            "images" => {
                "const i = document.querySelector('.image-item img'); return i && i.complete && i.naturalWidth"
            }
            _ => "return true",
        };
        until(page, view, WAIT, ready).await;
        photograph(page, view, Theme::Dark).await;
        if view == "transcripts" {
            click(page, ".transcript-item").await;
            until(page, "segments", WAIT, "return document.querySelectorAll('.segment').length").await;
            photograph(page, "transcript", Theme::Dark).await;
        }
    }
    worker.abort();
}
