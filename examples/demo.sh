#!/bin/sh
# The demo behind `make demo`: supervise a copy of examples/service with
# runsv (one per service), show sv status and the service's log through a
# restart and a down/up, then stop everything it started and exit 0.
set -eu
bindir=$(cd "${1:-target/release}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
PATH="$bindir:$PATH"
export PATH
work=$(mktemp -d "${TMPDIR:-/tmp}/runit-rs-demo.XXXXXX")
cp -R "$here/service" "$work/service"
SVDIR="$work/service"
export SVDIR
pids=""

cleanup() {
  # TERM tells runsv to exit (as `sv exit` does): it stops the service,
  # lets the log drain, and goes. Anything left after 5 s is killed by the
  # pid we started it with.
  for p in $pids; do kill -TERM "$p" 2>/dev/null || true; done
  for p in $pids; do
    i=0
    while kill -0 "$p" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
    kill -9 "$p" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { printf '\n== %s\n' "$*"; }
show_log() { sed 's/^/   | /' "$SVDIR/hello/log/main/current" | tail -n "${1:-4}"; }

say "supervising $SVDIR with $(command -v runsv)"
for s in "$SVDIR"/*; do
  runsv "$s" 2>>"$work/runsv.stderr" &
  pids="$pids $!"
done
# Wait (up to 10 s) until each runsv answers on its supervise/ok FIFO.
i=0
until sv status hello ticker >/dev/null 2>&1; do
  i=$((i + 1)); [ $i -lt 200 ] || { echo "runsv did not come up" >&2; exit 1; }
  sleep 0.05
done
sv -w 10 start hello
sv status hello ticker

say "hello's output, through its log service (svlogd -tt)"
sleep 2
show_log 3

say "sv restart hello: TERM, ./finish, a new ./run"
sv restart hello
sleep 1.2
show_log 4

say "sv down hello, then sv up hello"
sv -v down hello
sv status hello
sv -v up hello
sleep 1.2
show_log 4

say "sv once ticker: a normally-down service run once"
sv -v once ticker
sv status ticker

say "stopping: sv exit (runsv waits for the service, then for its log)"
sv -w 10 exit hello ticker
for p in $pids; do wait "$p" 2>/dev/null || true; done
pids=""
sv status hello ticker || true
say "done: every process the demo started has exited"
