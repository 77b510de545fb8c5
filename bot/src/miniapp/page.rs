//! The Mini App page at `/app/`: three files compiled into the binary (the
//! Docker image needs nothing beside it) and the page's words from the Fluent
//! catalogue (`/app/texts.json`). Telegram's own script is the only thing the
//! page loads from elsewhere; the object store is the only other place it
//! talks to (uploads, pictures).

use std::sync::Arc;

use axum::{
    Json, Router,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
    routing::get,
};
use serde_json::json;
use shared::texts::{i18n::Lang, page};

const INDEX: &str = include_str!("../../assets/miniapp/index.html");
const SCRIPT: &str = include_str!("../../assets/miniapp/app.js");
const STYLE: &str = include_str!("../../assets/miniapp/app.css");

/// The `/app/` routes. `storage_origin` is where presigned links point
/// (`S3_PUBLIC_ENDPOINT`, else `S3_ENDPOINT`, else AWS), the one origin
/// besides our own the page may connect to and show pictures from.
pub fn router(storage_origin: &str) -> Router {
    let policy = Arc::new(content_security_policy(storage_origin));
    let texts = Arc::new(match (page::texts(Lang::Ru), page::texts(Lang::En)) {
        (Ok(ru), Ok(en)) => json!({ "ru": ru, "en": en }),
        (Err(err), _) | (_, Err(err)) => {
            tracing::error!(error = %err, "the page's catalogue does not parse");
            json!({ "ru": {}, "en": {} })
        }
    });
    Router::new()
        .route("/app", get(|| async { Redirect::permanent("/app/") }))
        .route("/app/", get(|| async { asset("text/html; charset=utf-8", INDEX) }))
        .route("/app/app.js", get(|| async { asset("text/javascript; charset=utf-8", SCRIPT) }))
        .route("/app/app.css", get(|| async { asset("text/css; charset=utf-8", STYLE) }))
        .route("/app/texts.json", get(move || async move { Json(texts.as_ref().clone()).into_response() }))
        .layer(axum::middleware::map_response(move |mut response: Response| {
            let policy = Arc::clone(&policy);
            async move {
                let headers = response.headers_mut();
                if let Ok(value) = HeaderValue::from_str(&policy) {
                    headers.insert(header::CONTENT_SECURITY_POLICY, value);
                }
                headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
                headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
                // Small, and a new release must reach open apps at once.
                headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
                response
            }
        }))
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (StatusCode::OK, [(header::CONTENT_TYPE, content_type)], body).into_response()
}

/// No inline script or style, nothing from anywhere but here, Telegram's
/// script and the object store; framed only by Telegram's web clients (the
/// phone apps show it in a web view, not a frame).
fn content_security_policy(storage_origin: &str) -> String {
    format!(
        "default-src 'none'; script-src 'self' https://telegram.org; style-src 'self'; \
         img-src 'self' data: {storage_origin}; connect-src 'self' {storage_origin}; \
         base-uri 'none'; form-action 'none'; \
         frame-ancestors 'self' https://web.telegram.org https://*.telegram.org"
    )
}

/// The origin (`scheme://host[:port]`) presigned links of these settings point to.
pub fn storage_origin(s3: &shared::platform::services::S3Settings) -> String {
    match s3.public_endpoint.as_ref().or(s3.endpoint.as_ref()) {
        Some(url) => url.origin().ascii_serialization(),
        // AWS: virtual-hosted buckets on regional hosts.
        None => "https://*.amazonaws.com".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_names_the_store_and_allows_nothing_inline() {
        let policy = content_security_policy("http://127.0.0.1:9000");
        assert!(policy.contains("connect-src 'self' http://127.0.0.1:9000;"), "{policy}");
        assert!(policy.contains("img-src 'self' data: http://127.0.0.1:9000;"), "{policy}");
        assert!(!policy.contains("unsafe-inline") && !policy.contains("unsafe-eval"), "{policy}");
    }

    #[test]
    fn every_asset_the_page_names_is_served() {
        for name in ["app.css", "app.js"] {
            assert!(INDEX.contains(&format!("\"{name}\"")), "{name} is not linked from index.html");
        }
        assert!(SCRIPT.contains("texts.json"));
        // No inline handlers or styles: the policy would block them.
        assert!(!INDEX.contains(" style=") && !INDEX.contains(" onclick="), "inline code in index.html");
    }
}
