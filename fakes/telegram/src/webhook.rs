//! Webhook delivery: one update at a time, in order, retried with backoff until the
//! endpoint answers 2xx, like Telegram does for a bot whose endpoint is failing.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::model::WebhookAttempt;
use crate::state::{Shared, unix_now};

const SECRET_HEADER: &str = "X-Telegram-Bot-Api-Secret-Token";

/// Runs until shutdown.
pub(crate) async fn deliver(shared: Arc<Shared>) {
    let client = match reqwest::Client::builder().no_proxy().timeout(Duration::from_secs(10)).build() {
        Ok(client) => client,
        Err(err) => {
            tracing::error!(error = %err, "fake telegram: cannot build the webhook client");
            return;
        }
    };
    let mut shutdown = shared.shutdown.clone();
    let mut backoff: Option<Duration> = None;
    loop {
        let notified = shared.updates_changed.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        if shared.is_shut_down() {
            return;
        }
        let job = {
            let st = shared.lock();
            match (&st.webhook, st.updates.front()) {
                (Some(hook), Some(update)) => Some((
                    hook.url.clone(),
                    hook.secret_token.clone(),
                    update.id,
                    update.json.clone(),
                    st.webhook_backoff,
                )),
                _ => None,
            }
        };
        let Some((url, secret, update_id, body, (first_delay, max_delay))) = job else {
            backoff = None;
            tokio::select! {
                () = &mut notified => {}
                _ = shutdown.wait_for(|stop| *stop) => return,
            }
            continue;
        };
        let mut request = client.post(&url).json(&body);
        if let Some(secret) = &secret {
            request = request.header(SECRET_HEADER, secret);
        }
        let (status, error) = match request.send().await {
            Ok(resp) if resp.status().is_success() => (Some(resp.status().as_u16()), None),
            Ok(resp) => {
                let s = resp.status();
                let reason = s.canonical_reason().unwrap_or("");
                (Some(s.as_u16()), Some(format!("Wrong response from the webhook: {} {reason}", s.as_u16())))
            }
            Err(err) if err.is_timeout() => (None, Some("Read timeout expired".to_owned())),
            Err(err) if err.is_connect() => (None, Some("Connection refused".to_owned())),
            Err(err) => (None, Some(format!("Connection error: {err}"))),
        };
        let ok = error.is_none();
        {
            let mut st = shared.lock();
            st.webhook_attempts.push(WebhookAttempt {
                update_id,
                url: url.clone(),
                secret_token: secret,
                status,
                error: error.clone(),
                at: SystemTime::now(),
            });
            if ok {
                if st.updates.front().is_some_and(|u| u.id == update_id) {
                    st.updates.pop_front();
                }
            } else if let Some(hook) = st.webhook.as_mut() {
                hook.last_error_date = Some(unix_now());
                hook.last_error_message = error;
            }
        }
        shared.changed.notify_waiters();
        if ok {
            backoff = None;
            continue;
        }
        let delay = backoff.map_or(first_delay, |d| (d * 2).min(max_delay));
        backoff = Some(delay);
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            _ = shutdown.wait_for(|stop| *stop) => return,
        }
    }
}
