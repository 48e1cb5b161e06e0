#!/bin/sh
# make fuzz: runs every target (or those named) for SECONDS each and prints
# one summary line per target: runs, crashes (a panic, a failed property,
# a hang past 10 s, or running out of 2 GB of memory).
#
#   fuzz/run.sh SECONDS [TARGET...]
#
# Each target starts from the seeds in fuzz/corpus/TARGET and collects
# what it finds in a scratch corpus under fuzz/target/corpus/TARGET (kept
# between runs, not in the repository). A crash leaves its input in
# fuzz/artifacts/TARGET/; `cargo +nightly fuzz run TARGET FILE` replays it.
set -u
cd "$(dirname "$0")" || exit 1
secs=${1:-60}
shift
[ $# -gt 0 ] || set -- $(ls fuzz_targets | sed 's/\.rs$//')

mkdir -p target
if ! cargo +nightly fuzz build >target/build.log 2>&1; then
    cat target/build.log
    exit 1
fi
failed=0
summary=
for t in "$@"; do
    work=target/corpus/$t
    mkdir -p "$work" "artifacts/$t"
    log=target/fuzz-$t.log
    before=$(ls "artifacts/$t" | wc -l)
    cargo +nightly fuzz run "$t" "$work" "corpus/$t" -- \
        -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 >"$log" 2>&1
    st=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    crashes=$(( $(ls "artifacts/$t" | wc -l) - before ))
    [ "$st" = 0 ] || [ "$crashes" -gt 0 ] || crashes=1
    line=$(printf '%-16s %10s runs in %ss, %s crashes' "$t" "${runs:-?}" "$secs" "$crashes")
    if [ "$crashes" -gt 0 ]; then
        failed=1
        line="$line (see fuzz/$log)"
    fi
    echo "$line"
    summary="$summary$line
"
done
echo
echo "fuzz summary ($(uname -m), $(nproc) cores, $(date -u +%Y-%m-%d)):"
printf '%s' "$summary"
exit $failed
