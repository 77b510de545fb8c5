//! What the status message tells while a recording's chunks are with the provider: the minutes
//! of the recording transcribed so far and how long the rest should take.

use std::{sync::Mutex, time::Duration};

use tokio::time::Instant;

/// How long the provider takes per second of audio, learned from this process's answers.
///
/// A moving average over chunks of every job, so the first estimate of a job is usually there
/// before its first chunk comes back.
#[derive(Debug, Default)]
pub struct Pace(Mutex<Option<f64>>);

impl Pace {
    fn learn(&self, waited: Duration, audio_s: f64) {
        if audio_s <= 0.0 {
            return;
        }
        let seen = waited.as_secs_f64() / audio_s;
        let mut pace = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        *pace = Some(pace.map_or(seen, |old| old * 0.7 + seen * 0.3));
    }

    fn get(&self) -> Option<f64> {
        *self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[derive(Debug, Clone, Copy)]
enum State {
    Waiting,
    Sent(Instant),
    Done,
}

/// Where each chunk of one recording is.
#[derive(Debug)]
pub struct Board<'a> {
    pace: &'a Pace,
    lanes: usize,
    total_s: f64,
    /// Seconds of the recording in each chunk, and where the chunk is.
    chunks: Mutex<Vec<(f64, State)>>,
}

/// What the status message shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Snapshot {
    /// Whole minutes transcribed.
    pub done_minutes: u32,
    /// Minutes of the recording, rounded up.
    pub total_minutes: u32,
    /// Seconds the rest should take, once the pace is known.
    pub seconds_left: Option<u32>,
}

impl<'a> Board<'a> {
    /// A board for chunks of `lengths` seconds (original timeline) of a `total_s` recording,
    /// `lanes` of them with the provider at once.
    pub fn new(pace: &'a Pace, lanes: usize, total_s: f64, lengths: impl IntoIterator<Item = f64>) -> Self {
        let chunks = lengths.into_iter().map(|len| (len.max(0.0), State::Waiting)).collect();
        Self { pace, lanes: lanes.max(1), total_s, chunks: Mutex::new(chunks) }
    }

    fn with<T>(&self, f: impl FnOnce(&mut Vec<(f64, State)>) -> T) -> T {
        f(&mut self.chunks.lock().unwrap_or_else(std::sync::PoisonError::into_inner))
    }

    /// Chunk `index`'s request went out.
    pub fn sent(&self, index: usize) {
        self.with(|chunks| {
            if let Some(chunk) = chunks.get_mut(index) {
                chunk.1 = State::Sent(Instant::now());
            }
        });
    }

    /// Chunk `index` has its transcript (from the provider, or kept from an earlier attempt).
    pub fn done(&self, index: usize) {
        let learned = self.with(|chunks| {
            let chunk = chunks.get_mut(index)?;
            let sent = match chunk.1 {
                State::Sent(at) => Some((at.elapsed(), chunk.0)),
                State::Waiting | State::Done => None,
            };
            chunk.1 = State::Done;
            sent
        });
        if let Some((waited, audio_s)) = learned {
            self.pace.learn(waited, audio_s);
        }
    }

    /// Minutes done of the total, and the time left: the longest wait still ahead of a chunk
    /// in flight, plus the chunks not sent yet shared over the lanes.
    pub fn snapshot(&self) -> Snapshot {
        let pace = self.pace.get();
        let total_minutes = ((self.total_s / 60.0).ceil() as u32).max(1);
        self.with(|chunks| {
            let done_s: f64 = chunks.iter().filter(|c| matches!(c.1, State::Done)).map(|c| c.0).sum();
            let all_done = chunks.iter().all(|c| matches!(c.1, State::Done));
            let done_minutes =
                if all_done { total_minutes } else { ((done_s / 60.0) as u32).min(total_minutes) };
            let seconds_left = pace.filter(|_| !all_done).map(|pace| {
                let in_flight = chunks
                    .iter()
                    .filter_map(|c| match c.1 {
                        State::Sent(at) => Some((pace * c.0 - at.elapsed().as_secs_f64()).max(1.0)),
                        State::Waiting | State::Done => None,
                    })
                    .fold(0.0, f64::max);
                let waiting: f64 = chunks.iter().filter(|c| matches!(c.1, State::Waiting)).map(|c| c.0).sum();
                (in_flight + pace * waiting / self.lanes as f64).ceil() as u32
            });
            Snapshot { done_minutes, total_minutes, seconds_left }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn minutes_and_time_left_follow_the_chunks() {
        let pace = Pace::default();
        let board = Board::new(&pace, 2, 330.0, [110.0, 110.0, 110.0]);
        assert_eq!(board.snapshot(), Snapshot { done_minutes: 0, total_minutes: 6, seconds_left: None });
        board.sent(0);
        board.sent(1);
        tokio::time::advance(Duration::from_secs(11)).await;
        board.done(0);
        // 0.1 s per audio second: chunk 1 has about 0 s left (shown as 1), chunk 2 waits for a lane.
        let now = board.snapshot();
        assert_eq!((now.done_minutes, now.total_minutes), (1, 6));
        assert_eq!(now.seconds_left, Some(7));
        board.done(1);
        board.sent(2);
        board.done(2);
        assert_eq!(board.snapshot(), Snapshot { done_minutes: 6, total_minutes: 6, seconds_left: None });
    }

    #[tokio::test(start_paused = true)]
    async fn answers_kept_from_an_earlier_attempt_teach_no_pace() {
        let pace = Pace::default();
        let board = Board::new(&pace, 4, 30.0, [30.0]);
        board.done(0);
        assert_eq!(pace.get(), None);
        assert_eq!(board.snapshot().done_minutes, 1);
    }
}
