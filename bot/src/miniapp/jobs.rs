//! `GET /api/jobs/{id}`: where one of the caller's jobs stands, for polling;
//! `GET /api/jobs/{id}/events`: the same as Server-Sent Events, one each time
//! it changes, until the job ends.

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
    response::{
        IntoResponse, Response,
        sse::{Event, KeepAlive, Sse},
    },
};
use sea_orm::ActiveEnum;
use serde_json::{Value, json};
use shared::{
    ids::{JobId, UserId},
    jobs,
};

use super::{Session, internal, refusal};
use crate::startup::AppState;

/// `GET /api/jobs/{id}`: `{id, kind, status, progress, created_at, finished_at,
/// price_quoted, price_charged, error_code}`; another user's job is a 404.
#[utoipa::path(
    get,
    path = "/api/jobs/{id}",
    params(("id" = String, Path, description = "the job's id")),
    security(("session" = [])),
    responses(
        (status = 200, description = "`{id, kind, status, progress, created_at, finished_at, price_quoted, price_charged, error_code}`"),
        (status = 401, description = "no, expired or bad session token"),
        (status = 404, description = "no job of the caller's with this id"),
    )
)]
pub(super) async fn job(
    State(state): State<AppState>,
    Session(claims): Session,
    Path(id): Path<String>,
) -> Result<Json<Value>, Response> {
    let not_found = || refusal(StatusCode::NOT_FOUND, "not_found", "no such job").into_response();
    let job_id = id.parse().map(JobId).map_err(|_| not_found())?;
    let job = jobs::owned_by(&state.db, UserId(claims.user_id), job_id)
        .await
        .map_err(|err| internal(&err.into()))?
        .ok_or_else(not_found)?;
    Ok(Json(describe(&job)))
}

/// How often a live view looks at its job again.
const WATCH_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// Longest a live view stays open; the page reconnects (or polls) after it.
const WATCH_AT_MOST: std::time::Duration = std::time::Duration::from_secs(15 * 60);

/// `GET /api/jobs/{id}/events`: `text/event-stream` of `status` events, each
/// the job's description as `GET /api/jobs/{id}` gives it, sent when it
/// changes; the stream ends once the job has ended.
#[utoipa::path(
    get,
    path = "/api/jobs/{id}/events",
    params(("id" = String, Path, description = "the job's id")),
    security(("session" = [])),
    responses(
        (status = 200, description = "`text/event-stream`: `event: status` with the job's description, on each change, until it ends"),
        (status = 401, description = "no, expired or bad session token"),
        (status = 404, description = "no job of the caller's with this id"),
    )
)]
pub(super) async fn events(
    State(state): State<AppState>,
    Session(claims): Session,
    Path(id): Path<String>,
) -> Result<Response, Response> {
    let not_found = || refusal(StatusCode::NOT_FOUND, "not_found", "no such job").into_response();
    let job_id: JobId = id.parse().map(JobId).map_err(|_| not_found())?;
    let user = UserId(claims.user_id);
    jobs::owned_by(&state.db, user, job_id)
        .await
        .map_err(|err| internal(&err.into()))?
        .ok_or_else(not_found)?;
    let started = tokio::time::Instant::now();
    // (last description sent, whether the stream is over)
    let changes = futures::stream::unfold((None::<Value>, false), move |(last, over)| {
        let db = state.db.clone();
        async move {
            if over {
                return None;
            }
            loop {
                let job = match jobs::owned_by(&db, user, job_id).await {
                    Ok(Some(job)) => job,
                    // Gone, or the database away: end the stream; the page can poll.
                    _ => return None,
                };
                let now = describe(&job);
                let ended = job.finished_at.is_some() || started.elapsed() > WATCH_AT_MOST;
                if last.as_ref() != Some(&now) {
                    let event = Event::default().event("status").json_data(&now).ok()?;
                    return Some((Ok::<_, std::convert::Infallible>(event), (Some(now), ended)));
                }
                if ended {
                    return None;
                }
                tokio::time::sleep(WATCH_EVERY).await;
            }
        }
    });
    Ok(Sse::new(changes).keep_alive(KeepAlive::default()).into_response())
}

/// A job as the API shows it.
fn describe(job: &shared::entities::jobs::Model) -> Value {
    json!({
        "id": job.id,
        "kind": super::history::job_kind(job.kind),
        "status": job.status.to_value(),
        "progress": job.progress,
        "created_at": job.created_at,
        "finished_at": job.finished_at,
        "price_quoted": job.price_quoted.normalize().to_string(),
        "price_charged": job.price_charged.map(|price| price.normalize().to_string()),
        "error_code": job.error_code,
    })
}
