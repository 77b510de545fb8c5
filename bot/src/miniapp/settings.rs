//! `GET /api/settings` and `PUT /api/settings`: the interface language and
//! the language recordings are transcribed in.

use axum::{
    Json,
    extract::{State, rejection::JsonRejection},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use serde_json::{Value, json};
use shared::{
    ids::UserId,
    people::{
        settings::{self, TranscriptionLanguage},
        users,
    },
    texts::i18n::Lang,
};

use super::{Session, internal, refusal};
use crate::startup::AppState;

/// `GET /api/settings`: `{"language": "ru", "transcription_language": "auto"}`.
#[utoipa::path(
    get,
    path = "/api/settings",
    security(("session" = [])),
    responses(
        (status = 200, description = "`{language: ru|en, transcription_language: auto|<ISO 639-1>}`"),
        (status = 401, description = "no, expired or bad session token"),
    )
)]
pub(super) async fn show(
    State(state): State<AppState>,
    Session(claims): Session,
) -> Result<Json<Value>, Response> {
    current(&state, UserId(claims.user_id)).await
}

#[derive(Deserialize)]
pub(super) struct Change {
    language: Option<String>,
    transcription_language: Option<String>,
}

/// `PUT /api/settings {"language": "ru"|"en", "transcription_language": "auto"|"<ISO 639-1>"}`:
/// either field may be left out; answers the settings as they now are.
#[utoipa::path(
    put,
    path = "/api/settings",
    security(("session" = [])),
    responses(
        (status = 200, description = "the settings as they now are; the body may carry `language` and `transcription_language`"),
        (status = 400, description = "a value that is not accepted; nothing is changed"),
        (status = 401, description = "no, expired or bad session token"),
    )
)]
pub(super) async fn change(
    State(state): State<AppState>,
    Session(claims): Session,
    body: Result<Json<Change>, JsonRejection>,
) -> Result<Json<Value>, Response> {
    let bad = |message: String| refusal(StatusCode::BAD_REQUEST, "bad_request", message).into_response();
    let Ok(Json(change)) = body else {
        return Err(bad("send {\"language\", \"transcription_language\"} as JSON".into()));
    };
    // Both are parsed before either is stored, so a bad one changes nothing.
    let language = change.language.as_deref().map(str::parse::<Lang>).transpose().map_err(bad)?;
    let transcription = change
        .transcription_language
        .as_deref()
        .map(str::parse::<TranscriptionLanguage>)
        .transpose()
        .map_err(bad)?;
    let user_id = UserId(claims.user_id);
    if let Some(language) = language {
        users::set_language(&state.db, user_id, language).await.map_err(|err| internal(&err.into()))?;
    }
    if let Some(transcription) = transcription {
        settings::set_transcription_language(&state.db, user_id, &transcription)
            .await
            .map_err(|err| internal(&err.into()))?;
    }
    current(&state, user_id).await
}

async fn current(state: &AppState, user_id: UserId) -> Result<Json<Value>, Response> {
    let user = users::find(&state.db, user_id)
        .await
        .map_err(|err| internal(&err.into()))?
        .ok_or_else(|| refusal(StatusCode::UNAUTHORIZED, "unknown_user", "sign in again").into_response())?;
    let transcription =
        settings::transcription_language(&state.db, user_id).await.map_err(|err| internal(&err.into()))?;
    Ok(Json(json!({
        "language": user.language.code(),
        "transcription_language": transcription.to_string(),
    })))
}
