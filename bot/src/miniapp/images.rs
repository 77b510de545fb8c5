//! `GET /api/images`: the caller's pictures while they are kept, with
//! short-lived links to the full-quality files; `POST /api/images/{job_id}/edit`
//! changes one of them (a new picture job, delivered in chat like any other).

use std::time::Duration;

use axum::{
    Json,
    extract::{Path, Query, State, rejection::JsonRejection, rejection::QueryRejection},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use serde_json::{Value, json};
use shared::{
    billing::ledger::LedgerError,
    ids::{ChatId, JobId, UserId},
    jobs::JobError,
    media::images::{self, ImageRequest},
    people::users,
    texts::i18n::Text,
};

use super::{Session, announce, internal, refusal};
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

/// An edit of a gallery picture.
#[derive(Deserialize, utoipa::ToSchema)]
pub(super) struct EditRequest {
    /// What to change, as in `/edit` in chat.
    prompt: String,
}

/// `POST /api/images/{job_id}/edit {"prompt": "..."}`: queues an edit of the
/// picture `job_id` made, priced and held like `/edit` in chat; answers
/// `{job_id, price}` of the new job. The result arrives in chat and in the gallery.
#[utoipa::path(
    post,
    path = "/api/images/{job_id}/edit",
    params(("job_id" = String, Path, description = "the job that made the picture (`job_id` of a gallery item)")),
    request_body = EditRequest,
    security(("session" = [])),
    responses(
        (status = 200, description = "`{job_id, price}` of the edit job"),
        (status = 400, description = "`{error: empty_prompt | prompt_too_long}`"),
        (status = 401, description = "no, expired or bad session token"),
        (status = 402, description = "`{error: insufficient_funds}`"),
        (status = 404, description = "no picture of the caller's kept under this id"),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = claims.user_id))]
pub(super) async fn edit(
    State(state): State<AppState>,
    Session(claims): Session,
    Path(source): Path<String>,
    body: Result<Json<EditRequest>, JsonRejection>,
) -> Result<Json<Value>, Response> {
    let not_found = || refusal(StatusCode::NOT_FOUND, "not_found", "no such picture").into_response();
    let user_id = UserId(claims.user_id);
    let source = source.parse().map(JobId).map_err(|_| not_found())?;
    if !images::kept_picture(&state.db, user_id, source).await.map_err(|err| internal(&err.into()))? {
        return Err(not_found());
    }
    let user = users::find(&state.db, user_id)
        .await
        .map_err(|err| internal(&err.into()))?
        .ok_or_else(|| refusal(StatusCode::UNAUTHORIZED, "unknown_user", "sign in again").into_response())?;
    let lang = user.language;
    let prompt = body.map(|Json(body)| body.prompt.trim().to_owned()).unwrap_or_default();
    if prompt.is_empty() {
        return Err(
            refusal(StatusCode::BAD_REQUEST, "empty_prompt", Text::EditHowTo.render(lang)).into_response()
        );
    }
    let max = state.settings.images.max_prompt_chars;
    if prompt.chars().count() > max {
        return Err(refusal(
            StatusCode::BAD_REQUEST,
            "prompt_too_long",
            Text::PromptTooLong { max }.render(lang),
        )
        .into_response());
    }
    let chat = ChatId(user.telegram_id.0);
    let request = ImageRequest::EditPicture { prompt, source };
    let queued = match images::create(&state.db, &state.ledger, user_id, chat, &request).await {
        Ok(queued) => queued,
        Err(JobError::Ledger(LedgerError::InsufficientFunds { needed, available })) => {
            let text = Text::NotEnoughForImage { price: needed.amount(), available: available.amount() };
            return Err(refusal(StatusCode::PAYMENT_REQUIRED, "insufficient_funds", text.render(lang))
                .into_response());
        }
        Err(err) => return Err(internal(&err.into())),
    };
    let price = queued.hold.amount.amount();
    announce(&state, chat, queued.job_id, &Text::ImageQueued { price, free: false, edit: true }, lang)
        .await?;
    if let Err(err) = state.queue.push_image(queued.job_id).await {
        tracing::warn!(job_id = %queued.job_id, error = %err, "queue push failed; the sweeper will retry");
    }
    Ok(Json(json!({ "job_id": queued.job_id, "price": price.normalize().to_string() })))
}
