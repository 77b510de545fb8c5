//! A fake OpenAI-compatible API for tests: speech to text, images and chat,
//! speaking OpenAI's wire format so the real async-openai client works
//! against it.
//!
//! Transcripts are derived from the audio actually uploaded (see
//! [`expected_transcript`]); every request is recorded with its size,
//! duration and timing, and the peak number of requests in flight is kept.
//! Faults (429 with `Retry-After`, 500, timeouts, quota, content policy) are
//! injected per endpoint.

mod audio;
mod png;

use std::{
    collections::{HashMap, VecDeque},
    net::SocketAddr,
    sync::{Arc, Mutex, MutexGuard},
    time::{Duration, Instant},
};

use axum::{
    Json, Router,
    extract::{Multipart, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::post,
};
use base64::Engine;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::{net::TcpListener, sync::oneshot};

pub use audio::{
    AudioFormat, AudioInfo, FakeSegment, FakeTranscript, SEGMENT_SECONDS, expected_transcript, probe_audio,
};
pub use png::{is_image, solid_png};

/// OpenAI's per-request upload limit for transcriptions (25 MiB).
pub const MAX_UPLOAD_BYTES: usize = 25 * 1024 * 1024;

/// An endpoint of the fake.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// `POST /v1/audio/transcriptions`.
    Transcriptions,
    /// `POST /v1/images/generations`.
    ImageGenerations,
    /// `POST /v1/images/edits`.
    ImageEdits,
    /// `POST /v1/chat/completions`.
    ChatCompletions,
}

/// A failure to answer with instead of the normal response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// 429 `rate_limit_exceeded` with `Retry-After: seconds`.
    RateLimited {
        /// Seconds in the `Retry-After` header.
        retry_after_s: u32,
    },
    /// 500 `server_error`.
    ServerError,
    /// Hold the request for this long before answering 504 (clients time out first).
    Timeout(Duration),
    /// 429 `insufficient_quota`: retrying does not help.
    InsufficientQuota,
    /// 400 `content_policy_violation` (images).
    ContentPolicy,
}

/// One request as the fake saw it.
#[derive(Clone, Debug)]
pub struct RecordedRequest {
    /// Which endpoint.
    pub endpoint: Endpoint,
    /// `model` field.
    pub model: Option<String>,
    /// Size of the uploaded file (or body).
    pub bytes: usize,
    /// Audio read from the upload (transcriptions).
    pub audio: Option<AudioInfo>,
    /// `response_format` field.
    pub response_format: Option<String>,
    /// `prompt` field.
    pub prompt: Option<String>,
    /// `language` field.
    pub language: Option<String>,
    /// The uploaded file's name (transcriptions).
    pub upload_name: Option<String>,
    /// The conversation sent (chat completions): `(role, content)`, in order.
    pub messages: Vec<(String, String)>,
    /// HTTP status answered.
    pub status: u16,
    /// When it arrived.
    pub arrived: Instant,
    /// When it was answered.
    pub answered: Instant,
}

#[derive(Default)]
struct Inner {
    api_key: Option<String>,
    requests: Vec<RecordedRequest>,
    faults: HashMap<Endpoint, VecDeque<Fault>>,
    /// Every n-th request of an endpoint gets the fault, until cleared.
    fault_rate: HashMap<Endpoint, (usize, Fault, usize)>,
    latency: HashMap<Endpoint, Duration>,
    /// Transcriptions take this long plus this much per minute of audio heard.
    audio_pace: Option<(Duration, Duration)>,
    /// Words each 5-second segment says after its `hash-index` tag (0: the tag alone).
    words_per_segment: usize,
    /// More requests of an endpoint in flight than this get 429.
    max_in_flight: HashMap<Endpoint, usize>,
    in_flight: HashMap<Endpoint, (usize, usize)>,
    chat_replies: VecDeque<String>,
    /// Images handed out as URLs, by file name.
    files: HashMap<String, Vec<u8>>,
    /// Answer as the leaner OpenAI-compatible servers do (no `usage`, ...).
    minimal: bool,
    /// Clips shorter than this many seconds, sent without a `language`, are
    /// heard as this language (Whisper's names).
    mishears: Option<(String, f64)>,
}

