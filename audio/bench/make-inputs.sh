#!/bin/sh
# Every input shape the audio benchmark measures, all made from one make-speech.sh base so they
# hold the same speech and pauses:
#   vbr_noise.opus    Opus VBR 32 kbps, pauses of faint pink noise (a voice note from a phone)
#   vbr_silence.opus  Opus VBR 32 kbps, pauses of digital silence
#   dtx.opus          Opus VBR 32 kbps with DTX, digital-silence pauses (1-byte packets there)
#   cbr.opus          Opus hard CBR 32 kbps, noise pauses
#   mp3.mp3           MP3 64 kbps mono 48 kHz, noise pauses
#   m4a.m4a           AAC-LC 64 kbps mono 48 kHz in MP4, noise pauses
#   wav.wav           16-bit mono 48 kHz PCM, noise pauses
# Files already in DIR are kept (a cache): a stamp of this script's and make-speech.sh's text
# decides whether they are still what these scripts make. The encodes run two at a time.
# Usage: audio/bench/make-inputs.sh DIR [SECONDS]   (default 3600; needs espeak-ng, ffmpeg, opusenc)
set -eu
here=$(dirname "$(realpath "$0")")
dir=$(realpath -m "$1")
seconds=${2:-3600}
mkdir -p "$dir"
stamp="$seconds $(cat "$here/make-inputs.sh" "$here/make-speech.sh" "$here/add-noise.sh" | cksum)"
if [ "$(cat "$dir/.stamp" 2>/dev/null)" != "$stamp" ]; then
  rm -f "$dir"/*.opus "$dir"/*.mp3 "$dir"/*.m4a "$dir"/*.wav "$dir/.stamp"
fi
all="vbr_noise.opus vbr_silence.opus dtx.opus cbr.opus mp3.mp3 m4a.m4a wav.wav"
missing=""
for f in $all; do [ -s "$dir/$f" ] || missing="$missing $f"; done
[ -z "$missing" ] && exit 0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$here/make-speech.sh" "$work/speech.wav" "$seconds"
"$here/add-noise.sh" "$work/speech.wav" "$work/noise.wav"
ff="ffmpeg -nostdin -v error -y"
make() {
  case "$1" in
    vbr_noise.opus) opusenc --quiet --bitrate 32 "$work/noise.wav" "$2" ;;
    vbr_silence.opus) opusenc --quiet --bitrate 32 "$work/speech.wav" "$2" ;;
    # 4016 is OPUS_SET_DTX_REQUEST (ffmpeg 5's libopus wrapper has no DTX option).
    dtx.opus) opusenc --quiet --bitrate 32 --set-ctl-int 4016=1 "$work/speech.wav" "$2" ;;
    cbr.opus) opusenc --quiet --hard-cbr --bitrate 32 "$work/noise.wav" "$2" ;;
    # The encoders' fastest settings: the shape of the file matters here, not its fidelity.
    mp3.mp3) $ff -i "$work/noise.wav" -c:a libmp3lame -b:a 64k -compression_level 9 "$2" ;;
    m4a.m4a) $ff -i "$work/noise.wav" -c:a aac -aac_coder fast -b:a 64k "$2" ;;
    wav.wav) cp "$work/noise.wav" "$2" ;;
  esac
}
# Two queues of about equal work (the four Opus encodes at complexity 10 are most of it), one
# per core; each encoder is single-threaded.
queue() {
  for f in "$@"; do
    case " $missing " in *" $f "*) make "$f" "$work/$f" ;; esac
  done
}
queue vbr_noise.opus dtx.opus mp3.mp3 wav.wav &
first=$!
queue vbr_silence.opus cbr.opus m4a.m4a &
second=$!
wait "$first"
wait "$second"
for f in $missing; do mv "$work/$f" "$dir/$f"; done
printf '%s' "$stamp" > "$dir/.stamp"
