//! Per-user rate limits kept in Redis, so every bot replica sees the same counts.

use redis::aio::ConnectionLike;

/// Counts one message of `telegram_id` in the current minute and says whether
/// it is within `per_minute`. Fixed one-minute windows: cheap, and good
/// enough to stop floods.
pub async fn allow_message<C: ConnectionLike + Send>(
    redis: &mut C,
    namespace: &str,
    telegram_id: i64,
    per_minute: u32,
    now_unix_s: i64,
) -> Result<bool, redis::RedisError> {
    let key = format!("{namespace}:rate:{telegram_id}:{}", now_unix_s.div_euclid(60));
    let (count,): (u64,) =
        redis::pipe().atomic().incr(&key, 1u64).expire(&key, 120).ignore().query_async(redis).await?;
    Ok(count <= u64::from(per_minute))
}