type Shared = Arc<Mutex<Inner>>;

fn lock(shared: &Shared) -> MutexGuard<'_, Inner> {
    shared.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A running fake server; cheap to clone, stops when the last clone drops.
#[derive(Clone)]
pub struct FakeOpenAi {
    shared: Shared,
    addr: SocketAddr,
    _stop: Arc<StopOnDrop>,
}

struct StopOnDrop(Mutex<Option<oneshot::Sender<()>>>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        if let Some(stop) = self.0.lock().ok().and_then(|mut s| s.take()) {
            let _ = stop.send(());
        }
    }
}

impl FakeOpenAi {
    /// Starts on a random port of 127.0.0.1, accepting any API key.
    pub async fn start() -> std::io::Result<Self> {
        Self::start_on("127.0.0.1:0".parse().map_err(std::io::Error::other)?, None).await
    }

    /// Starts on `addr`; with `api_key`, other bearer tokens get 401.
    pub async fn start_on(addr: SocketAddr, api_key: Option<String>) -> std::io::Result<Self> {
        let shared: Shared = Arc::new(Mutex::new(Inner { api_key, ..Inner::default() }));
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let router = Router::new()
            .route("/v1/audio/transcriptions", post(transcriptions))
            .route("/v1/images/generations", post(generations))
            .route("/v1/images/edits", post(edits))
            .route("/v1/chat/completions", post(chat))
            .route("/files/{name}", axum::routing::get(file))
            .layer(axum::extract::DefaultBodyLimit::max(64 * 1024 * 1024))
            .with_state(shared.clone());
        let (stop, stopped) = oneshot::channel();
        tokio::spawn(async move {
            let _ = axum::serve(listener, router)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
        });
        Ok(Self { shared, addr, _stop: Arc::new(StopOnDrop(Mutex::new(Some(stop)))) })
    }

