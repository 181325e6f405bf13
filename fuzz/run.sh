#!/usr/bin/env bash
# Runs mssd's fuzz targets with cargo fuzz (libFuzzer, coverage-guided).
#
#   fuzz/run.sh smoke              every target for 20 s (./test.sh runs this)
#   fuzz/run.sh long [SECONDS]     every target for SECONDS (default 600), one after the other
#   fuzz/run.sh one TARGET SECONDS
#
# Bounds, for every run: an input taking over 10 s is a hang, a process over 1 GiB RSS or a
# single allocation over 256 MiB is a failure. New inputs go to fuzz/corpus-run/TARGET (not
# committed); the seeds in fuzz/corpus/TARGET are only read. Each run prints libFuzzer's
# final stats (executions, exec/s) and a summary line.
set -euo pipefail
cd "$(dirname "$0")"

TARGETS=(smtp_session imap_session_prelogin imap_session_postlogin mime_walkers threads imap_names trust_list
         extraction_lines dn sasl jwt xdm_archive cda_document)
BOUNDS=(-timeout=10 -rss_limit_mb=1024 -malloc_limit_mb=256 -print_final_stats=1)

if ! command -v cargo-fuzz >/dev/null 2>&1; then
  echo "fuzz/run.sh: installing cargo-fuzz (cargo install cargo-fuzz --locked)" >&2
  cargo install cargo-fuzz --locked --quiet
fi
# libFuzzer instrumentation needs nightly flags: the nightly toolchain when installed, else
# the default toolchain with RUSTC_BOOTSTRAP (same compiler features, no download).
if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
  FUZZ=(cargo +nightly fuzz)
else
  echo "fuzz/run.sh: no nightly toolchain; using the default one with RUSTC_BOOTSTRAP=1" >&2
  export RUSTC_BOOTSTRAP=1
  FUZZ=(cargo fuzz)
fi

build() {
  "${FUZZ[@]}" build --sanitizer none --release
}

run_one() {
  local target=$1 seconds=$2
  mkdir -p "corpus-run/$target" artifacts
  local log="target/logs/$target.$seconds.log"
  mkdir -p target/logs
  if ! "${FUZZ[@]}" run --sanitizer none --release "$target" "corpus-run/$target" "corpus/$target" -- \
      "${BOUNDS[@]}" -max_total_time="$seconds" -artifact_prefix="artifacts/$target-" >"$log" 2>&1; then
    tail -40 "$log" >&2
    echo "fuzz: $target FAILED (see fuzz/$log and fuzz/artifacts/)" >&2
    return 1
  fi
  local execs rate
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
  rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
  echo "fuzz: $target ok: ${seconds}s, $execs executions, $rate exec/s"
}

mode=${1:-smoke}
case $mode in
  smoke)
    build
    failed=0
    for t in "${TARGETS[@]}"; do run_one "$t" 20 || failed=$((failed + 1)); done
    echo "fuzz: $(( ${#TARGETS[@]} - failed )) passed, $failed failed"
    exit $((failed > 0))
    ;;
  long)
    build
    for t in "${TARGETS[@]}"; do run_one "$t" "${2:-600}"; done
    ;;
  one)
    build
    run_one "$2" "$3"
    ;;
  *)
    echo "usage: fuzz/run.sh smoke | long [SECONDS] | one TARGET SECONDS" >&2
    exit 2
    ;;
esac
