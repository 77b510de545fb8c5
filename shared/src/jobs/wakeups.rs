//! Waking an idle worker the moment a job is pushed.
//!
//! On its own an apalis Redis worker looks for new messages once a heartbeat
//! ([`super::queue::HEARTBEAT`]), so a job waited half a second on average
//! before anyone took it. apalis-redis 1.0 files every push as scheduled for
//! "now" and never publishes it, so the queue announces its pushes on a
//! channel of its own ([`channel`], published by the push itself); a worker
//! that listens there fetches at once. The heartbeat stays the fallback: a
//! notice lost while Redis reconnects costs a heartbeat, never the job.

use apalis_core::backend::{
    Backend,
    ext::poll_strategy::{PollWith, StreamStrategy},
};
use futures::{StreamExt, channel::mpsc};

/// The notices of one queue's pushes, as a stream apalis polls: it ends when
/// the subscription is lost (the heartbeat carries on alone until the worker
/// is restarted with a new one).
pub type Arrivals = mpsc::UnboundedReceiver<()>;

/// A queue's storage that also wakes on [`Arrivals`].
pub type Woken<B> = PollWith<B, StreamStrategy<Arrivals>>;

/// The channel `queue`'s pushes are announced on.
pub fn channel(namespace: &str, queue: &str) -> String {
    format!("{namespace}:{queue}:pushed")
}

/// Subscribes to `queue`'s pushes on a connection of its own. When Redis
/// cannot be reached the stream is simply empty: the worker falls back to its
/// heartbeat.
pub async fn listen(client: &redis::Client, namespace: &str, queue: &str) -> Arrivals {
    let (notify, arrivals) = mpsc::unbounded();
    let channel = channel(namespace, queue);
    let subscribed = async {
        let mut pubsub = client.get_async_pubsub().await?;
        pubsub.subscribe(&channel).await?;
        Ok::<_, redis::RedisError>(pubsub)
    };
    match tokio::time::timeout(SUBSCRIBE_TIMEOUT, subscribed).await {
        Ok(Ok(pubsub)) => {
            tokio::spawn(async move {
                let mut messages = pubsub.into_on_message();
                while messages.next().await.is_some() {
                    if notify.unbounded_send(()).is_err() {
                        // The worker that listened is gone.
                        return;
                    }
                }
                tracing::debug!(%channel, "push notices stopped; the heartbeat finds new jobs");
            });
        }
        Ok(Err(err)) => tracing::warn!(%channel, error = %err, "cannot listen for pushes; polling only"),
        Err(_) => tracing::warn!(%channel, "no answer to the subscription; polling only"),
    }
    arrivals
}

/// `storage`, woken by `arrivals` as well as by its heartbeat.
pub fn woken<B: Backend>(storage: B, arrivals: Arrivals) -> Woken<B> {
    PollWith::new(storage, StreamStrategy::new(arrivals))
}

/// Longest wait for the subscription; a worker starts without it rather
/// than wait.
const SUBSCRIBE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);