    /// Base URL for clients, e.g. `http://127.0.0.1:PORT/v1`.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.shared).requests.clone()
    }

    /// The transcription requests so far.
    pub fn transcription_requests(&self) -> Vec<RecordedRequest> {
        self.requests().into_iter().filter(|r| r.endpoint == Endpoint::Transcriptions).collect()
    }

    /// Most requests of `endpoint` that were in flight at once.
    pub fn peak_concurrency(&self, endpoint: Endpoint) -> usize {
        lock(&self.shared).in_flight.get(&endpoint).map_or(0, |(_, peak)| *peak)
    }

    /// Delays every answer of `endpoint` (to make concurrency observable).
    pub fn set_latency(&self, endpoint: Endpoint, latency: Duration) {
        lock(&self.shared).latency.insert(endpoint, latency);
    }

    /// Makes each transcription take `base` plus `per_minute` for every minute of
    /// the audio uploaded, as a recogniser's time grows with the audio it hears.
    pub fn set_audio_pace(&self, base: Duration, per_minute: Duration) {
        lock(&self.shared).audio_pace = Some((base, per_minute));
    }

    /// Makes every 5-second segment say `words` more words after its tag, so a
    /// transcript is as long as speech makes it (people say about 2.5 words a
    /// second: 12 words a segment) rather than a tag every 5 seconds.
    pub fn speak_words_per_segment(&self, words: usize) {
        lock(&self.shared).words_per_segment = words;
    }

    /// Answers requests of `endpoint` beyond `limit` in flight at once with a
    /// 429, as a provider's concurrency limit does.
    pub fn limit_concurrency(&self, endpoint: Endpoint, limit: usize) {
        lock(&self.shared).max_in_flight.insert(endpoint, limit);
    }

    /// Answers the next `n` requests of `endpoint` with `fault`.
    pub fn fail_next(&self, endpoint: Endpoint, n: usize, fault: Fault) {
        lock(&self.shared).faults.entry(endpoint).or_default().extend(std::iter::repeat_n(fault, n));
    }

    /// From now on every `every`-th request of `endpoint` gets `fault` (2: half of them);
    /// `None` stops it.
    pub fn fail_every(&self, endpoint: Endpoint, every: Option<(usize, Fault)>) {
        let mut inner = lock(&self.shared);
        match every {
            Some((every, fault)) => {
                inner.fault_rate.insert(endpoint, (every.max(1), fault, 0));
            }
            None => {
                inner.fault_rate.remove(&endpoint);
            }
        }
    }

    /// Answers as several OpenAI-compatible servers do: transcriptions with
    /// only `text` and `segments` (no `usage`, `duration` or `language`),
    /// pictures with only `data` (no `usage`), chat completions with only
    /// `id`, `model` and `choices` (no `usage`, `object` or `created`).
    pub fn answer_minimally(&self, minimal: bool) {
        lock(&self.shared).minimal = minimal;
    }

    /// Hears clips shorter than `shorter_than` that come without a `language`
    /// as `language` (a Whisper name such as `"english"`), as Whisper's
    /// detection does on a few seconds of speech; a named language is always
    /// taken as given.
    pub fn mishear_short_clips(&self, language: &str, shorter_than: Duration) {
        lock(&self.shared).mishears = Some((language.to_owned(), shorter_than.as_secs_f64()));
    }

    /// The content of the next chat completion.
    pub fn queue_chat_reply(&self, content: impl Into<String>) {
        lock(&self.shared).chat_replies.push_back(content.into());
    }
}

fn error(status: StatusCode, kind: &str, code: Option<&str>, param: Option<&str>, message: &str) -> Response {
    (status, Json(json!({"error": {"message": message, "type": kind, "param": param, "code": code}})))
        .into_response()
}

/// Counts a request in flight for as long as it lives.
struct InFlight {
    shared: Shared,
    endpoint: Endpoint,
}

impl InFlight {
    fn enter(shared: &Shared, endpoint: Endpoint) -> Self {
        let mut inner = lock(shared);
        let entry = inner.in_flight.entry(endpoint).or_default();
        entry.0 += 1;
        entry.1 = entry.1.max(entry.0);
        Self { shared: shared.clone(), endpoint }
    }

    /// Whether this request is over the endpoint's concurrency limit.
    fn over_limit(&self) -> bool {
        let inner = lock(&self.shared);
        let now = inner.in_flight.get(&self.endpoint).map_or(0, |(now, _)| *now);
        inner.max_in_flight.get(&self.endpoint).is_some_and(|limit| now > *limit)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if let Some(entry) = lock(&self.shared).in_flight.get_mut(&self.endpoint) {
            entry.0 = entry.0.saturating_sub(1);
        }
    }
}

