//! `POST /api/uploads` and `POST /api/uploads/{id}/complete`: recordings too
//! big for Telegram's bot downloads go from the page straight to object
//! storage, then are queued exactly like a recording sent in chat (see
//! `shared::media::uploads`).

use std::time::Duration;

use axum::{
    Json,
    extract::{Path, State, rejection::JsonRejection},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use serde_json::{Value, json};
use shared::{
    billing::ledger::LedgerError,
    ids::{ChatId, UserId},
    jobs::{self, JobError},
    media::uploads::{self, UploadError, UploadRules},
    people::users,
    texts::i18n::{Lang, Text},
};

use super::{Session, announce, app, internal, refusal};
use crate::startup::AppState;

/// Uploads one user may start per minute: a person sends a few recordings,
/// not a stream of them.
pub const UPLOADS_PER_MINUTE: u32 = 10;

/// How long the part URLs work: a slow phone line moves 2 GB in about that.
const PART_URLS_LAST: Duration = Duration::from_secs(6 * 3600);

/// An upload about to start.
#[derive(Deserialize, utoipa::ToSchema)]
pub(super) struct NewUpload {
    /// The file's name on the phone, shown in the app and in chat.
    file_name: Option<String>,
    /// Its size in bytes.
    size: u64,
    /// Its MIME type as the browser knows it (a hint: the format is read from the bytes).
    content_type: Option<String>,
}

fn rules(state: &AppState) -> UploadRules {
    let max_bytes = state.settings.miniapp.as_ref().map_or(0, |app| app.max_upload_bytes);
    UploadRules { max_bytes, url_ttl: PART_URLS_LAST }
}

async fn language(state: &AppState, user: UserId) -> Lang {
    users::find(&state.db, user).await.ok().flatten().map(|user| user.language).unwrap_or_default()
}

/// `POST /api/uploads {file_name, size, content_type}`: opens an upload and
/// answers `{id, part_size, parts: [{number, url}], expires_in, max_bytes}`;
/// the page `PUT`s byte range `[(number-1)*part_size, number*part_size)` of
/// the file to each part's URL.
#[utoipa::path(
    post,
    path = "/api/uploads",
    request_body = NewUpload,
    security(("session" = [])),
    responses(
        (status = 200, description = "`{id, part_size, parts: [{number, url}], expires_in, max_bytes}`"),
        (status = 400, description = "not `{file_name, size, content_type}`, or an empty file"),
        (status = 401, description = "no, expired or bad session token"),
        (status = 413, description = "`{error: too_big}`: more than `MINIAPP_MAX_UPLOAD_MB`"),
        (status = 429, description = "too many uploads this minute"),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = claims.user_id))]
pub(super) async fn start(
    State(state): State<AppState>,
    Session(claims): Session,
    body: Result<Json<NewUpload>, JsonRejection>,
) -> Result<Json<Value>, Response> {
    let app = app(&state).map_err(IntoResponse::into_response)?;
    let rules = rules(&state);
    let Ok(Json(body)) = body else {
        return Err(refusal(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "send {\"file_name\", \"size\", \"content_type\"} as JSON",
        )
        .into_response());
    };
    let user = UserId(claims.user_id);
    if !app.uploads.allow(user, chrono::Utc::now().timestamp()).await {
        return Err(refusal(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_requests",
            "too many uploads; wait a minute",
        )
        .into_response());
    }
    let content_type = body
        .content_type
        .filter(|kind| !kind.is_empty() && kind.len() <= 200 && kind.is_ascii())
        .unwrap_or_else(|| "application/octet-stream".to_owned());
    let file_name = body.file_name.map(|name| name.chars().take(200).collect::<String>());
    let started =
        uploads::start(&state.db, &state.store, rules, user, file_name.as_deref(), &content_type, body.size)
            .await;
    match started {
        Ok(started) => {
            tracing::info!(upload = %started.id, bytes = body.size, "upload started");
            Ok(Json(json!({
                "id": started.id,
                "part_size": started.part_bytes,
                "parts": started.parts.iter().map(|(number, url)| json!({"number": number, "url": url})).collect::<Vec<_>>(),
                "expires_in": PART_URLS_LAST.as_secs(),
                "max_bytes": rules.max_bytes,
            })))
        }
        Err(err) => Err(refused(&state, user, err).await),
    }
}

