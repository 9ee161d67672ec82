#!/bin/sh
# The long training runs (BigGAN: issue 12; StyleGAN: issue 14; BigBiGAN: issue 15), in the background, resumable
# across sessions and machines.
#
#   scripts/train_background.sh start [stylegan|bigbigan]   # starts the run, or resumes it exactly from its state
#                                                   # (bigbigan-v1: the first BigBiGAN run, E as wide as D;
#                                                   #  bigbigan-v2: E wider, faster, with DiffAugment)
#   scripts/train_background.sh start biggan --ema-decay 0.9999   # flags after the family go to biggan-train
#                                                   # (on resume: what may change, e.g. learning rates)
#   scripts/train_background.sh stop [stylegan]     # SIGTERM: finishes the iteration, checkpoints, exits
#   scripts/train_background.sh status [stylegan]   # running or not, last log line, last evaluation
#
# Stop it while measuring benchmarks. The run folders are runs/fashion-mnist-32-v2,
# runs/fashion-mnist-stylegan-32 and runs/fashion-mnist-bigbigan-32-v3 (state, log.csv, curves.svg, samples/, train.log); commit
# state.safetensors, log.csv, curves.svg and train.log with `git add -f` to carry a run to the
# next session.
set -eu
cd "$(dirname "$0")/.."
COMMAND=${1:-status}
FAMILY=${2:-biggan}
EXTRA=""
if [ $# -gt 2 ]; then shift 2; EXTRA="$*"; fi
case "$FAMILY" in
biggan)
    RUN=runs/fashion-mnist-32-v2
    ARGS="--out $RUN/model.safetensors --augment translation,cutout --iterations 40000 --eval-every 1000 --checkpoint-every 200 --sample-every 1000" ;;
stylegan)
    RUN=runs/fashion-mnist-stylegan-32
    ARGS="--architecture stylegan --out $RUN/model.safetensors --r1-gamma 0.1 --iterations 40000 --eval-every 1000 --checkpoint-every 200 --sample-every 1000" ;;
bigbigan)
    RUN=runs/fashion-mnist-bigbigan-32-v3
    ARGS="--architecture bigbigan --out $RUN/model.safetensors --e-width 32 --iterations 40000 --eval-every 1000 --checkpoint-every 200 --sample-every 1000" ;;
bigbigan-v2)
    RUN=runs/fashion-mnist-bigbigan-32-v2
    ARGS="--architecture bigbigan --out $RUN/model.safetensors --e-width 32 --e-lr 1e-3 --augment translation,cutout --iterations 40000 --eval-every 1000 --checkpoint-every 200 --sample-every 1000" ;;
bigbigan-v1)
    RUN=runs/fashion-mnist-bigbigan-32
    ARGS="--architecture bigbigan --out $RUN/model.safetensors --iterations 40000 --eval-every 1000 --checkpoint-every 200 --sample-every 1000" ;;
*) echo "unknown family '$FAMILY' (biggan, stylegan, bigbigan, bigbigan-v1 or bigbigan-v2)"; exit 2 ;;
esac
BIN=.build/release/biggan-train
PIDFILE=$RUN/train.pid
mkdir -p "$RUN"

running() { [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }

case "$COMMAND" in
start)
    if running; then echo "already running (pid $(cat "$PIDFILE"))"; exit 0; fi
    [ -x "$BIN" ] || swift build -c release --product biggan-train
    RESUME=""
    [ -f "$RUN/state.safetensors" ] && RESUME="--resume"
    # On resume the saved settings hold; the flags repeat them (a differing one is refused).
    nohup "$BIN" $ARGS $EXTRA --run-dir "$RUN" $RESUME \
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
    grep "^iteration .*FD" "$RUN/train.log" 2>/dev/null | tail -n 1 || true
    ;;
*) echo "usage: $0 start|stop|status [biggan|stylegan|bigbigan|bigbigan-v1|bigbigan-v2]" >&2; exit 64 ;;
esac
