#!/usr/bin/env bash
# Installs the peer tools bench/peers/compare_auth.sh runs beside Riposte: Debian bookworm's
# crowdsec (1.4.6) and fail2ban, offline. Run by `scripts/setup --peers`; idempotent.
#  - No service is started (nor enabled at boot on a systemd host): a policy-rc.d denying starts is in place during the install
#    (only if none exists already), so fail2ban's sshd jail never touches this machine.
#  - CrowdSec's postinst registers with its central API unless
#    /etc/crowdsec/online_api_credentials.yaml is non-empty; it is pre-created (a comment), which
#    the postinst documents as the way to disable that registration. The comparison uses its own
#    configuration in a temporary directory and never the one in /etc.
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
if installed crowdsec && installed fail2ban; then
  echo "setup: peers present ($(crowdsec -version 2>&1 | sed -n 's/.*version: //p'), fail2ban $(fail2ban-client --version 2>&1 | head -1))"
  exit 0
fi

new=()
for p in crowdsec fail2ban; do installed "$p" || new+=("$p"); done

policy=/usr/sbin/policy-rc.d
own_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
  $SUDO chmod +x "$policy"
  own_policy=1
fi
cleanup() { if [ "$own_policy" = 1 ]; then $SUDO rm -f "$policy"; fi; }
trap cleanup EXIT

capi=/etc/crowdsec/online_api_credentials.yaml
if [ ! -s "$capi" ]; then
  $SUDO mkdir -p /etc/crowdsec
  echo "# central API registration disabled (offline install, bench/peers/install.sh)" |
    $SUDO tee "$capi" >/dev/null
fi

export DEBIAN_FRONTEND=noninteractive
echo "setup: installing crowdsec fail2ban (services not started)"
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends crowdsec fail2ban
# A half-configured crowdsec (an earlier install whose postinst tried to register online).
$SUDO dpkg --configure -a
# Nor started at the next boot (only the packages installed here; an existing one is left alone).
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  $SUDO systemctl disable "${new[@]}" >/dev/null 2>&1 || true
fi
