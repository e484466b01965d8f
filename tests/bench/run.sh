#!/usr/bin/env bash
# Runs each benchmark given (a program, or a command line in one argument),
# shows what it prints as it runs, then prints one table of every result it
# reported: name, median, unit, reference, ratio (tests/bench/README.md).
#
#   tests/bench/run.sh build/bench/bench_e2e "build/bench/bench_frame 200"
#
# A result is a line "BENCH<TAB>name<TAB>median<TAB>unit<TAB>reference<TAB>ratio"
# on the benchmark's standard output ("-" for no reference or ratio). A
# benchmark that prints none gets a row "? see above". Exits 1 when a benchmark
# failed (its row says so too), after running the others.
set -u -o pipefail

# the machine's load (runnable processes, 1-minute average) before and after:
# on a busy machine even the ratios move
load() { cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo '?'; }
load_before=$(load)
rows=$(mktemp)
out=$(mktemp)
trap 'rm -f "$rows" "$out"' EXIT
failed=0

for b in "$@"; do
    name=$(basename "${b%% *}")
    echo "== $b"
    # the results go to the table; everything else is shown as it comes
    if ! $b 2>&1 | tee "$out" | sed -u '/^BENCH	/d'; then
        failed=1
        printf '%s\tFAILED\t-\t-\t-\n' "$name" >>"$rows"
        continue
    fi
    if grep -q '^BENCH	' "$out"; then
        grep '^BENCH	' "$out" | cut -f2- >>"$rows"
    else
        printf '%s\t?\tsee above\t-\t-\n' "$name" >>"$rows"
    fi
done

echo
awk -F'\t' '
    BEGIN { f = "%-26s %12s  %-10s %18s %8s\n"
            printf f, "benchmark", "median", "unit", "reference", "ratio"
            printf f, "---------", "------", "----", "---------", "-----" }
    { printf "%-26s %12s  %-10s %18s %8s\n", $1, $2, $3, $4, $5 }
    END { print "ratio = median / reference, both measured in the same run: compare ratios"
          print "across machines, numbers only on one machine (tests/bench/README.md)" }
' "$rows"
echo "load average (1 min) at the start $load_before, at the end $(load), on $(nproc 2>/dev/null || echo '?') CPUs"
exit $failed
