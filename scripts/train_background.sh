#!/bin/sh
# The long training run of issue 12, in the background, resumable across sessions and machines.
#
#   scripts/train_background.sh start    # starts the run, or resumes it exactly from its state
#   scripts/train_background.sh stop     # SIGTERM: finishes the iteration, checkpoints, exits
#   scripts/train_background.sh status   # running or not, last log line, last evaluation
#
# Stop it while measuring benchmarks. The run folder is runs/fashion-mnist-32-v2 (state,
# log.csv, curves.svg, samples/, train.log); commit its state.safetensors and log.csv with
# `git add -f` to carry the run to the next session.
set -eu
cd "$(dirname "$0")/.."
RUN=runs/fashion-mnist-32-v2
BIN=.build/release/biggan-train
PIDFILE=$RUN/train.pid
mkdir -p "$RUN"

running() { [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }

case "${1:-status}" in
start)
    if running; then echo "already running (pid $(cat "$PIDFILE"))"; exit 0; fi
    [ -x "$BIN" ] || swift build -c release --product biggan-train
    RESUME=""
    [ -f "$RUN/state.safetensors" ] && RESUME="--resume"
    nohup "$BIN" --out "$RUN/model.safetensors" --run-dir "$RUN" $RESUME \
        --augment translation,cutout --iterations 40000 --eval-every 1000 --checkpoint-every 200 --sample-every 1000 \
        --eval-classifier Models/fashion-mnist-classifier.safetensors >>"$RUN/train.log" 2>&1 &
    echo $! >"$PIDFILE"
    echo "started (pid $!) ${RESUME:+resuming }in $RUN; log: $RUN/train.log"
    ;;
stop)
    if running; then
        kill -TERM "$(cat "$PIDFILE")"
        while running; do sleep 1; done
        echo "stopped; state saved in $RUN/state.safetensors"
    else echo "not running"; fi
    ;;
status)
    if running; then echo "running (pid $(cat "$PIDFILE"))"; else echo "not running"; fi
    [ -f "$RUN/log.csv" ] && tail -n 1 "$RUN/log.csv" | cut -d, -f1-7
    grep "^iteration .*accuracy" "$RUN/train.log" 2>/dev/null | tail -n 1 || true
    ;;
*) echo "usage: $0 start|stop|status" >&2; exit 64 ;;
esac
