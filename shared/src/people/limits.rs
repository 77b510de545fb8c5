//! Rate limits kept in Redis, so every bot replica sees the same counts:
//! messages per user, Mini App sign-ins per address.

use std::fmt::Display;

use redis::aio::ConnectionLike;

/// Counts one event of `who` in the current minute under `scope` and says
/// whether it is within `per_minute`. Fixed one-minute windows: cheap, and
/// good enough to stop floods.
pub async fn allow_in_minute<C: ConnectionLike + Send>(
    redis: &mut C,
    namespace: &str,
    scope: &str,
    who: impl Display,
    per_minute: u32,
    now_unix_s: i64,
) -> Result<bool, redis::RedisError> {
    let key = format!("{namespace}:{scope}:{who}:{}", now_unix_s.div_euclid(60));
    let (count,): (u64,) =
        redis::pipe().atomic().incr(&key, 1u64).expire(&key, 120).ignore().query_async(redis).await?;
    Ok(count <= u64::from(per_minute))
}

/// Longest wait for Redis before a message is counted locally instead.
const REDIS_WAIT: std::time::Duration = std::time::Duration::from_millis(500);

/// A per-minute limit as the bot applies it: counted in Redis, so every
/// replica sees the same counts, or, while Redis does not answer, in this
/// process, so the bot keeps answering through a Redis outage.
#[derive(Clone)]
pub struct RateLimiter {
    redis: redis::aio::ConnectionManager,
    namespace: String,
    scope: &'static str,
    per_minute: u32,
    /// Counts per (who, minute) while Redis is away; only the current and last minute are kept.
    local: std::sync::Arc<std::sync::Mutex<std::collections::HashMap<(String, i64), u32>>>,
}

impl RateLimiter {
    /// A limiter of `per_minute` events per `who`, keyed `{namespace}:{scope}:…` in Redis.
    pub fn new(
        redis: redis::aio::ConnectionManager,
        namespace: &str,
        scope: &'static str,
        per_minute: u32,
    ) -> Self {
        Self { redis, namespace: namespace.to_owned(), scope, per_minute, local: Default::default() }
    }

    /// Counts one event of `who` and says whether it is within the limit.
    pub async fn allow(&self, who: impl Display, now_unix_s: i64) -> bool {
        let who = who.to_string();
        let mut redis = self.redis.clone();
        let counted = tokio::time::timeout(
            REDIS_WAIT,
            allow_in_minute(&mut redis, &self.namespace, self.scope, &who, self.per_minute, now_unix_s),
        )
        .await;
        match counted {
            Ok(Ok(allowed)) => allowed,
            Ok(Err(err)) => {
                tracing::warn!(error = %err, "Redis refused the rate count; counting locally");
                self.allow_locally(who, now_unix_s)
            }
            Err(_) => {
                tracing::warn!("Redis did not answer the rate count; counting locally");
                self.allow_locally(who, now_unix_s)
            }
        }
    }

    fn allow_locally(&self, who: String, now_unix_s: i64) -> bool {
        let minute = now_unix_s.div_euclid(60);
        let mut counts = self.local.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        counts.retain(|&(_, m), _| m >= minute - 1);
        let count = counts.entry((who, minute)).or_insert(0);
        *count += 1;
        *count <= self.per_minute
    }
}
