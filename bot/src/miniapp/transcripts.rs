//! The caller's transcripts: a keyset-paged list with full-text search, and
//! one transcript with its timed segments and short-lived download links.
//! Another user's transcript is answered exactly as one that does not exist (404).

use std::time::Duration;

use axum::{
    Json,
    extract::{Path, Query, State, rejection::QueryRejection},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use serde_json::{Value, json};
use shared::{
    ids::{JobId, UserId},
    media::{
        summaries,
        transcripts::{self, TranscriptCursor, TranscriptQuery, TranscriptSummary},
    },
};
use uuid::Uuid;

use super::{Session, internal, refusal};
use crate::startup::AppState;

/// How long a download link works: long enough to start a download, short
/// enough that a link copied out of the app soon stops working.
const LINK_TTL: Duration = Duration::from_secs(10 * 60);

/// A page when the client does not ask for a size.
const DEFAULT_LIMIT: u32 = 20;

/// The query of a transcript list.
#[derive(Deserialize, utoipa::IntoParams)]
pub(super) struct ListParams {
    /// Words to search for (web search syntax: quotes, `or`, `-word`).
    q: Option<String>,
    /// The `next` of the previous page.
    before: Option<String>,
    /// Items per page (1-100, 20 when absent).
    limit: Option<u32>,
}

/// `GET /api/transcripts?q=&before=&limit=`: `{"items": [...], "next": cursor | null}`,
/// newest first; `q` keeps only the transcripts matching the words.
#[utoipa::path(
    get,
    path = "/api/transcripts",
    params(ListParams),
    security(("session" = [])),
    responses(
        (status = 200, description = "`{items: [{job_id, created_at, duration_seconds, language, preview}], next}`"),
        (status = 400, description = "a bad cursor or limit"),
        (status = 401, description = "no, expired or bad session token"),
    )
)]
pub(super) async fn list(
    State(state): State<AppState>,
    Session(claims): Session,
    params: Result<Query<ListParams>, QueryRejection>,
) -> Response {
    let Ok(Query(params)) = params else {
        return refusal(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "q, before and limit (a number) are accepted",
        )
        .into_response();
    };
    let before = match params.before.as_deref().filter(|cursor| !cursor.is_empty()) {
        None => None,
        Some(cursor) => match TranscriptCursor::parse(cursor) {
            Some(cursor) => Some(cursor),
            None => {
                return refusal(
                    StatusCode::BAD_REQUEST,
                    "bad_cursor",
                    "pass back the `next` of a previous page",
                )
                .into_response();
            }
        },
    };
    let query = TranscriptQuery { words: params.q, before, limit: params.limit.unwrap_or(DEFAULT_LIMIT) };
    match transcripts::page(&state.db, UserId(claims.user_id), &query).await {
        Ok(page) => Json(json!({
            "items": page.items.iter().map(summary).collect::<Vec<_>>(),
            "next": page.next.map(|cursor| cursor.to_string()),
        }))
        .into_response(),
        Err(err) => internal(&anyhow::Error::new(err).context("listing transcripts")),
    }
}

/// `GET /api/transcripts/{job_id}`: the list's fields, `segments`, `downloads`, and the
/// `summary` made with the "Summary" button in chat (`null` until one is made).
#[utoipa::path(
    get,
    path = "/api/transcripts/{job_id}",
    params(("job_id" = String, Path, description = "the transcription job's id")),
    security(("session" = [])),
    responses(
        (status = 200, description = "the list's fields, `segments: [{start_seconds, end_seconds, text}]`, `downloads: {txt, srt, vtt?, audio?}` (presigned, 10 minutes), `summary: {text, partial, created_at} | null` (the summary and action items asked for in chat; `partial`: of the transcript's beginning only)"),
        (status = 401, description = "no, expired or bad session token"),
        (status = 404, description = "no transcript of the caller's with this id"),
    )
)]
pub(super) async fn one(
    State(state): State<AppState>,
    Session(claims): Session,
    Path(job_id): Path<String>,
) -> Response {
    let not_found = || refusal(StatusCode::NOT_FOUND, "not_found", "no such transcript").into_response();
    // An id that is not a job id is no transcript of the caller's either.
    let Ok(job_id) = Uuid::parse_str(&job_id) else { return not_found() };
    let user = UserId(claims.user_id);
    let found = transcripts::detail(&state.db, &state.store, user, JobId(job_id), LINK_TTL).await;
    match found {
        Ok(Some(detail)) => {
            let stored = match summaries::stored(&state.db, user, JobId(job_id)).await {
                Ok(stored) => stored,
                Err(err) => {
                    return internal(&anyhow::Error::new(err).context("reading a transcript's summary"));
                }
            };
            let mut body = summary(&detail.summary);
            body["segments"] = detail
                .segments
                .iter()
                .map(|segment| {
                    json!({
                        "start_seconds": seconds(segment.start_ms),
                        "end_seconds": seconds(segment.end_ms),
                        "text": segment.text,
                    })
                })
                .collect();
            body["downloads"] = detail
                .downloads
                .iter()
                .map(|(kind, url)| (kind.code().to_owned(), json!(url.as_str())))
                .collect();
            body["downloads_expire_in"] = json!(LINK_TTL.as_secs());
            body["summary"] = stored.map_or(Value::Null, |stored| {
                json!({ "text": stored.content, "partial": stored.partial, "created_at": stored.created_at })
            });
            Json(body).into_response()
        }
        Ok(None) => not_found(),
        Err(err) => internal(&err.context("reading a transcript")),
    }
}

fn summary(t: &TranscriptSummary) -> Value {
    json!({
        "job_id": t.job_id,
        "created_at": t.created_at,
        "duration_seconds": seconds(u64::try_from(t.duration_ms).unwrap_or(0)),
        "language": t.language,
        "preview": t.preview,
    })
}

#[allow(clippy::cast_precision_loss)] // Milliseconds of a recording are far below 2^52.
fn seconds(ms: u64) -> f64 {
    ms as f64 / 1000.0
}
