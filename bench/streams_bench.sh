#!/usr/bin/env bash
# Distributed pipeline on loopback against one node, on the same input and machine:
#   one node:    `riposte replay` of an sshd log (the rules of the bundled ruleset)
#   distributed: `riposte serve --role ingest` tailing the same log into Redis Streams and one
#                `riposte serve --role analyze` worker consuming them (4 partitions)
# Reports wall time and CPU time per event of each (user + system of every process involved,
# redis-server included), and the overhead per event of the distributed form. The machine has
# 2 cores, so the point is the cost per event, not a speed-up.
# Usage: bench/streams_bench.sh [LINES] [BUILD_DIR]
set -euo pipefail
n=${1:-200000}
build=${2:-build}
riposte="$(cd "$build" && pwd)/riposte"
tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
redis-server --port "$port" --save '' --appendonly no --dir "$tmp" > "$tmp/redis.log" 2>&1 &
redis_pid=$!
pids+=("$redis_pid")
for _ in $(seq 1 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done

# n sshd lines: 20,000 addresses, failures and successes, time moving forward.
python3 - "$n" > "$tmp/input.log" <<'PY'
import sys
n = int(sys.argv[1])
out = []
for i in range(n):
    s = i // 50
    ts = "Mar  3 %02d:%02d:%02d" % (10 + (s // 3600) % 12, (s // 60) % 60, s % 60)
    ip = "10.%d.%d.%d" % ((i * 7919) % 20000 // 65536, (i * 7919) % 20000 // 256 % 256, (i * 7919) % 256)
    if i % 10 == 0:
        out.append(f"{ts} web1 sshd[{1000 + i % 5000}]: Accepted password for alice from {ip} port {40000 + i % 20000} ssh2")
    else:
        out.append(f"{ts} web1 sshd[{1000 + i % 5000}]: Failed password for root from {ip} port {40000 + i % 20000} ssh2")
print("\n".join(out))
PY

cpu_of() {  # user+system seconds of a pid (clock ticks / CLK_TCK)
  awk -v t="$(getconf CLK_TCK)" '{print ($14 + $15) / t}' "/proc/$1/stat"
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "input: $n sshd lines"

# One node.
cat > "$tmp/one.yaml" <<YAML
store:
  path: $tmp/one.db
detectors:
  - name: rules
    type: rules
    paths: ["@bundled"]
YAML
read -r one_wall one_cpu < <(python3 - "$riposte" "$tmp" <<'PY'
import resource, subprocess, sys, time
riposte, tmp = sys.argv[1], sys.argv[2]
t0 = time.monotonic()
subprocess.run([riposte, "replay", "--config", f"{tmp}/one.yaml", "--type", "sshd", "--year", "2025",
                "--db", f"{tmp}/one.db", f"{tmp}/input.log"], stdout=subprocess.DEVNULL,
               stderr=open(f"{tmp}/one.err", "w"), check=True)
wall = time.monotonic() - t0
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
print(wall, ru.ru_utime + ru.ru_stime)
PY
)

# Distributed: ingest + one worker.
for node in in w1; do
  cat > "$tmp/$node.yaml" <<YAML
engine:
  log_level: warn
store:
  path: $tmp/$node.db
sources:
  - name: auth
    type: file
    path: $tmp/auth.log
    parser: sshd
    start_at: beginning
    year: 2025
detectors:
  - name: rules
    type: rules
    paths: ["@bundled"]
cluster:
  redis: redis://127.0.0.1:$port
  node: $node
  streams:
    partitions: 4
    lease: 2s
YAML
done
: > "$tmp/auth.log"
"$riposte" serve --config "$tmp/w1.yaml" --role analyze 2> "$tmp/w1.err" &
w1=$!; pids+=("$w1")
"$riposte" serve --config "$tmp/in.yaml" --role ingest 2> "$tmp/in.err" &
in=$!; pids+=("$in")
sleep 2
cpu0_in=$(cpu_of "$in"); cpu0_w1=$(cpu_of "$w1"); cpu0_r=$(cpu_of "$redis_pid")
consumed() {
  local total=0 p len lag pending
  for p in 0 1 2 3; do
    len=$(redis-cli -p "$port" xlen "riposte:events:$p")
    total=$((total + len))
    read -r pending lag < <(redis-cli -p "$port" xinfo groups "riposte:events:$p" 2>/dev/null |
      awk 'prev=="pending"{p=$0} prev=="lag"{l=$0} {prev=$0} END{print (p==""?1:p), (l==""?1:l)}')
    [ "$pending" = "0" ] && [ "$lag" = "0" ] || return 1
  done
  [ "$total" -eq "$n" ]
}
start=$(date +%s.%N)
cat "$tmp/input.log" >> "$tmp/auth.log"
until consumed; do sleep 0.05; done
end=$(date +%s.%N)
python3 - "$n" "$one_wall" "$one_cpu" "$start" "$end" "$cpu0_in" "$(cpu_of "$in")" "$cpu0_w1" \
  "$(cpu_of "$w1")" "$cpu0_r" "$(cpu_of "$redis_pid")" <<'PY'
import sys
n, one_wall, one_cpu, start, end, i0, i1, w0, w1, r0, r1 = map(float, sys.argv[1:])
wall = end - start
ci, cw, cr = i1 - i0, w1 - w0, r1 - r0
cpu = ci + cw + cr
print(f"one node (replay):  {one_wall:.2f} s wall, {one_cpu:.2f} s CPU, {n / one_wall:,.0f} lines/s, "
      f"{one_cpu * 1e6 / n:.2f} us CPU/line")
print(f"distributed:        {wall:.2f} s wall, {cpu:.2f} s CPU (ingest {ci:.2f}, worker {cw:.2f}, "
      f"redis {cr:.2f}), {n / wall:,.0f} lines/s, {cpu * 1e6 / n:.2f} us CPU/line")
print(f"overhead of the streams: {(cpu - one_cpu) * 1e6 / n:.2f} us CPU per line "
      f"({cpu / one_cpu:.1f}x the one-node cost)")
PY
