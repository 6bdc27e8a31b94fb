#!/usr/bin/env bash
# Runs one fuzz target for a number of executions, starting from its checked-in seeds, and prints
# libFuzzer's final stats line (executions, exec/s, coverage). New inputs go to a scratch corpus
# ($FUZZ_WORKDIR, default build-fuzz/work/TARGET), never into the checked-in seeds; a crash is
# written there as crash-* and the script fails.
# Usage: tests/fuzz/run.sh fdc_guest_fuzz|qmp_stream_fuzz|state_load_fuzz|imd_parse_fuzz|td0_parse_fuzz EXECUTIONS [extra libFuzzer flags]
set -euo pipefail
cd "$(dirname "$0")/../.."

target=${1:?usage: tests/fuzz/run.sh TARGET EXECUTIONS [libFuzzer flags]}
runs=${2:?usage: tests/fuzz/run.sh TARGET EXECUTIONS [libFuzzer flags]}
shift 2
case "$target" in
    fdc_guest_fuzz) seeds=tests/fuzz/corpus/fdc_guest; max_len=4096 ;;
    qmp_stream_fuzz) seeds=tests/fuzz/corpus/qmp_stream; max_len=256 ;;
    # A whole state (about 1 200 bytes) and the 400 operations the harness reads after it.
    state_load_fuzz) seeds=tests/fuzz/corpus/state_load; max_len=3072 ;;
    # A few tracks of small sectors: room for every record type, the maps and a comment.
    imd_parse_fuzz) seeds=tests/fuzz/corpus/imd_parse; max_len=8192 ;;
    # The same for TD0, in both variants (the largest seed is about 1 300 bytes).
    td0_parse_fuzz) seeds=tests/fuzz/corpus/td0_parse; max_len=8192 ;;
    *) echo "run.sh: unknown target '$target' (fdc_guest_fuzz, qmp_stream_fuzz, state_load_fuzz, imd_parse_fuzz, td0_parse_fuzz)" >&2; exit 2 ;;
esac

builddir=$(tests/fuzz/build.sh)
work=${FUZZ_WORKDIR:-$builddir/work/$target}
mkdir -p "$work/corpus"

# Sanitizer reports are fatal. A smaller quarantine and malloc context keep the throughput up;
# rerun a crash-* file with ASAN_OPTIONS=malloc_context_size=30 for full allocation stacks.
export ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1:abort_on_error=1:detect_leaks=1:quarantine_size_mb=16:malloc_context_size=5}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

log="$work/fuzz.log"
status=0
"$builddir/tests/fuzz/$target" -runs="$runs" -max_len="$max_len" -print_final_stats=1 \
    -artifact_prefix="$work/" "$@" "$work/corpus" "$seeds" >"$log" 2>&1 || status=$?
if [ "$status" -ne 0 ]; then
    tail -n 60 "$log" >&2
    echo "run.sh: $target failed (status $status); reproducer(s): $(ls "$work"/crash-* "$work"/leak-* "$work"/timeout-* 2>/dev/null | tr '\n' ' ')" >&2
    exit "$status"
fi
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
echo "$target: $(grep -E '^#[0-9]+' "$log" | tail -n 1)"
echo "$target: executions=$execs exec/s=$rate"
