#!/usr/bin/env bash
# respawn.sh COMMAND [ARG...]: run COMMAND, and start it again whenever it exits.
#
# `make run` wraps the Celery worker and beat in it (var/Procfile.run). A worker can exit
# when it loses Redis for longer than its reconnect attempts (broker_connection_max_retries)
# and beat can exit on a database error; honcho would then stop every other process too.
# Under this loop they come back by themselves once Redis or the database answers again.
# In production a supervisor does the same (README "Running at scale": systemd,
# Restart=always).
#
# The delay before each restart doubles from RESPAWN_MIN_DELAY (1 s) up to
# RESPAWN_MAX_DELAY (30 s), and falls back to the minimum once the command has run for
# RESPAWN_RESET_AFTER seconds (60): a crash loop does not spin, a rare exit restarts fast.
# SIGTERM or SIGINT stops the loop: the signal goes on to the command as SIGTERM (a warm
# shutdown for Celery), the loop waits for it and exits, leaving no process behind.
set -uo pipefail

if [[ $# -eq 0 ]]; then
    echo "usage: $0 COMMAND [ARG...]" >&2
    exit 2
fi

min_delay="${RESPAWN_MIN_DELAY:-1}"
max_delay="${RESPAWN_MAX_DELAY:-30}"
reset_after="${RESPAWN_RESET_AFTER:-60}"
name="$(basename "$1")"
child=0
stopping=0

stop() {
    stopping=1
    if [[ $child -ne 0 ]]; then
        kill -TERM "$child" 2>/dev/null || true
    fi
}
trap stop TERM INT

delay="$min_delay"
while true; do
    started=$SECONDS
    "$@" &
    child=$!
    if [[ $stopping -eq 1 ]]; then
        kill -TERM "$child" 2>/dev/null || true # the signal came before $child was known
    fi
    # `wait` returns early when a trapped signal arrives: wait until the command has gone.
    while true; do
        wait "$child"
        status=$?
        kill -0 "$child" 2>/dev/null || break
    done
    child=0
    if [[ $stopping -eq 1 ]]; then
        exit 0
    fi
    if ((SECONDS - started >= reset_after)); then
        delay="$min_delay"
    fi
    echo "respawn: ${name} exited with status ${status}; starting it again in ${delay} s" >&2
    sleep "$delay" &
    child=$!
    wait "$child" 2>/dev/null
    child=0
    if [[ $stopping -eq 1 ]]; then
        exit 0
    fi
    delay=$((delay * 2 > max_delay ? max_delay : delay * 2))
done
