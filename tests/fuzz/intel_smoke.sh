#!/usr/bin/env bash
# A short libFuzzer run of each threat-intel feed parser target (list, csv, otx, misp, stix and
# the STIX pattern extractor), as part of ctest when clang with libFuzzer is installed (exit 77 =
# skipped otherwise). The parsers' sources are compiled here once, instrumented, and linked into
# each target, so this does not need the separate instrumented build of scripts/fuzz.
# Seeds: small documents of each format written below, plus the corpora's real feed files when
# the corpora are present (RIPOSTE_CORPORA, else ../shared/corpora next to the source tree).
#
#   tests/fuzz/intel_smoke.sh CLANGXX SOURCE_DIR WORK_DIR SECONDS
set -uo pipefail
cxx=$1 src=$2 work=$3 seconds=${4:-5}
corpora=${RIPOSTE_CORPORA:-"$src/../shared/corpora"}
mkdir -p "$work/obj"
probe="$work/probe.cc"
echo 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }' >"$probe"
if ! "$cxx" -fsanitize=fuzzer "$probe" -o "$work/probe" 2>"$work/probe.log"; then
  echo "skipped: $cxx cannot link libFuzzer (see $work/probe.log)"
  exit 77
fi
flags=(-std=c++20 -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined
  -fno-sanitize-recover=undefined -I "$src/include" -I "$src/src" -I "$src/tests")
objs=()
for s in "$src"/src/intel/feeds/*.cc "$src/src/intel/indicator.cc" "$src/src/core/status.cc" \
  "$src/src/core/time.cc" "$src/src/core/ip.cc"; do
  o="$work/obj/$(basename "$(dirname "$s")")_$(basename "$s" .cc).o"
  if [ ! -f "$o" ] || [ "$s" -nt "$o" ]; then
    if ! "$cxx" "${flags[@]}" -c "$s" -o "$o" 2>"$o.log"; then
      echo "!! $s does not build:"; tail -20 "$o.log"; exit 1
    fi
  fi
  objs+=("$o")
done

seeds() {
  local t=$1 dir=$2
  mkdir -p "$dir"
  case $t in
  intel_list_fuzz)
    printf '# Spamhaus DROP\n1.10.16.0/20 ; SBL256894\n0.0.0.0 evil.example\n2001:db8::1\n' >"$dir/s1"
    for f in "$corpora"/blocklists/firehol/spamhaus_drop.netset "$corpora"/blocklists/*/*.txt; do
      [ -f "$f" ] && head -c 16384 "$f" >"$dir/c-$(basename "$f")"
    done ;;
  intel_csv_fuzz)
    printf '# first_seen_utc,dst_ip,dst_port\n"2021-01-17 07:30:05","67.213.75.205","443"\n' >"$dir/s1"
    for f in "$corpora"/blocklists/*/*.csv; do [ -f "$f" ] && head -c 16384 "$f" >"$dir/c-$(basename "$f")"; done ;;
  intel_otx_fuzz)
    printf '%s' '{"results":[{"id":"64d31e8a5133613a90976b3f","modified":"2023-08-09T05:05:14.946000","tlp":"green","tags":["x"],"indicators":[{"id":1,"indicator":"198.51.100.98","type":"IPv4","expiration":"2023-09-07T00:00:00","is_active":1},{"id":2,"indicator":"bad.example.top","type":"domain","expiration":null,"is_active":0}]}],"next":null}' >"$dir/s1"
    printf '%s' '{"results":[{"id":9751110,"indicator":"90421f8531f963d81cf54245b72cde80","type":"FileHash-MD5","title":"t","description":"","content":""}],"next":"https://otx.example/page=2"}' >"$dir/s2"
    # Found by this test: an id beyond any integer (its conversion was undefined).
    printf '%s' '{"results":[{"id":975E110,"indicator":"90421f4245b72cde80","type":"FileHash-MD5","title":"t","description":"","content":""}],"next":"https://otx.example/page=2"}' >"$dir/s3" ;;
  intel_misp_fuzz)
    printf '%s' '{"response":{"Attribute":[{"type":"ip-dst","value":"203.0.113.0/24","to_ids":true,"deleted":false,"timestamp":"1617056037","Event":{"uuid":"8cca9f2f-9281-49fd-9b30-e16a8dbf6855"},"Tag":[{"name":"tlp:green"}]},{"type":"domain|ip","value":"evil.example|198.51.100.7","to_ids":true}]}}' >"$dir/s1"
    for f in "$corpora"/misp/pymisp/*.json "$corpora"/misp/misp-3.x-test-feeds/misp/*.json; do
      [ -f "$f" ] && head -c 16384 "$f" >"$dir/c-$(basename "$f")"
    done ;;
  intel_stix_fuzz)
    printf '%s' '{"type":"bundle","id":"bundle--1","objects":[{"type":"indicator","spec_version":"2.1","id":"indicator--6770298f-0fd8-471a-ab8c-1c658a46574e","created":"2016-04-06T20:03:48.000Z","modified":"2016-04-06T20:03:48.000Z","pattern":"[url:value = '"'"'http://x4z9arb.cn/4712'"'"'] OR [ipv4-addr:value ISSUBSET '"'"'198.51.100.0/24'"'"']","pattern_type":"stix","valid_from":"2016-01-01T00:00:00Z","confidence":80}]}' >"$dir/s1"
    for f in "$corpora"/stix-taxii/*/*.json; do [ -f "$f" ] && head -c 16384 "$f" >"$dir/c-$(basename "$f")"; done ;;
  stix_pattern_fuzz)
    printf '%s' "[ipv4-addr:value = '198.51.100.1' OR domain-name:value LIKE '%.evil.example']" >"$dir/s1"
    printf '%s' "[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f' AND file:name MATCHES '^x']" >"$dir/s2"
    printf '%s' "[network-traffic:dst_ref.value IN ('203.0.113.5', '2001:db8::/32')]" >"$dir/s3" ;;
  esac
}

[ -d "$corpora" ] || echo "note: corpora absent at $corpora: built-in seeds only"
status=0
for t in intel_list_fuzz intel_csv_fuzz intel_otx_fuzz intel_misp_fuzz intel_stix_fuzz stix_pattern_fuzz; do
  if ! "$cxx" "${flags[@]/fuzzer-no-link/fuzzer}" "$src/tests/fuzz/$t.cc" "${objs[@]}" -lsimdjson \
    -o "$work/$t" 2>"$work/$t.build.log"; then
    echo "!! $t does not build:"; tail -20 "$work/$t.build.log"; status=1; continue
  fi
  corpus="$work/corpus-$t"
  seeds "$t" "$corpus"
  if ! "$work/$t" -max_total_time="$seconds" -max_len=16384 -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$work/crash-$t-" "$corpus" 2>"$work/$t.log"; then
    echo "!! $t found a problem:"; tail -40 "$work/$t.log"; status=1
  else
    echo "$t: $(grep -E '^Done|stat::number_of_executed_units' "$work/$t.log" | tail -1)"
  fi
done
exit $status
