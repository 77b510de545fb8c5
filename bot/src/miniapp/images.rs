//! `GET /api/images`: the caller's pictures while they are kept, with
//! short-lived links to the full-quality files.

use std::time::Duration;

use axum::{
    Json,
    extract::{Query, State, rejection::QueryRejection},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use serde_json::{Value, json};
use shared::{ids::UserId, media::images};

use super::{Session, internal, refusal};
use crate::startup::AppState;

/// How long a picture link works.
const LINK_TTL: Duration = Duration::from_secs(10 * 60);

/// The query of a gallery page.
#[derive(Deserialize, utoipa::IntoParams)]
pub(super) struct GalleryPage {
    /// The `next` of the previous page.
    before: Option<i64>,
    /// Pictures per page (1-50, 20 when absent).
    limit: Option<u32>,
}

/// `GET /api/images?before=&limit=`: `{"items": [...], "next": cursor | null}`.
#[utoipa::path(
    get,
    path = "/api/images",
    params(GalleryPage),
    security(("session" = [])),
    responses(
        (status = 200, description = "`{items: [{job_id, created_at, prompt, edited, url, kept_until}], next}`; `url` is a presigned link for 10 minutes"),
        (status = 400, description = "a bad cursor or limit"),
        (status = 401, description = "no, expired or bad session token"),
    )
)]
pub(super) async fn gallery(
    State(state): State<AppState>,
    Session(claims): Session,
    page: Result<Query<GalleryPage>, QueryRejection>,
) -> Result<Json<Value>, Response> {
    let Ok(Query(page)) = page else {
        return Err(refusal(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "before (a number) and limit are accepted",
        )
        .into_response());
    };
    let limit = page.limit.unwrap_or(20).clamp(1, 50);
    let pictures = images::gallery(&state.db, UserId(claims.user_id), page.before, limit)
        .await
        .map_err(|err| internal(&err.into()))?;
    let kept_for = state.settings.images.output_retention;
    let mut items = Vec::with_capacity(pictures.len());
    for picture in &pictures {
        let key = storage::ObjectKey::parse(&picture.object_key).map_err(|err| internal(&err.into()))?;
        let url = state.store.presigned_get_url(&key, LINK_TTL).await.map_err(|err| internal(&err.into()))?;
        items.push(json!({
            "job_id": picture.job_id,
            "created_at": picture.created_at,
            "prompt": picture.prompt,
            "edited": picture.edited,
            "url": url.as_str(),
            "kept_until": picture.created_at + kept_for,
        }));
    }
    let next = (pictures.len() == limit as usize).then(|| pictures.last().map(|p| p.id)).flatten();
    Ok(Json(json!({ "items": items, "next": next })))
}
