#!/usr/bin/env bash
# Builds the Docker image and checks that it starts and serves the shipped models (issue 16):
#
#   scripts/docker_check.sh [--no-build] [IMAGE]        (default image tag: biggan)
#
# Needs a running container engine (`docker info` must answer) and the Dockerfile's base images
# (swift:6.3-bookworm, debian:bookworm-slim) pullable or already present. Without an engine it
# says so and exits 2: the check was not run, which is not a pass.
#
# Steps: `docker build --network host` (the build stage's apt-get needs the network); `docker
# run` with the request log on a named volume; wait until /v1/models answers (the Deployment's
# readiness probe) and /healthz too (its liveness probe); one PNG per model listed; stop with
# SIGTERM, start again on the same volume, and read the first run's rows back from the request
# log through /v1/requests. Prints each step and fails on the first that does not hold.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=1
if [ "${1:-}" = "--no-build" ]; then BUILD=0; shift; fi
IMAGE=${1:-biggan}
PORT=${PORT:-18180}
if ! docker info >/dev/null 2>&1; then
    echo "docker_check: no container engine answers 'docker info': not run" >&2
    exit 2
fi
NAME=biggan-check-$$
VOLUME=biggan-check-data-$$
cleanup() { docker rm -f "$NAME" >/dev/null 2>&1 || true; docker volume rm "$VOLUME" >/dev/null 2>&1 || true; }
trap cleanup EXIT

if [ "$BUILD" = 1 ]; then
    start=$(date +%s)
    docker build --network host -t "$IMAGE" . >/tmp/docker_check_build.log 2>&1 || { tail -30 /tmp/docker_check_build.log; echo "FAIL: docker build (log /tmp/docker_check_build.log)"; exit 1; }
    echo "ok: docker build -t $IMAGE ($(( $(date +%s) - start )) s)"
fi
echo "image size: $(docker image inspect "$IMAGE" --format '{{.Size}}' | awk '{printf "%.0f MiB", $1 / 1048576}')"

run() {
    # --network host: the engine here runs without a bridge; with one, use -p $PORT:8080 instead.
    docker run -d --name "$NAME" --network host -v "$VOLUME":/app/data "$IMAGE" \
        biggan-server --host 127.0.0.1 --port "$PORT" --db /app/data/requests.sqlite --admin-token docker-check-token >/dev/null
    for _ in $(seq 1 120); do
        if curl -fs "http://127.0.0.1:$PORT/v1/models" >/dev/null 2>&1 && curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1; then return 0; fi
        if [ "$(docker inspect -f '{{.State.Running}}' "$NAME")" != true ]; then docker logs "$NAME" | tail -20; echo "FAIL: the container exited"; exit 1; fi
        sleep 1
    done
    docker logs "$NAME" | tail -20; echo "FAIL: not ready within 120 s"; exit 1
}

run
echo "ok: container ready on port $PORT"
# name, or name&class=0 for class-conditional models (which need a class)
MODELS=$(curl -fs "http://127.0.0.1:$PORT/v1/models" | python3 -c 'import json, sys; print(" ".join(m["name"] + ("&class=0" if m["capabilities"]["conditional"] else "") for m in json.load(sys.stdin)["models"]))')
[ -n "$MODELS" ] || { echo "FAIL: /v1/models lists no model"; exit 1; }
echo "ok: /v1/models lists: $MODELS"
for m in $MODELS; do
    png=/tmp/docker_check_${m%%&*}.png
    curl -fs -o "$png" "http://127.0.0.1:$PORT/v1/sample?model=$m&seed=1" || { echo "FAIL: /v1/sample?model=$m"; exit 1; }
    head -c 8 "$png" | od -An -tx1 | tr -d ' \n' | grep -q '^89504e470d0a1a0a$' || { echo "FAIL: /v1/sample?model=$m is not a PNG"; exit 1; }
    echo "ok: /v1/sample?model=$m&seed=1 is a PNG ($(stat -c %s "$png") bytes)"
done
docker stop -t 10 "$NAME" >/dev/null && docker rm "$NAME" >/dev/null
echo "ok: stopped (SIGTERM)"
run
ROWS=$(curl -fs -H "Authorization: Bearer docker-check-token" "http://127.0.0.1:$PORT/v1/requests?limit=1000" \
    | python3 -c 'import json, sys; print(sum(r["path"] == "/v1/sample" for r in json.load(sys.stdin)["requests"]))')
N=$(echo $MODELS | wc -w)
[ "$ROWS" -ge "$N" ] || { echo "FAIL: the request log on the volume has $ROWS sample rows after a restart, expected $N"; exit 1; }
echo "ok: the request log on the volume kept the first run's $ROWS sample rows across a restart"
echo "docker_check: all checks passed"
