#!/usr/bin/env bash
# Detection rate and false positives per attack kind, on the seeded generator's two-day
# workload: `riposte replay` with the bundled short-window rules only, then with the rules and
# the long-term detector (`type: longterm`), over the same sshd auth log; and the long-term
# detector over the generated EVE flows (beaconing; the rules have nothing for it).
#
# CrowdSec and fail2ban on the same log: bench/peers/compare_auth.sh.
#
# Usage: bench/behavior_eval.sh [SEEDS] [BUILD_DIR]   (SEEDS: one seed or several, "1,2,3")
set -euo pipefail
seeds=${1:-1}
build=${2:-build}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for seed in ${seeds//,/ }; do
rm -rf "${tmp:?}"/*

"$build/riposte-gen" --seed "$seed" --days 2 --out "$tmp" >&2
cat > "$tmp/rules.yaml" <<'YAML'
detectors:
  - {name: rules, type: rules, paths: ["@bundled"]}
YAML
cat > "$tmp/both.yaml" <<'YAML'
detectors:
  - {name: rules, type: rules, paths: ["@bundled"]}
  - {name: longterm, type: longterm}
YAML
"$build/riposte" replay --config "$tmp/rules.yaml" --year 2025 --db "$tmp/rules.db" \
  "$tmp/auth.log" > "$tmp/rules.out" 2> "$tmp/rules.err"
"$build/riposte" replay --config "$tmp/both.yaml" --year 2025 --db "$tmp/both.db" \
  "$tmp/auth.log" > "$tmp/both.out" 2> "$tmp/both.err"
"$build/riposte" replay --config "$tmp/both.yaml" --db "$tmp/flows.db" \
  "$tmp/flows.ndjson" > "$tmp/flows.out" 2> "$tmp/flows.err"
{ cat "$tmp/rules.err"; cat "$tmp/both.err"; cat "$tmp/flows.err"; } | grep '^replay:' >&2

python3 - "$tmp" "$seed" <<'PY'
import json, sys
tmp, seed = sys.argv[1], sys.argv[2]
truth = json.load(open(f"{tmp}/truth.json"))

def targets(name):
    out = set()
    for line in open(f"{tmp}/{name}.out"):
        if line.strip():
            out.add(json.loads(line)["target"])
    return out

rules, both, flows = targets("rules"), targets("both"), targets("flows")
kinds = [("fast_bruteforce", "fast brute force"), ("slow_bruteforce", "slow brute force (2 days)"),
         ("distributed_bruteforce", "distributed brute force (sources)"), ("scanner", "scanners")]
print(f"seed {seed}: {len(open(f'{tmp}/auth.log').readlines())} auth lines, "
      f"{len(open(f'{tmp}/flows.ndjson').readlines())} flow records")
print(f"| attack kind | attackers | rules only | rules + longterm |")
print(f"| --- | --- | --- | --- |")
for key, label in kinds:
    ips = set(truth[key])
    print(f"| {label} | {len(ips)} | {len(ips & rules)} | {len(ips & both)} |")
acct = truth["distributed_account"]
print(f"| distributed brute force (account `{acct}` alerted) | 1 | {int(acct in rules)} | {int(acct in both)} |")
beacons = set(truth["beaconing"])
print(f"| beaconing hosts (EVE flows) | {len(beacons)} | - | {len(beacons & flows)} |")
benign = set(truth["benign"])
attackers = set().union(*(set(truth[k]) for k, _ in kinds)) | {acct}
fp_rules = sorted(rules - attackers)
fp_both = sorted(both - attackers)
fp_flows = sorted(flows - beacons)
print(f"| false positives (auth: {len(benign)} benign addresses) | - | {len(fp_rules)} {fp_rules or ''} | {len(fp_both)} {fp_both or ''} |")
print(f"| false positives (flows: {len(truth['benign_flow_hosts'])} benign hosts) | - | - | {len(fp_flows)} {fp_flows or ''} |")
lines = open(f"{tmp}/auth.log").readlines()
for ip in sorted(set(truth["scanner"]) - both):
    mine = [l for l in lines if f"{ip} port" in l]
    print(f"scanner {ip} missed: {len(mine)} probe(s) in {len({l[:9] for l in mine})} clock hour(s)")
PY
done