/// Checks the key, waits the latency, applies a queued fault. `Some` is the answer to give instead.
async fn preamble(shared: &Shared, endpoint: Endpoint, headers: &HeaderMap) -> Option<Response> {
    let (expected, latency, fault) = {
        let mut inner = lock(shared);
        let mut fault = inner.faults.get_mut(&endpoint).and_then(VecDeque::pop_front);
        if fault.is_none()
            && let Some((every, rated, seen)) = inner.fault_rate.get_mut(&endpoint)
        {
            *seen += 1;
            if (*seen).is_multiple_of(*every) {
                fault = Some(*rated);
            }
        }
        (inner.api_key.clone(), inner.latency.get(&endpoint).copied(), fault)
    };
    if let Some(expected) = expected {
        let given = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).unwrap_or_default();
        if given != format!("Bearer {expected}") {
            return Some(error(
                StatusCode::UNAUTHORIZED,
                "invalid_request_error",
                Some("invalid_api_key"),
                None,
                "Incorrect API key provided.",
            ));
        }
    }
    if let Some(latency) = latency {
        tokio::time::sleep(latency).await;
    }
    Some(match fault? {
        Fault::RateLimited { retry_after_s } => {
            let mut response = error(
                StatusCode::TOO_MANY_REQUESTS,
                "requests",
                Some("rate_limit_exceeded"),
                None,
                "Rate limit reached for requests. Please try again later.",
            );
            if let Ok(value) = HeaderValue::from_str(&retry_after_s.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            response
        }
        Fault::ServerError => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            None,
            None,
            "The server had an error while processing your request. Sorry about that!",
        ),
        Fault::Timeout(hold) => {
            tokio::time::sleep(hold).await;
            error(StatusCode::GATEWAY_TIMEOUT, "server_error", None, None, "Request timed out.")
        }
        Fault::InsufficientQuota => error(
            StatusCode::TOO_MANY_REQUESTS,
            "insufficient_quota",
            Some("insufficient_quota"),
            None,
            "You exceeded your current quota, please check your plan and billing details.",
        ),
        Fault::ContentPolicy => error(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            Some("content_policy_violation"),
            None,
            "Your request was rejected as a result of our safety system.",
        ),
    })
}

fn record(shared: &Shared, mut request: RecordedRequest, status: StatusCode) {
    request.status = status.as_u16();
    request.answered = Instant::now();
    lock(shared).requests.push(request);
}

#[derive(Default)]
struct Form {
    fields: HashMap<String, String>,
    files: Vec<(String, Vec<u8>)>,
    file_names: HashMap<String, String>,
    /// Each file part's `Content-Type`, by field name (absent when the part had none).
    content_types: HashMap<String, String>,
}

async fn read_form(mut multipart: Multipart) -> Result<Form, String> {
    let mut form = Form::default();
    while let Some(field) = multipart.next_field().await.map_err(|e| e.to_string())? {
        let name = field.name().unwrap_or_default().to_owned();
        if let Some(file_name) = field.file_name() {
            form.file_names.insert(name.clone(), file_name.to_owned());
            if let Some(kind) = field.content_type() {
                form.content_types.insert(name.clone(), kind.to_owned());
            }
            form.files.push((name, field.bytes().await.map_err(|e| e.to_string())?.to_vec()));
        } else {
            form.fields.insert(name, field.text().await.map_err(|e| e.to_string())?);
        }
    }
    Ok(form)
}

async fn transcriptions(State(shared): State<Shared>, headers: HeaderMap, multipart: Multipart) -> Response {
    let flight = InFlight::enter(&shared, Endpoint::Transcriptions);
    if flight.over_limit() {
        return error(
            StatusCode::TOO_MANY_REQUESTS,
            "requests",
            Some("rate_limit_exceeded"),
            None,
            "Too many concurrent requests. Please try again later.",
        );
    }
    let arrived = Instant::now();
    let form = match read_form(multipart).await {
        Ok(form) => form,
        Err(err) => return error(StatusCode::BAD_REQUEST, "invalid_request_error", None, None, &err),
    };
    let file = form.files.iter().find(|(name, _)| name == "file").map(|(_, bytes)| bytes.as_slice());
    let mut recorded = RecordedRequest {
        endpoint: Endpoint::Transcriptions,
        model: form.fields.get("model").cloned(),
        bytes: file.map_or(0, <[u8]>::len),
        audio: file.and_then(probe_audio),
        response_format: form.fields.get("response_format").cloned(),
        prompt: form.fields.get("prompt").cloned(),
        language: form.fields.get("language").cloned(),
        upload_name: form.file_names.get("file").cloned(),
        messages: Vec::new(),
        status: 0,
        arrived,
        answered: arrived,
    };
    let response = transcribe(&shared, &headers, file, &form, &mut recorded).await;
    record(&shared, recorded, response.status());
    response
}

