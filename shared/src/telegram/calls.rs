//! Every Bot API call of a process, counted and, after a `429`, sent again.
//!
//! Each attempt, each `429` and each retry is counted here
//! (`tgbot_telegram_requests_total`, `tgbot_telegram_retries_total`, the
//! duration histogram). A send first waits for its slot in the process's pace
//! ([`super::pacing`]), and so does its resend after the `retry_after`
//! Telegram asked. Every call site ends with `.counted().await`.

use std::time::{Duration, Instant};

use teloxide::{
    RequestError,
    requests::{Output, Payload, Request},
};

use super::pacing::{self, Addressee};
use crate::platform::metrics::{TelegramCall, TelegramOutcome, live};

/// How many times one request is sent again after `429`s before its error is
/// handed to the caller (whose own retry, a job's next attempt, takes over).
const MAX_RETRIES: u32 = 3;

/// The longest `retry_after` waited here; a longer flood wait is the caller's
/// to handle (a job goes back to the queue instead of holding a worker).
const LONGEST_WAIT: Duration = Duration::from_secs(60);

/// Sending a Bot API request through the counting and resending above.
pub trait Counted: Request<Err = RequestError, Payload: Addressee> + Send + Sync + Sized {
    /// Sends the request when its chat's pace allows, counting every attempt,
    /// and sends it again (at most [`MAX_RETRIES`] times) when Telegram
    /// answers `429`.
    fn counted(self) -> impl Future<Output = Result<Output<Self>, RequestError>> + Send;
}

impl<R> Counted for R
where
    R: Request<Err = RequestError, Payload: Addressee> + Send + Sync,
    Output<R>: Send,
{
    async fn counted(self) -> Result<Output<Self>, RequestError> {
        let call = TelegramCall::of_method(<R::Payload as Payload>::NAME);
        let addressee = self.payload_ref().addressee().cloned();
        let mut retries = 0;
        loop {
            if let Some(to) = &addressee {
                pacing::wait_for_slot(to).await;
            }
            let started = Instant::now();
            let result = self.send_ref().await;
            live().telegram_request(call, outcome(&result), started.elapsed());
            match result {
                Err(RequestError::RetryAfter(after))
                    if retries < MAX_RETRIES && after.duration() <= LONGEST_WAIT =>
                {
                    retries += 1;
                    live().telegram_retry(call);
                    tracing::warn!(
                        method = <R::Payload as Payload>::NAME,
                        retry_after_s = after.seconds(),
                        retries,
                        "Telegram asked to wait (429); sending again after the wait"
                    );
                    tokio::time::sleep(after.duration()).await;
                }
                other => return other,
            }
        }
    }
}

/// How a Telegram call ended, for the counters.
pub(crate) fn outcome<T>(result: &Result<T, RequestError>) -> TelegramOutcome {
    match result {
        Ok(_) => TelegramOutcome::Ok,
        Err(RequestError::RetryAfter(_)) => TelegramOutcome::RateLimited,
        Err(RequestError::Api(_) | RequestError::MigrateToChatId(_)) => TelegramOutcome::ApiError,
        Err(_) => TelegramOutcome::Network,
    }
}
