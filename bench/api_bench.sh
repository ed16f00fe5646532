#!/usr/bin/env bash
# API throughput with wrk (Debian package): `GET /api/v1/decisions?limit=100` against a
# `riposte serve` whose store holds N active decisions (default 100,000), with a bearer token
# (each request authenticates: token hash lookup + user lookup, then the page query and its
# JSON). The peer measured in the same run is `GET /api/v1/health` (no authentication, no
# store), so the ratio shows what the decisions page costs over the bare HTTP path.
# Usage: bench/api_bench.sh [DECISIONS] [DURATION] [CONNECTIONS] [BUILD_DIR]
set -euo pipefail
n=${1:-100000}
duration=${2:-15s}
conns=${3:-32}
build=${4:-build}
riposte="$build/riposte"
command -v wrk >/dev/null || { echo "wrk is not installed (scripts/setup installs it)"; exit 1; }
tmp=$(mktemp -d)
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$tmp/riposte.yaml" <<YAML
engine:
  log_level: warn
store:
  path: $tmp/r.db
api:
  listen: 127.0.0.1:$port
  threads: 2
YAML
echo "bench password" | "$riposte" user add --config "$tmp/riposte.yaml" --role viewer bench >/dev/null
token=$("$riposte" token create --config "$tmp/riposte.yaml" --user bench 2>/dev/null)
# N active decisions, far from expiry, written straight into the store.
now_us=$(($(date +%s) * 1000000))
sqlite3 "$tmp/r.db" <<SQL
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $n)
INSERT INTO decisions(id, action, target_type, target, detector, reason, finding_id, events,
  first_seen, first_tz, last_seen, last_tz, created, expires, state, origin, updated)
SELECT printf('01BENCH%019d', i), 'block', 'ip',
  printf('10.%d.%d.%d', (i >> 16) & 255, (i >> 8) & 255, i & 255), 'ssh-bruteforce',
  printf('%d failed logins from 10.%d.%d.%d', 5 + i % 20, (i >> 16) & 255, (i >> 8) & 255, i & 255),
  printf('F%d', i), 5 + i % 20, $now_us - 60000000, 0, $now_us, 0, $now_us + i,
  $now_us + 86400000000, 'active', 'engine', $now_us
FROM n;
SQL
"$riposte" serve --config "$tmp/riposte.yaml" 2> "$tmp/serve.log" &
pid=$!
for _ in $(seq 1 200); do
  curl -sf "http://127.0.0.1:$port/api/v1/health" >/dev/null 2>&1 && break
  sleep 0.1
done
items=$(curl -sf -H "Authorization: Bearer $token" \
  "http://127.0.0.1:$port/api/v1/decisions?limit=100" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["items"]))')
echo "decisions in store: $n; items per page: $items; wrk: 2 threads, $conns connections, $duration"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
run() {
  local name=$1; shift
  local out
  out=$(wrk -t2 -c"$conns" -d"$duration" --latency "$@")
  local rps p99
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
  local p50
  p50=$(echo "$out" | awk '$1 == "50%" {print $2}')
  local errs
  errs=$(echo "$out" | awk '/Non-2xx/ {print $NF}')
  echo "$name: ${rps} requests/s, p50 ${p50}, p99 ${p99}${errs:+, non-2xx $errs}"
  eval "${name}_rps=$rps"
}
run decisions -H "Authorization: Bearer $token" "http://127.0.0.1:$port/api/v1/decisions?limit=100"
run health "http://127.0.0.1:$port/api/v1/health"
python3 -c "print('ratio decisions/health: %.2f' % ($decisions_rps / $health_rps))"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "riposte RSS: $(awk '/VmRSS/ {print $2, $3}' /proc/$pid/status)"
