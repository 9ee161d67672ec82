#!/usr/bin/env bash
# Load benchmark of GET /v1/sample over loopback with wrk (Debian package `wrk`), at 1, 8 and 32
# connections, compared with the engine's raw batched throughput on the same model.
#
#   swift build -c release
#   scripts/load_bench.sh [MODEL_FILE] [SECONDS]      (default: Models/fashion-mnist-32.safetensors, 15 s)
#
# Each request asks for one image with a random seed (no seed parameter: no ETag, no cache hit),
# so every request runs the generator. The PNG cache is also disabled (--cache-mb 0).
set -euo pipefail
cd "$(dirname "$0")/.."
MODEL=${1:-Models/fashion-mnist-32.safetensors}
SECS=${2:-15}
BIN=.build/release
TMP=$(mktemp -d)
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$TMP"' EXIT

RAW=$($BIN/biggan-bench --model "$MODEL" --batch 16 --iters 200 --json ${BENCH_ARGS:-})
RAW_IPS=$(python3 -c "import json,sys; print(round(1000/json.loads(sys.argv[1])['ms_per_image'], 1))" "$RAW")

$BIN/biggan-server --model "$MODEL" --port 0 --db "$TMP/requests.sqlite" --cache-mb 0 --max-batch 16 ${SERVER_ARGS:-} > "$TMP/out" 2> "$TMP/err" &
SERVER=$!
for _ in $(seq 100); do grep -q listening "$TMP/out" 2>/dev/null && break; sleep 0.1; done
PORT=$(sed -n 's/.*127.0.0.1:\([0-9]*\).*/\1/p' "$TMP/out" | head -1)
URL="http://127.0.0.1:$PORT/v1/sample?class=7"
curl -sf -o /dev/null "$URL"

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
