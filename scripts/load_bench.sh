#!/usr/bin/env bash
# Load benchmark of GET /v1/sample over loopback with wrk (Debian package `wrk`), at 1, 8 and 32
# connections, compared with the engine's raw batched throughput on the same model.
#
#   swift build -c release
#   scripts/load_bench.sh [MODEL_FILE] [SECONDS]      (default: Models/fashion-mnist-32.safetensors, 15 s)
#   MODE=storm scripts/load_bench.sh [MODEL_FILE] [SECONDS]
#
# Each request asks for one image with a random seed (no seed parameter: no ETag, no cache hit),
# so every request runs the generator. The PNG cache is also disabled (--cache-mb 0).
#
# MODE=storm: a 503 storm. The server runs with a short queue (--queue-size $QUEUE, default 16);
# 8 connections measure sample throughput and latency, first alone, then while another wrk with
# $STORM_CONNS connections (default 128) hammers the same route and mostly gets 503s (wrk ignores
# Retry-After). Reports both phases and their ratios (storm / no storm): successful samples per
# second, p99 latency, and images the compute worker generated per second.
# BIN=<folder> runs another build's binaries (e.g. the one before a change).
set -euo pipefail
cd "$(dirname "$0")/.."
MODEL=${1:-Models/fashion-mnist-32.safetensors}
SECS=${2:-15}
BIN=${BIN:-.build/release}
MODE=${MODE:-scaling}
TMP=$(mktemp -d)
STORM=""
trap 'kill $SERVER $STORM 2>/dev/null || true; rm -rf "$TMP"' EXIT
# All load comes from 127.0.0.1: lift the per-client connection limit where the binary has one.
if "$BIN/biggan-server" --help 2>&1 | grep -q -- --per-ip-connections; then SERVER_ARGS="--per-ip-connections 0 ${SERVER_ARGS:-}"; fi
if [ "$MODE" = storm ]; then SERVER_ARGS="--queue-size ${QUEUE:-16} ${SERVER_ARGS:-}"; fi

if [ "$MODE" != storm ]; then
  RAW=$($BIN/biggan-bench --model "$MODEL" --batch 16 --iters 200 --json ${BENCH_ARGS:-})
  RAW_IPS=$(python3 -c "import json,sys; print(round(1000/json.loads(sys.argv[1])['ms_per_image'], 1))" "$RAW")
fi

$BIN/biggan-server --model "$MODEL" --port 0 --db "$TMP/requests.sqlite" --cache-mb 0 --max-batch 16 ${SERVER_ARGS:-} > "$TMP/out" 2> "$TMP/err" &
SERVER=$!
for _ in $(seq 100); do grep -q listening "$TMP/out" 2>/dev/null && break; sleep 0.1; done
PORT=$(sed -n 's/.*127.0.0.1:\([0-9]*\).*/\1/p' "$TMP/out" | head -1)
URL="http://127.0.0.1:$PORT/v1/sample?class=7"
curl -sf -o /dev/null "$URL"

