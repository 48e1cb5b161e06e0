#!/bin/sh
# The demo behind `make demo`: runsvdir over a copy of examples/service,
# then sv status, the services' logs, a restart and a down/up, a one-shot
# service and chpst dropping privileges; finally everything it started is
# stopped and it exits 0.
set -eu
bindir=$(cd "${1:-target/release}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
PATH="$bindir:$PATH"
export PATH
work=$(mktemp -d "${TMPDIR:-/tmp}/runit-rs-demo.XXXXXX")
cp -R "$here/service" "$work/service"
# nobody must be able to enter the worker's directory.
chmod 755 "$work" "$work/service"
SVDIR="$work/service"
export SVDIR
services="hello oneshot ticker worker"
rpid=""

runsv_pids() { [ -n "$rpid" ] && ps -o pid= --ppid "$rpid" 2>/dev/null || true; }

cleanup() {
  # SIGHUP makes runsvdir send TERM to every runsv and exit; each runsv
  # then stops its service, lets its log drain and exits. Anything left
  # after 10 s is killed by pid.
  if [ -n "$rpid" ]; then
    kids=$(runsv_pids)
    kill -HUP "$rpid" 2>/dev/null || true
    for p in $rpid $kids; do
      i=0
      while kill -0 "$p" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
      kill -9 "$p" 2>/dev/null || true
    done
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { printf '\n== %s\n' "$*"; }
show_log() { sed 's/^/   | /' "$SVDIR/$1/log/main/current" | tail -n "${2:-4}"; }

say "runsvdir $SVDIR ($(command -v runsvdir))"
runsvdir -P "$SVDIR" 2>>"$work/runsvdir.stderr" &
rpid=$!
i=0
until sv status $services >/dev/null 2>&1; do
  i=$((i + 1)); [ $i -lt 200 ] || { echo "services did not come up" >&2; exit 1; }
  sleep 0.05
done
sv -w 10 start hello worker
sleep 1.5
sv status $services

say "hello's output, through its log service (svlogd -tt)"
show_log hello 3

say "worker: started by chpst as nobody, with ./env"
show_log worker 1

say "oneshot ran once (sv o . in its run script) and stays down"
sv -w 10 check oneshot
sv status oneshot

say "sv restart hello: TERM, ./finish, a new ./run"
sv restart hello
sleep 1.2
show_log hello 4

say "sv down hello, then sv up hello"
sv -v down hello
sv status hello
sv -v up hello
sleep 1.2
show_log hello 3

say "sv once ticker: a normally-down service run once"
sv -v once ticker
sv status ticker

say "stopping: runsvdir gets SIGHUP, every runsv stops its service and log"
kids=$(runsv_pids)
kill -HUP "$rpid"
wait "$rpid" 2>/dev/null || true
rpid=""
for p in $kids; do
  i=0
  while kill -0 "$p" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
done
sv status $services || true
say "done: every process the demo started has exited"
