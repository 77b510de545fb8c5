//! Request parameters as the Bot API accepts them: query string, JSON, urlencoded
//! form or multipart form, all folded into one map of values plus uploaded files.

use std::collections::HashMap;

use axum::extract::{FromRequest, Multipart, Request};
use axum::http::header::CONTENT_TYPE;
use bytes::Bytes;
use serde_json::{Map, Value, json};

use crate::api::ApiError;

/// One uploaded file part of a multipart request.
#[derive(Debug, Clone)]
pub(crate) struct Upload {
    pub file_name: Option<String>,
    pub content_type: Option<String>,
    pub bytes: Bytes,
}

/// Every parameter of one request.
#[derive(Debug, Default)]
pub(crate) struct Params {
    pub fields: Map<String, Value>,
    pub files: HashMap<String, Upload>,
}

/// Telegram accepts up to 50 MB per multipart upload; a little more lets the fake
/// answer `Request Entity Too Large` itself instead of dropping the connection.
pub(crate) const MAX_BODY: usize = 64 * 1024 * 1024;

impl Params {
    pub(crate) async fn from_request(req: Request) -> Result<Self, ApiError> {
        let mut params = Params::default();
        if let Some(query) = req.uri().query() {
            for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
                params.fields.insert(k.into_owned(), Value::String(v.into_owned()));
            }
        }
        let content_type = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.to_ascii_lowercase())
            .unwrap_or_default();
        if content_type.starts_with("multipart/form-data") {
            let mut multipart = Multipart::from_request(req, &())
                .await
                .map_err(|_| ApiError::bad("can't parse multipart"))?;
            loop {
                let field = match multipart.next_field().await {
                    Ok(Some(field)) => field,
                    Ok(None) => break,
                    Err(err) if err.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE => {
                        return Err(ApiError::too_large());
                    }
                    Err(_) => return Err(ApiError::bad("can't parse multipart")),
                };
                let name = field.name().unwrap_or_default().to_owned();
                let file_name = field.file_name().map(str::to_owned);
                let part_type = field.content_type().map(str::to_owned);
                let bytes = field.bytes().await.map_err(|err| {
                    if err.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                        ApiError::too_large()
                    } else {
                        ApiError::bad("can't parse multipart")
                    }
                })?;
                if file_name.is_some() {
                    params.files.insert(name, Upload { file_name, content_type: part_type, bytes });
                } else {
                    let text = String::from_utf8_lossy(&bytes).into_owned();
                    params.fields.insert(name, Value::String(text));
                }
            }
            return Ok(params);
        }
        let body =
            axum::body::to_bytes(req.into_body(), MAX_BODY).await.map_err(|_| ApiError::too_large())?;
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(params);
        }
        if content_type.starts_with("application/json") {
            match serde_json::from_slice::<Value>(&body) {
                Ok(Value::Object(map)) => params.fields.extend(map),
                _ => return Err(ApiError::bad("can't parse JSON object")),
            }
        } else {
            for (k, v) in url::form_urlencoded::parse(&body) {
                params.fields.insert(k.into_owned(), Value::String(v.into_owned()));
            }
        }
        Ok(params)
    }

    /// The parameters for `calls()`: files appear as a short description, not bytes.
    pub(crate) fn recorded(&self) -> Value {
        let mut all = self.fields.clone();
        for (name, upload) in &self.files {
            all.insert(
                name.clone(),
                json!({
                    "file_name": upload.file_name,
                    "mime_type": upload.content_type,
                    "size": upload.bytes.len(),
                }),
            );
        }
        Value::Object(all)
    }

    /// A parameter as text; numbers and booleans are rendered as JSON.
    pub(crate) fn str(&self, key: &str) -> Option<String> {
        match self.fields.get(key)? {
            Value::Null => None,
            Value::String(s) => Some(s.clone()),
            other => Some(other.to_string()),
        }
    }

    pub(crate) fn i64(&self, key: &str) -> Result<Option<i64>, ApiError> {
        match self.fields.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => {
                n.as_i64().map(Some).ok_or_else(|| ApiError::bad(format!("invalid {key}")))
            }
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => {
                s.trim().parse().map(Some).map_err(|_| ApiError::bad(format!("invalid {key} specified")))
            }
            Some(_) => Err(ApiError::bad(format!("invalid {key} specified"))),
        }
    }

    pub(crate) fn bool(&self, key: &str) -> bool {
        match self.fields.get(key) {
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) => matches!(s.to_ascii_lowercase().as_str(), "true" | "1" | "yes" | "on"),
            Some(Value::Number(n)) => n.as_i64().is_some_and(|n| n != 0),
            _ => false,
        }
    }

    /// An object or array parameter; form encodings carry it as a JSON string.
    pub(crate) fn json(&self, key: &str, what: &str) -> Result<Option<Value>, ApiError> {
        match self.fields.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.is_empty() => Ok(None),
            Some(Value::String(s)) => {
                serde_json::from_str(s).map(Some).map_err(|_| ApiError::bad(format!("can't parse {what}")))
            }
            Some(v) => Ok(Some(v.clone())),
        }
    }
}
