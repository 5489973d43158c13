#!/usr/bin/env bash
# The main job: installs what is missing, builds, starts the project's private PostgreSQL
# cluster (var/pg), applies the migrations, and creates and opens the bundled wave `kr-2025`,
# then prints its status and one invitation link. Safe to run again: what exists is kept.
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
        --access invite --margins deploy/margins-kr-2025.json
    status=draft
fi
if [[ $status == draft ]]; then
    "$admin" wave open "$wave" --db "$db"
fi
"$admin" wave status "$wave" --db "$db"
if [[ $status != closed ]]; then
    echo "== one invitation link (the token is shown once; only its hash is stored)" >&2
    "$admin" invite "$wave" --count 1 --db "$db"
fi
cat >&2 <<EOT

The database is up: survey-admin --db "$db" ...
Stop it with: bash scripts/pgcluster.sh stop $pgdir
EOT
