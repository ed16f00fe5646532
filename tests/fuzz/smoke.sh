#!/usr/bin/env bash
# A short libFuzzer run of the self-contained syslog targets, as part of ctest when clang with
# libFuzzer is installed (exit 77 = skipped otherwise). The targets are compiled here from the
# few sources they need, so this does not need the separate instrumented build of scripts/fuzz.
#
#   tests/fuzz/smoke.sh CLANGXX SOURCE_DIR WORK_DIR SECONDS
set -uo pipefail
cxx=$1 src=$2 work=$3 seconds=${4:-5}
mkdir -p "$work"
probe="$work/probe.cc"
echo 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }' >"$probe"
if ! "$cxx" -fsanitize=fuzzer "$probe" -o "$work/probe" 2>"$work/probe.log"; then
  echo "skipped: $cxx cannot link libFuzzer (see $work/probe.log)"
  exit 77
fi
common=("$src/src/ingest/syslog_framing.cc" "$src/src/ingest/syslog_header.cc"
  "$src/src/core/time.cc" "$src/src/core/status.cc")
status=0
for t in syslog_framing_fuzz syslog_header_fuzz; do
  if ! "$cxx" -std=c++20 -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined \
    -fno-sanitize-recover=undefined -I "$src/include" "$src/tests/fuzz/$t.cc" "${common[@]}" \
    -o "$work/$t" 2>"$work/$t.build.log"; then
    echo "!! $t does not build:"; tail -20 "$work/$t.build.log"; status=1; continue
  fi
  corpus="$work/corpus-$t"
  mkdir -p "$corpus"
  # Seeds: both framings, RFC 3164 and RFC 5424 headers.
  printf '%s' '<38>Feb 12 14:10:21 sd-126005 sshd[16378]: Invalid user pascal from 192.0.2.7 port 53502' >"$corpus/s1"
  printf '%s' '<13>1 2026-01-12T11:15:58.792703+00:00 host app 12 ID [a b="c\"]"] msg' >"$corpus/s2"
  printf '%s' 'AB12 <13>x y z: m<14>Jan  1 2024 00:00:00 h p: n
2026-01-12T11:15:58Z h sshd-session[1]: x' >"$corpus/s3"
  if ! "$work/$t" -max_total_time="$seconds" -max_len=4096 -timeout=10 -rss_limit_mb=1024 \
    -artifact_prefix="$work/crash-$t-" "$corpus" 2>"$work/$t.log"; then
    echo "!! $t found a problem:"; tail -40 "$work/$t.log"; status=1
  else
    echo "$t: $(grep -E '^Done|stat::number_of_executed_units' "$work/$t.log" | tail -1)"
  fi
done
exit $status
