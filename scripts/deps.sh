#!/usr/bin/env bash
# Installs the Debian 12 packages the project needs, and only those that are missing. Works as
# root or, through sudo, as another user. Used by quickstart.sh and test.sh.
set -euo pipefail

packages=(
    build-essential cmake pkg-config clang
    libevent-dev libssl-dev libcjson-dev libpq-dev
    postgresql-15 postgresql-client-15
    openssl ca-certificates curl
    # survey-admin export writes SPSS files with ReadStat; its tests read them back with the
    # readstat tool and R's haven.
    libreadstat-dev readstat r-cran-haven
    # Browser tests (index report, web form): headless Chromium driven over the DevTools
    # protocol from Python; Korean fonts so screenshots show Hangul.
    chromium fonts-noto-cjk python3 python3-websocket
    # Operations and attack tests: load balancer, pooler, slow-client and TLS scanners.
    haproxy pgbouncer slowhttptest testssl.sh
    # systemd-analyze checks the deploy unit (the tests never start systemd itself).
    systemd
    # High availability: a monitor and two nodes with pg_auto_failover.
    postgresql-15-auto-failover
)

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
if ((${#missing[@]} == 0)); then
    exit 0
fi

sudo=()
if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || { echo "deps.sh: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
    sudo=(sudo)
fi
echo "deps.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
