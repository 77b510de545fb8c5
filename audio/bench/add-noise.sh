#!/bin/sh
# Mixes faint pink noise (-54 dBFS) into a WAV, so its pauses are room noise instead of digital
# silence. Usage: audio/bench/add-noise.sh IN.wav OUT.wav
set -eu
ffmpeg -nostdin -v error -y -i "$1" \
  -f lavfi -i "anoisesrc=color=pink:amplitude=0.002:sample_rate=48000" \
  -filter_complex "[0][1]amix=inputs=2:duration=first:normalize=0" -ar 48000 -ac 1 -c:a pcm_s16le -bitexact "$2"
