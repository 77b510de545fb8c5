#!/bin/sh
# The speech every benchmark input is made from: espeak-ng sentences separated by pauses of 0.3
# to 3.5 s of digital silence, 48 kHz mono 16-bit WAV. Needs espeak-ng and ffmpeg.
# Usage: audio/bench/make-speech.sh OUT.wav [SECONDS] (SECONDS may have decimals: the speech is
# cut to the sample).
set -eu
out=$(realpath -m "$1")
seconds=${2:-3600}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
i=0
for t in "Good morning, this is a long voice note about the project." \
    "We need to discuss the budget for the next quarter." \
    "The first thing is the server costs, which went up again." \
    "Second, the team wants to hire two more engineers." \
    "I think we should wait until the numbers are clearer." \
    "Let me know what you think about the marketing plan." \
    "The customers asked for better subtitles and faster answers." \
    "Please call me back when you have a minute to talk." \
    "There is also the question of the new office lease." \
    "Anyway, that is all for now, talk to you soon."; do
  espeak-ng -s 165 -w "s$i.wav" "$t"
  ffmpeg -nostdin -v error -y -i "s$i.wav" -ar 48000 -ac 1 -c:a pcm_s16le "n$i.wav"
  i=$((i + 1))
done
for g in 0.3 0.6 1.0 1.5 2.5 3.5; do
  ffmpeg -nostdin -v error -y -f lavfi -t "$g" -i anullsrc=r=48000:cl=mono -c:a pcm_s16le "g$g.wav"
done
# A sentence and its pause last about 4.5 s on average; list enough of them to fill the length.
: > list.txt
n=0
while [ "$n" -lt $((${seconds%.*} / 2 + 10)) ]; do
  echo "file 'n$((n % 10)).wav'" >> list.txt
  set -- 0.3 0.6 1.0 1.5 2.5 3.5 0.6 1.0
  shift $(( (n * 7 + n / 3) % 8 ))
  echo "file 'g$1.wav'" >> list.txt
  n=$((n + 1))
done
ffmpeg -nostdin -v error -y -f concat -safe 0 -i list.txt -af "atrim=0:$seconds" -ar 48000 -ac 1 \
  -c:a pcm_s16le -bitexact "$out"
