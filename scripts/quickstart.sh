#!/usr/bin/env bash
# The main job: installs what is missing, builds, starts the project's private PostgreSQL
# cluster (var/pg), applies the migrations, creates and opens the bundled wave `kr-2025`, and
# starts surveyd on https://localhost:8443 with a self-signed certificate (var/tls), then prints
# the wave's status and one invitation link. Safe to run again: what exists is kept.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
wave=${SURVEY_WAVE:-kr-2025}
port=${SURVEY_PG_PORT:-54329}
pgdir=$top/var/pg

bash scripts/deps.sh

echo "== build" >&2
cmake -S "$top" -B "$top/build/release" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$top/build/release" -j "$(nproc 2>/dev/null || echo 2)" >/dev/null
admin=$top/build/release/admin-cli/survey-admin
surveyd=$top/build/release/daemon/surveyd
listen=${SURVEY_LISTEN:-127.0.0.1:8443}

echo "== database (private cluster in var/pg, port $port, Unix socket only)" >&2
bash scripts/pgcluster.sh start "$pgdir" "$port"
sock=$(cat "$pgdir/socket_dir")
db="host=$sock port=$port user=postgres dbname=survey"
if ! psql -X -q -d "host=$sock port=$port user=postgres dbname=postgres" -tAc \
    "SELECT 1 FROM pg_database WHERE datname = 'survey'" | grep -q 1; then
    psql -X -q -d "host=$sock port=$port user=postgres dbname=postgres" -c "CREATE DATABASE survey"
fi
"$admin" migrate --db "$db"

echo "== wave $wave" >&2
status=$("$admin" wave status "$wave" --json --db "$db" 2>/dev/null | sed -n 's/.*"status": *"\([a-z]*\)".*/\1/p' || true)
if [[ -z $status ]]; then
    "$admin" wave create "$wave" --db "$db" \
        --questionnaire questionnaire/definitions/genai-adoption-2025.json \
        --access invite --margins deploy/margins-kr-2025.json \
        --about deploy/about-kr-2025.json
    status=draft
fi
if [[ $status == draft ]]; then
    "$admin" wave open "$wave" --db "$db"
fi

echo "== surveyd on https://${listen/127.0.0.1/localhost}" >&2
mkdir -p var/tls var/run
if [[ ! -f var/tls/cert.pem ]]; then
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 365 \
        -keyout var/tls/key.pem -out var/tls/cert.pem -subj /CN=localhost \
        -addext subjectAltName=DNS:localhost,IP:127.0.0.1 2>/dev/null
    chmod 0600 var/tls/key.pem
fi
# The daemon's own login role: it may only run the submission function and read waves.
psql -X -q -d "$db" -c "DO \$\$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'surveyd') THEN
        CREATE ROLE surveyd LOGIN IN ROLE survey_daemon;
    END IF; END \$\$"
if [[ -f var/run/surveyd.pid ]] && kill -0 "$(cat var/run/surveyd.pid)" 2>/dev/null; then
    kill -TERM "$(cat var/run/surveyd.pid)"
    while kill -0 "$(cat var/run/surveyd.pid)" 2>/dev/null; do sleep 0.1; done
fi
nohup "$surveyd" --cert var/tls/cert.pem --key var/tls/key.pem --listen "$listen" \
    --db "host=$sock port=$port user=surveyd dbname=survey" >>var/run/surveyd.log 2>&1 &
echo $! >var/run/surveyd.pid
for _ in $(seq 1 100); do
    if curl -sfk "https://$listen/readyz" >/dev/null 2>&1; then
        break
    fi
    sleep 0.1
done
curl -sfk "https://$listen/readyz" >/dev/null || { tail -n 20 var/run/surveyd.log >&2; echo "surveyd did not become ready" >&2; exit 1; }

"$admin" wave status "$wave" --db "$db"
base="https://${listen/127.0.0.1/localhost}"
cat >&2 <<EOT

surveyd is serving $base (log: var/run/surveyd.log, pid: var/run/surveyd.pid).
The database is up: survey-admin --db "$db" ...
Stop both with: kill \$(cat var/run/surveyd.pid); bash scripts/pgcluster.sh stop $pgdir
EOT
if [[ $status == closed ]]; then
    echo "The wave $wave is closed: its form at $base/s/$wave says so." >&2
    exit 0
fi
# A fresh one-time invitation (the token is shown once; only its hash is stored): the form's
# URL is the last line, for a browser (the certificate is self-signed: accept it once).
url=$("$admin" invite "$wave" --count 1 --base-url "$base" --db "$db" | tr -d '\r' | sed -n '2s/^[^,]*,//p')
[[ -n $url ]] || { echo "could not issue an invitation" >&2; exit 1; }
echo "== the respondent's form, with a fresh invitation link:" >&2
echo "$url"
