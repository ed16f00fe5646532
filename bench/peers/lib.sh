# Shared by the peer scripts (sourced): checks that CrowdSec and fail2ban are installed, writes
# CrowdSec's offline configuration, and runs CrowdSec's time-machine replay of a log.
#
# peers_require           exits 77 when a peer or a hub item is missing ($hub: the CrowdSec hub)
# crowdsec_setup DIR      writes the offline configuration into DIR (sets $cs to DIR)
# crowdsec_replay LOG OUT replays LOG (syslog sshd lines) through CrowdSec with a fresh database,
#                         writes the banned addresses to OUT and CrowdSec's output to OUT.log
#                         (crowdsec_reset, the crowdsec command, crowdsec_bans)

peers_require() {
  for tool in crowdsec cscli fail2ban-regex; do
    if ! command -v "$tool" >/dev/null 2>&1; then
      echo "peers: $tool is not installed; run scripts/setup --peers" >&2
      exit 77
    fi
  done
  for f in parsers/s00-raw/crowdsecurity/syslog-logs.yaml parsers/s01-parse/crowdsecurity/sshd-logs.yaml \
    parsers/s02-enrich/crowdsecurity/dateparse-enrich.yaml scenarios/crowdsecurity/ssh-bf.yaml \
    scenarios/crowdsecurity/ssh-slow-bf.yaml; do
    if [ ! -f "$hub/$f" ]; then
      echo "peers: CrowdSec hub item $hub/$f missing (set CROWDSEC_HUB)" >&2
      exit 77
    fi
  done
  if [ ! -f /etc/fail2ban/filter.d/sshd.conf ]; then
    echo "peers: /etc/fail2ban/filter.d/sshd.conf missing; run scripts/setup --peers" >&2
    exit 77
  fi
}

crowdsec_setup() {
  cs=$1
mkdir -p "$cs"/parsers/s00-raw "$cs"/parsers/s01-parse "$cs"/parsers/s02-enrich "$cs"/scenarios \
  "$cs"/data "$cs"/hub
cp "$hub"/parsers/s00-raw/crowdsecurity/syslog-logs.yaml "$cs"/parsers/s00-raw/
cp "$hub"/parsers/s01-parse/crowdsecurity/sshd-logs.yaml "$cs"/parsers/s01-parse/
cp "$hub"/parsers/s02-enrich/crowdsecurity/dateparse-enrich.yaml "$cs"/parsers/s02-enrich/
for s in ssh-bf ssh-slow-bf; do
  python3 - "$hub/scenarios/crowdsecurity/$s.yaml" "$cs/scenarios/$s.yaml" <<'PY'
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
for d in docs:
    d["labels"] = {k: v for k, v in (d.get("labels") or {}).items() if not isinstance(v, (list, dict))}
yaml.safe_dump_all(docs, open(sys.argv[2], "w"), sort_keys=False)
PY
done
ln -s /etc/crowdsec/patterns "$cs/patterns"
echo '{"parsers":{},"scenarios":{},"postoverflows":{},"collections":{}}' > "$cs/hub/.index.json"
echo 'simulation: off' > "$cs/simulation.yaml"
cat > "$cs/profiles.yaml" <<'YAML'
name: default_ip_remediation
filters:
  - Alert.Remediation == true && Alert.GetScope() == "Ip"
decisions:
  - type: ban
    duration: 4h
on_success: break
YAML
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat > "$cs/config.yaml" <<YAML
common:
  daemonize: false
  log_media: stdout
  log_level: info
  working_dir: .
config_paths:
  config_dir: $cs/
  data_dir: $cs/data/
  simulation_path: $cs/simulation.yaml
  hub_dir: $cs/hub/
  index_path: $cs/hub/.index.json
crowdsec_service:
  parser_routines: 1
db_config:
  type: sqlite
  db_path: $cs/data/crowdsec.db
  use_wal: false
  log_level: warning
api:
  client:
    credentials_path: $cs/local_api_credentials.yaml
  server:
    log_level: warning
    listen_uri: 127.0.0.1:$port
    profiles_path: $cs/profiles.yaml
prometheus:
  enabled: false
YAML
}

crowdsec_reset() {  # a fresh database and machine credentials; OUT.cscli gets cscli's output
  rm -f "$cs"/data/crowdsec.db*
  cscli -c "$cs/config.yaml" machines add -a -f "$cs/local_api_credentials.yaml" > "$1.cscli" 2>&1
}

crowdsec_bans() {  # the banned addresses in CrowdSec's database, one per line
  python3 - "$cs/data/crowdsec.db" <<'PY'
import sqlite3, sys
for (ip,) in sqlite3.connect(sys.argv[1]).execute(
        "select distinct value from decisions where type = 'ban' and scope = 'Ip'"):
    print(ip)
PY
}

crowdsec_replay() {
  local log=$1 out=$2
  crowdsec_reset "$out"
  crowdsec -c "$cs/config.yaml" -dsn "file://$log" -type syslog -no-capi > "$out.log" 2>&1
  crowdsec_bans > "$out"
}