/// `POST /api/uploads/{id}/complete`: joins the parts, checks the file and
/// queues its transcription; answers `{job_id, status, price, free_seconds,
/// position}`. The result arrives in chat and in the app, like a recording
/// sent in chat. Calling it again answers the same job.
#[utoipa::path(
    post,
    path = "/api/uploads/{id}/complete",
    params(("id" = String, Path, description = "the upload's id")),
    security(("session" = [])),
    responses(
        (status = 200, description = "`{job_id, status, price, free_seconds, position}`"),
        (status = 401, description = "no, expired or bad session token"),
        (status = 402, description = "`{error: insufficient_funds}`: buy credits, then complete again"),
        (status = 404, description = "no upload of the caller's with this id"),
        (status = 413, description = "`{error: too_big}`: more arrived than `MINIAPP_MAX_UPLOAD_MB`"),
        (status = 422, description = "`{error: not_audio | empty}`: nothing we can transcribe arrived"),
        (status = 429, description = "`{error: too_many_jobs}`: wait for the recordings in progress"),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = claims.user_id, upload = %id))]
pub(super) async fn complete(
    State(state): State<AppState>,
    Session(claims): Session,
    Path(id): Path<String>,
) -> Result<Json<Value>, Response> {
    let rules = rules(&state);
    let user_id = UserId(claims.user_id);
    let Ok(id) = id.parse::<uuid::Uuid>() else {
        return Err(refused(&state, user_id, UploadError::NotFound).await);
    };
    let user = users::find(&state.db, user_id)
        .await
        .map_err(|err| internal(&err.into()))?
        .ok_or_else(|| refusal(StatusCode::UNAUTHORIZED, "unknown_user", "sign in again").into_response())?;
    let limit = state.settings.max_queued_jobs_per_user;
    let busy = jobs::unfinished_count(&state.db, user_id).await.map_err(|err| internal(&err.into()))?;
    let already = jobs::owned_by(&state.db, user_id, shared::ids::JobId(id))
        .await
        .map_err(|err| internal(&err.into()))?
        .is_some();
    if !already && busy >= u64::from(limit) {
        return Err(refusal(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_jobs",
            Text::TooManyJobs { limit }.render(user.language),
        )
        .into_response());
    }
    // Private chats have the user's own id: the result is delivered there.
    let chat = ChatId(user.telegram_id.0);
    let job = match uploads::complete(&state.db, &state.store, &state.ledger, rules, user_id, chat, id).await
    {
        Ok(job) => job,
        Err(err) => return Err(refused(&state, user_id, err).await),
    };
    let position = jobs::queue_position(&state.db, job.job_id).await.map_err(|err| internal(&err.into()))?;
    if job.fresh {
        let queued = Text::Queued { price: job.price, free_seconds: job.free_seconds, position };
        announce(&state, chat, job.job_id, &queued, user.language).await?;
        // A failed push is not lost: the job row stays queued and the sweeper pushes it again.
        if let Err(err) = state.queue.push_transcribe(job.job_id).await {
            tracing::warn!(job_id = %job.job_id, error = %err, "queue push failed; the sweeper will retry");
        }
        tracing::info!(job_id = %job.job_id, price = %job.price, "upload queued for transcription");
    }
    Ok(Json(json!({
        "job_id": job.job_id,
        "status": "queued",
        "price": job.price.normalize().to_string(),
        "free_seconds": job.free_seconds,
        "position": position,
    })))
}

/// The refusal for `err`, in the user's language.
async fn refused(state: &AppState, user: UserId, err: UploadError) -> Response {
    let (status, code, text) = match err {
        UploadError::TooBig { limit } => {
            (StatusCode::PAYLOAD_TOO_LARGE, "too_big", Text::FileTooBig { limit_mb: limit / 1_000_000 })
        }
        UploadError::Empty => (StatusCode::UNPROCESSABLE_ENTITY, "empty", Text::NotAudio),
        UploadError::NotAudio => (StatusCode::UNPROCESSABLE_ENTITY, "not_audio", Text::NotAudio),
        UploadError::NotFound => {
            return refusal(StatusCode::NOT_FOUND, "not_found", "no such upload").into_response();
        }
        UploadError::Job(JobError::Ledger(LedgerError::InsufficientFunds { needed, available })) => (
            StatusCode::PAYMENT_REQUIRED,
            "insufficient_funds",
            Text::InsufficientFunds { price: needed.amount(), available: available.amount() },
        ),
        other => return internal(&other.into()),
    };
    let lang = language(state, user).await;
    refusal(status, code, text.render(lang)).into_response()
}
