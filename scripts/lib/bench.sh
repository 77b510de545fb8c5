# Shared by scripts/bench and its parts in scripts/bench.d/: where things
# live, the Python references' virtualenv, and the one JSON line format.
# Source it; it expects ROOT to be set.

BENCH_CACHE="${BENCH_CACHE:-${TGBOT_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tgbot}/bench}"
mkdir -p "$BENCH_CACHE"
export BENCH_CACHE

# The reference systems people would run instead, pinned so that two runs
# compare the same code. Installed from PyPI into a cached virtualenv.
BENCH_VENV="${BENCH_VENV:-$BENCH_CACHE/venv}"
BENCH_PYTHON_PACKAGES=(
    "celery[redis]==5.5.3"
    "aiogram==3.22.0"
    "asyncpg==0.30.0"
    "aiohttp==3.12.15"
)
export BENCH_VENV

bench_log() { printf '==> %s\n' "$*" >&2; }

# The virtualenv's python, created on first use.
bench_python() {
    local stamp="$BENCH_VENV/.packages"
    if [ ! -x "$BENCH_VENV/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "${BENCH_PYTHON_PACKAGES[*]}" ]; then
        bench_log "installing the Python references (${BENCH_PYTHON_PACKAGES[*]})"
        python3 -m venv "$BENCH_VENV" >&2
        "$BENCH_VENV/bin/pip" install --quiet --disable-pip-version-check "${BENCH_PYTHON_PACKAGES[@]}" >&2
        printf '%s' "${BENCH_PYTHON_PACKAGES[*]}" >"$stamp"
    fi
    printf '%s\n' "$BENCH_VENV/bin/python"
}

# One benchmark's result as one JSON line on stdout:
#   bench_line NAME UNIT BETTER OURS REFERENCE REFERENCE_SYSTEM GOAL [EXTRA_JSON]
# BETTER is "higher" or "lower"; REFERENCE may be "null" when nothing is
# compared; GOAL says what the ratio ours/reference should be (">=5", "<=0.33",
# "" for none) and `met` tells whether it is; EXTRA_JSON is an object of more
# fields (the run's details).
bench_line() {
    python3 - "$@" <<'PY'
import json, sys
name, unit, better, ours, reference, system, goal = sys.argv[1:8]
extra = json.loads(sys.argv[8]) if len(sys.argv) > 8 and sys.argv[8] else {}
ours = float(ours)
reference = None if reference in ("", "null") else float(reference)
ratio = round(ours / reference, 3) if reference else None
met = None
if goal and ratio is not None:
    bound = float(goal[2:])
    met = ratio >= bound if goal.startswith(">=") else ratio <= bound
line = {"bench": name, "unit": unit, "better": better, "ours": ours, "reference": reference,
        "reference_system": system or None, "ratio": ratio, "goal_ratio": goal or None, "met": met}
line.update(extra)
print(json.dumps(line, ensure_ascii=False), flush=True)
PY
}

# profile_part NAME SCRIPT: runs the part under a system-wide `perf record`
# (every process on the machine: ours, the reference, PostgreSQL, Redis, the
# load generator), then writes where the CPU went to $BENCH_CACHE/profile-NAME.txt:
# the share of samples by process, then the hottest functions with call chains
# folded away. Release builds keep their symbols (cargo strips debug info only).
profile_part() {
    local name="$1" part="$2" data="$BENCH_CACHE/perf-$1.data" out="$BENCH_CACHE/profile-$1.txt"
    perf record -a -g -F 199 -o "$data" --quiet -- bash "$part"
    {
        echo "# $name: CPU samples by process and binary (all CPUs, whole part; swapper is idle time)"
        perf report -i "$data" --stdio --no-children --sort comm,dso -g none --percent-limit 1 2>/dev/null |
            grep -v -e '^$' -e '^#'
        echo
        echo "# $name: hottest functions (self time)"
        perf report -i "$data" --stdio --no-children --sort comm,dso,sym -g none --percent-limit 0.7 2>/dev/null |
            grep -v -e '^$' -e '^#' | head -n 60
    } >"$out"
    rm -f "$data"
    bench_log "profile of $name: $out"
    grep -E '^ +[0-9.]+%' "$out" | head -n 10 >&2
}
