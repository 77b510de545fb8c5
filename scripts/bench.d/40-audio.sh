#!/usr/bin/env bash
# The audio pipeline on an hour of speech in every shape users send, beside ffmpeg doing the
# same job on the same file in the same run. One line per shape, "audio_<shape>_hour":
#   ours       `bench-audio FILE` wall seconds: read, measure, find pauses, plan, build every
#              upload (the whole job short of the network)
#   reference  ffmpeg wall seconds: for MP3, M4A and WAV, cutting into 60 s Ogg Opus segments
#              with libopus at our upload settings (16 kHz mono, 24 kbps, voip); for Opus
#              inputs, what it takes ffmpeg to find the pauses (a full decode through
#              silencedetect) plus cutting 60 s segments by stream copy
#   goal       ours at most a quarter of ffmpeg's (4x faster)
# Inputs come from audio/bench/make-inputs.sh, cached in $BENCH_CACHE/audio-inputs.
set -euo pipefail
source "$ROOT/scripts/lib/bench.sh"

inputs="$BENCH_CACHE/audio-inputs"
seconds="${BENCH_AUDIO_SECONDS:-3600}"
bench_log "audio: inputs ($seconds s each) in $inputs"
started=$(date +%s)
"$ROOT/audio/bench/make-inputs.sh" "$inputs" "$seconds" >&2
bench_log "audio: inputs ready in $(($(date +%s) - started)) s"

work=$(mktemp -d "${TMPDIR:-/tmp}/bench_audio.XXXXXX")
trap 'rm -rf "$work"' EXIT

# Runs a command; prints its wall seconds and its peak RSS in MB (the largest of its processes).
timed() {
    python3 - "$@" <<'PY'
import resource, subprocess, sys, time
start = time.monotonic()
subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)
wall = time.monotonic() - start
print(f"{wall:.3f} {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024:.1f}")
PY
}

ff=(ffmpeg -nostdin -v error -y)
for shape in vbr_noise vbr_silence dtx cbr mp3 m4a wav; do
    file=$(ls "$inputs/$shape".*)
    out="$work/$shape"
    mkdir -p "$out"
    ours_json=$("$BENCH_BIN/bench-audio" "$file")
    case "$shape" in
        mp3 | m4a | wav)
            system="ffmpeg $(ffmpeg -version | awk 'NR==1 {print $3}'): 60 s Ogg Opus segments, libopus 16 kHz mono 24 kbps voip"
            read -r ref_wall ref_rss < <(timed "${ff[@]}" -i "$file" -ac 1 -ar 16000 -c:a libopus -b:a 24k \
                -application voip -f segment -segment_time 60 "$out/%03d.ogg")
            ;;
        *)
            system="ffmpeg $(ffmpeg -version | awk 'NR==1 {print $3}'): silencedetect over a full decode, then 60 s stream-copy segments"
            read -r find_wall find_rss < <(timed "${ff[@]}" -i "$file" -af silencedetect=noise=-40dB:d=0.3 -f null -)
            read -r cut_wall cut_rss < <(timed "${ff[@]}" -i "$file" -c copy -f segment -segment_time 60 "$out/%03d.ogg")
            ref_wall=$(python3 -c "print(round($find_wall + $cut_wall, 3))")
            ref_rss=$(python3 -c "print(max($find_rss, $cut_rss))")
            ;;
    esac
    ref_bytes=$(du -cb "$out"/*.ogg | tail -1 | cut -f1)
    rm -rf "$out"
    extra=$(python3 - "$ours_json" "$ref_bytes" "$ref_rss" "$shape" <<'PY'
import json, sys
ours = json.loads(sys.argv[1])
ref_bytes, ref_rss, shape = int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
extra = {
    "input_bytes": ours["input_bytes"],
    "duration_s": ours["duration_s"],
    "analysis": ours["analysis"],
    "chunks": ours["chunks"],
    "upload_bytes": ours["upload_bytes"],
    "upload_ratio": round(ours["upload_bytes"] / ours["input_bytes"], 3),
    "peak_rss_mb": ours["peak_rss_mb"],
    "cuts_s": ours["cuts_s"],
    "cuts_in_pauses": ours["cuts_in_pauses"],
    "reference_upload_bytes": ref_bytes,
    "reference_peak_rss_mb": ref_rss,
}
if shape == "mp3":
    extra["upload_goal"] = "<=0.5 of the input"
    extra["upload_met"] = extra["upload_ratio"] <= 0.5
if shape == "cbr":
    extra["wall_goal_s"] = 3
    extra["wall_met"] = ours["wall_s"] <= 3
print(json.dumps(extra))
PY
)
    ours_wall=$(python3 -c "import json,sys; print(json.loads(sys.argv[1])['wall_s'])" "$ours_json")
    bench_line "audio_${shape}_hour" s lower "$ours_wall" "$ref_wall" "$system" "<=0.25" "$extra"
done