if [ "$MODE" = storm ]; then
  metric() { curl -s "http://127.0.0.1:$PORT/metrics" | awk -v m="$1" 'index($0, m) == 1 {s += $NF} END {print s + 0}'; }
  phase() {   # $1: label; measures 8 connections for SECS seconds
    local I0 I1 OUT
    I0=$(metric biggan_images_generated_total)
    OUT=$(wrk -t 1 -c 8 -d "${SECS}s" --latency "$URL")
    I1=$(metric biggan_images_generated_total)
    python3 - "$1" "$SECS" "$I0" "$I1" "$OUT" <<'PY'
import re, sys
label, secs, i0, i1, out = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
total = int(re.search(r"(\d+) requests in", out).group(1))
non2xx = int((re.search(r"Non-2xx or 3xx responses: (\d+)", out) or [0, 0])[1])
def ms(s):
    for suf, f in (("us", 1e-3), ("ms", 1.0), ("s", 1e3)):
        if s.endswith(suf): return float(s[:-len(suf)]) * f
    return float(s)
p50 = ms(re.search(r"\s50%\s+(\S+)", out).group(1)); p99 = ms(re.search(r"\s99%\s+(\S+)", out).group(1))
ok = (total - non2xx) / secs
print(f"{label} {ok:.1f} {p50:.1f} {p99:.1f} {(i1 - i0) / secs:.1f} {non2xx / secs:.1f}")
PY
  }
  read -r _ OK0 P500 P990 IMG0 REJ0 < <(phase calm)
  R0=$(metric 'biggan_requests_total{route="/v1/sample",status="503"}')
  wrk -t 1 -c "${STORM_CONNS:-128}" -d "$((SECS + 4))s" "$URL" > "$TMP/storm" 2>&1 &
  STORM=$!
  sleep 2
  read -r _ OK1 P501 P991 IMG1 REJ1 < <(phase storm)
  wait "$STORM" || true; STORM=""
  R1=$(metric 'biggan_requests_total{route="/v1/sample",status="503"}')
  echo "Model: $MODEL; queue ${QUEUE:-16}; 8 measuring connections; storm: ${STORM_CONNS:-128} connections; $SECS s per phase"
  echo
  echo "| phase | measuring client: successful samples/s | p50 ms | p99 ms | worker images/s (= all clients' successful samples/s) | 503s/s (all clients) |"
  echo "|---|---|---|---|---|---|"
  echo "| no storm | $OK0 | $P500 | $P990 | $IMG0 | $REJ0 |"
  python3 -c "import sys; print(f'| storm | {sys.argv[1]} | {sys.argv[2]} | {sys.argv[3]} | {sys.argv[4]} | {(float(sys.argv[6]) - float(sys.argv[5])) / (float(sys.argv[7]) + 4):.0f} |')" \
    "$OK1" "$P501" "$P991" "$IMG1" "$R0" "$R1" "$SECS"
  python3 -c "import sys; a = list(map(float, sys.argv[1:])); print(f'| ratio storm / no storm | {a[1]/a[0]:.2f}x | | {a[3]/a[2]:.2f}x | {a[5]/a[4]:.2f}x | |')" \
    "$OK0" "$OK1" "$P990" "$P991" "$IMG0" "$IMG1"
  exit 0
fi

echo "Model: $MODEL; engine raw throughput at batch 16: $RAW_IPS images/s"
echo
batches() { curl -s "http://127.0.0.1:$PORT/metrics" | awk '/^biggan_batch_images_sum/ {s=$2} /^biggan_batch_images_count/ {c=$2} END {print s, c}'; }
echo "| connections | images/s | p50 ms | p99 ms | mean batch | share of raw engine throughput |"
echo "|---|---|---|---|---|---|"
for C in 1 8 32; do
  read -r S0 N0 < <(batches)
  T=$(( C < 2 ? 1 : 2 ))
  OUT=$(wrk -t "$T" -c "$C" -d "${SECS}s" --latency "$URL")
  RPS=$(echo "$OUT" | awk '/Requests\/sec/ {print $2}')
  P50=$(echo "$OUT" | awk '$1=="50%" {print $2}')
  P99=$(echo "$OUT" | awk '$1=="99%" {print $2}')
  ERR=$(echo "$OUT" | grep -E "Non-2xx|Socket errors" || true)
  read -r S1 N1 < <(batches)
  python3 - "$C" "$RPS" "$P50" "$P99" "$RAW_IPS" "$ERR" "$S0" "$N0" "$S1" "$N1" <<'PY'
import sys
c, rps, p50, p99, raw, err = sys.argv[1:7]
s0, n0, s1, n1 = map(float, sys.argv[7:11])
batch = (s1 - s0) / max(n1 - n0, 1)
def ms(s):
    for suf, f in (("us", 1e-3), ("ms", 1.0), ("s", 1e3)):
        if s.endswith(suf): return float(s[:-len(suf)]) * f
    return float(s)
note = f" ({err.strip()})" if err.strip() else ""
print(f"| {c} | {float(rps):.1f} | {ms(p50):.1f} | {ms(p99):.1f} | {batch:.1f} | {100*float(rps)/float(raw):.0f}%{note} |")
PY
done
