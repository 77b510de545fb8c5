#!/bin/sh
# Builds a voice note like Telegram's: mono Ogg/Opus of make-speech.sh's sentences and pauses,
# with faint pink noise throughout so the pauses are not digital silence.
# Defaults: 60 minutes at 32 kbps (about 14 MB), the benchmark input. Needs espeak-ng, ffmpeg
# and opusenc (scripts/test installs them).
# Usage: audio/bench/make-voice-note.sh OUT.opus [SECONDS [KBPS]] (SECONDS may have decimals, e.g.
# 61.4: the note is cut to the sample); OPUS_COMPLEXITY=0..10 trades
# encoding time for quality (opusenc default 10).
set -eu
here=$(dirname "$(realpath "$0")")
out=$(realpath -m "${1:-voice-60min.opus}")
seconds=${2:-3600}
kbps=${3:-32}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$here/make-speech.sh" "$work/speech.wav" "$seconds"
"$here/add-noise.sh" "$work/speech.wav" "$work/long.wav"
opusenc --quiet --bitrate "$kbps" ${OPUS_COMPLEXITY:+--comp "$OPUS_COMPLEXITY"} "$work/long.wav" "$out"
