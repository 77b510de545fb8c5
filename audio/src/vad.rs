//! Voice activity on 16 kHz mono audio in 16 ms frames (earshot's frame size), with a loudness
//! figure per frame for choosing the quietest place when speech has to be cut.

use earshot::Detector;

/// Samples per analysis frame at 16 kHz (16 ms), fixed by earshot.
pub(crate) const VAD_FRAME: usize = 256;

/// Earshot's score at or above which a frame is speech.
const SPEECH_SCORE: f32 = 0.5;

/// Frames quieter than this RMS are silence whatever the network says: it guards against the
/// detector's warm-up on the first frames of a fresh decoder.
const SILENCE_RMS: f32 = 0.003;

/// Feeds samples in any block sizes and reports (is speech, rms) for each full 16 ms frame.
pub(crate) struct Vad {
    detector: Detector,
    pending: Vec<f32>,
}

impl Vad {
    pub(crate) fn new() -> Self {
        Self { detector: Detector::default(), pending: Vec::with_capacity(VAD_FRAME) }
    }

    /// Consumes samples; calls `on_frame(speech, rms)` per complete frame.
    pub(crate) fn push(&mut self, mut samples: &[f32], on_frame: &mut impl FnMut(bool, f32)) {
        while !samples.is_empty() {
            let take = (VAD_FRAME - self.pending.len()).min(samples.len());
            self.pending.extend_from_slice(&samples[..take]);
            samples = &samples[take..];
            if self.pending.len() == VAD_FRAME {
                let (speech, rms) = self.classify();
                self.pending.clear();
                on_frame(speech, rms);
            }
        }
    }

    /// Reports the final partial frame, padded with silence, if there is one.
    pub(crate) fn finish(&mut self, on_frame: &mut impl FnMut(bool, f32)) {
        if !self.pending.is_empty() {
            self.pending.resize(VAD_FRAME, 0.0);
            let (speech, rms) = self.classify();
            self.pending.clear();
            on_frame(speech, rms);
        }
    }

    fn classify(&mut self) -> (bool, f32) {
        let energy: f32 = self.pending.iter().map(|s| s * s).sum::<f32>() / VAD_FRAME as f32;
        let rms = energy.sqrt();
        // Decoders can overshoot full scale slightly; the detector wants [-1, 1].
        self.pending.iter_mut().for_each(|s| *s = s.clamp(-1.0, 1.0));
        let score = self.detector.predict_f32(&self.pending);
        (score >= SPEECH_SCORE && rms >= SILENCE_RMS, rms)
    }
}

/// Marks frames within `radius` frames of speech as speech too: the detector reacts a frame or
/// two late at word onsets and drops soft word endings.
pub(crate) fn dilate(speech: &mut [bool], radius: usize) {
    let original = speech.to_vec();
    for (i, &s) in original.iter().enumerate() {
        if s {
            let lo = i.saturating_sub(radius);
            let hi = (i + radius + 1).min(speech.len());
            speech[lo..hi].iter_mut().for_each(|x| *x = true);
        }
    }
}
