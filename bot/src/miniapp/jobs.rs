//! `GET /api/jobs/{id}`: where one of the caller's jobs stands, for polling.

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
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
    Ok(Json(json!({
        "id": job.id,
        "kind": super::history::job_kind(job.kind),
        "status": job.status.to_value(),
        "progress": job.progress,
        "created_at": job.created_at,
        "finished_at": job.finished_at,
        "price_quoted": job.price_quoted.normalize().to_string(),
        "price_charged": job.price_charged.map(|price| price.normalize().to_string()),
        "error_code": job.error_code,
    })))
}