async fn transcribe(
    shared: &Shared,
    headers: &HeaderMap,
    file: Option<&[u8]>,
    form: &Form,
    recorded: &mut RecordedRequest,
) -> Response {
    if let Some(answer) = preamble(shared, Endpoint::Transcriptions, headers).await {
        return answer;
    }
    let pace = lock(shared).audio_pace;
    if let (Some((base, per_minute)), Some(audio)) = (pace, &recorded.audio) {
        tokio::time::sleep(base + per_minute.mul_f64(audio.duration_s / 60.0)).await;
    }
    let Some(file) = file else {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            None,
            Some("file"),
            "You must provide a file.",
        );
    };
    if recorded.model.is_none() {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            None,
            Some("model"),
            "you must provide a model parameter",
        );
    }
    if file.len() > MAX_UPLOAD_BYTES {
        return error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "invalid_request_error",
            None,
            Some("file"),
            &format!("Maximum content size limit ({MAX_UPLOAD_BYTES}) exceeded ({} bytes read)", file.len()),
        );
    }
    let Some(mut transcript) = expected_transcript(file) else {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            None,
            Some("file"),
            "Invalid file format. Supported formats: ['flac', 'm4a', 'mp3', 'mp4', 'mpeg', 'mpga', 'oga', 'ogg', 'wav', 'webm']",
        );
    };
    let words = lock(shared).words_per_segment;
    if words > 0 {
        transcript.say_more(words);
    }
    // Whisper names the language in English words, whether it was given or detected.
    let language = match (form.fields.get("language"), lock(shared).mishears.clone()) {
        (Some(code), _) => whisper_name(code),
        (None, Some((heard, shorter_than))) if transcript.duration_s < shorter_than => heard,
        (None, _) => "russian".to_owned(),
    };
    let usage = json!({"type": "duration", "seconds": transcript.duration_s.ceil()});
    match form.fields.get("response_format").map_or("json", String::as_str) {
        "text" => transcript.text.into_response(),
        "srt" => subtitles(&transcript, ',', false).into_response(),
        "vtt" => subtitles(&transcript, '.', true).into_response(),
        "verbose_json" => {
            let segments: Vec<Value> = transcript
                .segments
                .iter()
                .enumerate()
                .map(|(id, s)| {
                    json!({"id": id, "seek": 0, "start": s.start, "end": s.end, "text": s.text, "tokens": [],
                           "temperature": 0.0, "avg_logprob": -0.2, "compression_ratio": 1.2, "no_speech_prob": 0.01})
                })
                .collect();
            if lock(shared).minimal {
                return Json(json!({"text": transcript.text, "segments": segments})).into_response();
            }
            Json(json!({"task": "transcribe", "language": language, "duration": transcript.duration_s,
                        "text": transcript.text, "segments": segments, "usage": usage}))
            .into_response()
        }
        _ => Json(json!({"text": transcript.text, "usage": usage})).into_response(),
    }
}

/// Whisper's name for a language code (a few; others answer as the code).
fn whisper_name(code: &str) -> String {
    let name = match code {
        "ru" => "russian",
        "en" => "english",
        "de" => "german",
        "uk" => "ukrainian",
        "kk" => "kazakh",
        "fr" => "french",
        "es" => "spanish",
        other => other,
    };
    name.to_owned()
}

fn subtitles(transcript: &FakeTranscript, separator: char, vtt: bool) -> String {
    let mut out = if vtt { "WEBVTT\n\n".to_owned() } else { String::new() };
    for (i, s) in transcript.segments.iter().enumerate() {
        if !vtt {
            out.push_str(&format!("{}\n", i + 1));
        }
        out.push_str(&format!(
            "{} --> {}\n{}\n\n",
            audio::clock(s.start, separator),
            audio::clock(s.end, separator),
            s.text
        ));
    }
    out
}

async fn file(
    State(shared): State<Shared>,
    axum::extract::Path(name): axum::extract::Path<String>,
) -> Response {
    match lock(&shared).files.get(&name).cloned() {
        Some(png) => ([(header::CONTENT_TYPE, "image/png")], png).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

fn image_data(shared: &Shared, prompt: &str, response_format: Option<&str>, addr_hint: &str) -> Value {
    let digest = Sha256::digest(prompt.as_bytes());
    let png = solid_png(16, [digest[0], digest[1], digest[2]]);
    if response_format == Some("url") {
        let name = format!("{}.png", hex::encode(&digest[..8]));
        lock(shared).files.insert(name.clone(), png);
        json!({"url": format!("{addr_hint}/files/{name}"), "revised_prompt": prompt})
    } else {
        json!({"b64_json": base64::engine::general_purpose::STANDARD.encode(png), "revised_prompt": prompt})
    }
}

fn images_response(
    shared: &Shared,
    prompt: &str,
    n: u64,
    response_format: Option<&str>,
    headers: &HeaderMap,
) -> Response {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("127.0.0.1");
    let data: Vec<Value> = (0..n.clamp(1, 10))
        .map(|_| image_data(shared, prompt, response_format, &format!("http://{host}")))
        .collect();
    let created =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    if lock(shared).minimal {
        return Json(json!({"created": created, "data": data})).into_response();
    }
    Json(json!({"created": created, "data": data,
                "usage": {"total_tokens": 100, "input_tokens": 50, "output_tokens": 50,
                          "input_tokens_details": {"text_tokens": 50, "image_tokens": 0}}}))
    .into_response()
}

async fn generations(State(shared): State<Shared>, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    let _flight = InFlight::enter(&shared, Endpoint::ImageGenerations);
    let arrived = Instant::now();
    let prompt = body.get("prompt").and_then(Value::as_str).unwrap_or_default().to_owned();
    let mut recorded = RecordedRequest {
        endpoint: Endpoint::ImageGenerations,
        model: body.get("model").and_then(Value::as_str).map(str::to_owned),
        bytes: prompt.len(),
        audio: None,
        response_format: body.get("response_format").and_then(Value::as_str).map(str::to_owned),
        prompt: Some(prompt.clone()),
        language: None,
        upload_name: None,
        messages: Vec::new(),
        status: 0,
        arrived,
        answered: arrived,
    };
    let response = match preamble(&shared, Endpoint::ImageGenerations, &headers).await {
        Some(answer) => answer,
        None if prompt.trim().is_empty() => error(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            None,
            Some("prompt"),
            "Missing required parameter: 'prompt'.",
        ),
        None => images_response(
            &shared,
            &prompt,
            body.get("n").and_then(Value::as_u64).unwrap_or(1),
            recorded.response_format.as_deref(),
            &headers,
        ),
    };
    recorded.status = response.status().as_u16();
    record(&shared, recorded, response.status());
    response
}

async fn edits(State(shared): State<Shared>, headers: HeaderMap, multipart: Multipart) -> Response {
    let _flight = InFlight::enter(&shared, Endpoint::ImageEdits);
    let arrived = Instant::now();
    let form = match read_form(multipart).await {
        Ok(form) => form,
        Err(err) => return error(StatusCode::BAD_REQUEST, "invalid_request_error", None, None, &err),
    };
    let images: Vec<&[u8]> = form
        .files
        .iter()
        .filter(|(name, _)| name == "image" || name == "image[]")
        .map(|(_, b)| b.as_slice())
        .collect();
    let prompt = form.fields.get("prompt").cloned().unwrap_or_default();
    let recorded = RecordedRequest {
        endpoint: Endpoint::ImageEdits,
        model: form.fields.get("model").cloned(),
        bytes: images.iter().map(|i| i.len()).sum(),
        audio: None,
        response_format: form.fields.get("response_format").cloned(),
        prompt: Some(prompt.clone()),
        language: None,
        upload_name: None,
        messages: Vec::new(),
        status: 0,
        arrived,
        answered: arrived,
    };
    let response = match preamble(&shared, Endpoint::ImageEdits, &headers).await {
        Some(answer) => answer,
        None if images.is_empty() => error(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            None,
            Some("image"),
            "Missing required parameter: 'image'.",
        ),
        // OpenAI reads the part's declared type, not its bytes.
        None if !image_types_supported(&form) => error(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            Some("unsupported_file_mimetype"),
            Some("image"),
            &format!(
                "Invalid file 'image': unsupported mimetype ('{}'). Supported file formats are 'image/jpeg', 'image/png', and 'image/webp'.",
                form.content_types
                    .get("image")
                    .or_else(|| form.content_types.get("image[]"))
                    .map_or("application/octet-stream", String::as_str)
            ),
        ),
        None if !images.iter().all(|i| is_image(i)) => error(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            Some("invalid_image_format"),
            Some("image"),
            "Invalid image file or mode for image 1, please check your image file.",
        ),
        None => images_response(&shared, &prompt, 1, recorded.response_format.as_deref(), &headers),
    };
    record(&shared, recorded, response.status());
    response
}

/// Whether every image part declares one of the types OpenAI accepts.
fn image_types_supported(form: &Form) -> bool {
    form.files.iter().filter(|(name, _)| name == "image" || name == "image[]").all(|(name, _)| {
        form.content_types
            .get(name)
            .is_some_and(|kind| matches!(kind.as_str(), "image/png" | "image/jpeg" | "image/webp"))
    })
}

async fn chat(State(shared): State<Shared>, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    let _flight = InFlight::enter(&shared, Endpoint::ChatCompletions);
    let arrived = Instant::now();
    let last_user = body
        .get("messages")
        .and_then(Value::as_array)
        .and_then(|m| m.iter().rev().find(|m| m.get("role").and_then(Value::as_str) == Some("user")))
        .and_then(|m| m.get("content"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let model = body.get("model").and_then(Value::as_str).unwrap_or("gpt-4o-mini").to_owned();
    let messages = body
        .get("messages")
        .and_then(Value::as_array)
        .map(|all| {
            all.iter()
                .map(|m| {
                    let field =
                        |name: &str| m.get(name).and_then(Value::as_str).unwrap_or_default().to_owned();
                    (field("role"), field("content"))
                })
                .collect()
        })
        .unwrap_or_default();
    let recorded = RecordedRequest {
        endpoint: Endpoint::ChatCompletions,
        model: Some(model.clone()),
        bytes: last_user.len(),
        audio: None,
        response_format: None,
        prompt: Some(last_user.clone()),
        language: None,
        upload_name: None,
        messages,
        status: 0,
        arrived,
        answered: arrived,
    };
    let response = match preamble(&shared, Endpoint::ChatCompletions, &headers).await {
        Some(answer) => answer,
        None => {
            let (content, minimal) = {
                let mut inner = lock(&shared);
                let content = inner.chat_replies.pop_front().unwrap_or_else(|| format!("echo: {last_user}"));
                (content, inner.minimal)
            };
            let created =
                std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
            if minimal {
                // As leaner OpenAI-compatible servers answer: no `usage`, `object`, `created`,
                // `refusal` or `logprobs`.
                Json(json!({"id": format!("chatcmpl-{created}"), "model": model,
                            "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                                         "finish_reason": "stop"}]}))
                .into_response()
            } else {
                Json(json!({"id": format!("chatcmpl-{created}"), "object": "chat.completion", "created": created,
                            "model": model, "choices": [{"index": 0, "message": {"role": "assistant", "content": content,
                            "refusal": null}, "logprobs": null, "finish_reason": "stop"}],
                            "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20}}))
                .into_response()
            }
        }
    };
    record(&shared, recorded, response.status());
    response
}
