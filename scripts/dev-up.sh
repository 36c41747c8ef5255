#!/usr/bin/env bash
# scripts/dev-up.sh ROOT BUILDDIR PG_BINDIR [DAEMON FLAGS...] — called by `scripts/dev up`.
#
# Starts (or reuses) a throwaway PostgreSQL in ROOT/.dev/pg (Unix socket only,
# no TCP), creates an admin and a service token (kept in ROOT/.dev/tokens and
# reused while they work), prints them with ready-to-paste curl commands for
# every endpoint, then runs the daemon in the foreground on it with the
# shipped plugins (BUILDDIR/plugins) installable by curl. DAEMON FLAGS go to
# streamspaced as they are (e.g. the --egress-connect-to and --egress-ca that
# scripts/webhook-sink prints).
set -euo pipefail

root=$(cd "$1" && pwd)
build=$(cd "$2" && pwd)
pgbin=$3
shift 3
listen=${SS_DEV_LISTEN:-127.0.0.1:8080}

dev=$root/.dev
pgdir=$dev/pg
data=$pgdir/data
db=streamspace
daemon=$build/daemon/streamspaced
plugins=$build/plugins

say() { printf '==> %s\n' "$*" >&2; }

[ -x "$daemon" ] || { echo "dev-up: $daemon is not built" >&2; exit 1; }

# Refuse before touching anything when the address is taken: most often a
# `scripts/dev up` already running, whose tokens must keep working.
lhost=${listen%:*}
lport=${listen##*:}
if [ "$lport" != 0 ] && (exec 3<>"/dev/tcp/$lhost/$lport") 2>/dev/null; then
	echo "dev-up: $listen is already in use (another \`scripts/dev up\`?): stop it, or pick" \
		"another address: SS_DEV_LISTEN=127.0.0.1:8081 scripts/dev up" >&2
	exit 1
fi
[ -x "$pgbin/initdb" ] || { echo "dev-up: no initdb in $pgbin" >&2; exit 1; }

# initdb and postgres refuse to run as root: use the postgres user then.
as_pg=()
mkdir -p "$pgdir" "$dev/installed"
if [ "$(id -u)" -eq 0 ]; then
	id postgres >/dev/null 2>&1 || { echo "dev-up: running as root needs a postgres user" >&2; exit 1; }
	chown postgres: "$pgdir"
	chmod 0755 "$dev" "$pgdir"
	as_pg=(runuser -u postgres --)
fi

if [ ! -f "$data/PG_VERSION" ]; then
	say "creating a PostgreSQL cluster in $data"
	"${as_pg[@]}" "$pgbin/initdb" -D "$data" -U postgres --auth=trust -E UTF8 --locale=C \
		--no-sync >"$pgdir/initdb.log" 2>&1 || { cat "$pgdir/initdb.log" >&2; exit 1; }
fi
if ! "${as_pg[@]}" "$pgbin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
	say "starting PostgreSQL (socket in $pgdir, no TCP)"
	"${as_pg[@]}" "$pgbin/pg_ctl" -D "$data" -l "$pgdir/postgres.log" -w -t 30 \
		-o "-k $pgdir -c listen_addresses=''" start >/dev/null
else
	say "reusing the running PostgreSQL in $data"
fi

psql=("$pgbin/psql")
[ -x "${psql[0]}" ] || psql=(psql)
conninfo="host=$pgdir dbname=$db user=postgres"
if [ "$("${psql[@]}" -X -A -t -h "$pgdir" -U postgres -d postgres \
	-c "SELECT 1 FROM pg_database WHERE datname = '$db'")" != 1 ]; then
	"${psql[@]}" -X -q -h "$pgdir" -U postgres -d postgres -c "CREATE DATABASE $db"
fi

# The tokens of the last run, while they still work (active in the database
# under their name: the table keeps only SHA-256 hashes); else new ones.
tokens=$dev/tokens
token_works() { # NAME TOKEN
	[ -n "$2" ] && [ "$("${psql[@]}" -X -A -t -h "$pgdir" -U postgres -d "$db" -v name="$1" \
		-v tok="$2" <<<"SELECT count(*) FROM api_tokens WHERE name = :'name' AND revoked_at IS NULL
		AND token_hash = encode(sha256(convert_to(:'tok', 'UTF8')), 'hex')" 2>/dev/null)" = 1 ]
}
new_token() { # NAME ROLE
	"$daemon" token revoke --name "$1" --database "$conninfo" >/dev/null 2>&1 || true
	"$daemon" token create --name "$1" --role "$2" --database "$conninfo"
}
token= service=
# shellcheck disable=SC1090
[ -f "$tokens" ] && . "$tokens"
if token_works dev-admin "$token" && token_works dev-service "$service"; then
	say "reusing the tokens in $tokens"
else
	say "creating the dev-admin and dev-service tokens (kept in $tokens)"
	token=$(new_token dev-admin admin)
	service=$(new_token dev-service service)
	(umask 077 && printf 'token=%s\nservice=%s\n' "$token" "$service" >"$tokens")
fi

# A repository of your own beside the shipped one: counter, a shipped plugin, as the
# releases 1.1.0 and 1.2.0 an author would publish with scripts/package-plugin, so the
# printed commands can install from a repository, upgrade and roll back.
repo=$dev/repo
if [ ! -f "$repo/catalog.json" ] || [ "$plugins/counter/counter.so" -nt "$repo/catalog.json" ]; then
	for v in 1.1.0 1.2.0; do
		python3 "$(dirname "$0")/package-plugin" "$plugins/counter" --version "$v" \
			--out "$repo" --catalog >/dev/null
	done
fi

base="http://$listen"
m="$base/api/plugins/marketplace"
cat <<EOT

StreamSpace development daemon
  database     $conninfo
  plugins      $plugins (installed copies in $dev/installed)
  listening    $base
  admin UI     $base/admin/ (log in with the admin token)
  admin token  $token
  service token (POST /api/events) $service

Paste these:
  export SS_TOKEN=$token SS_SERVICE=$service
  curl -s $m/catalog -H "Authorization: Bearer \$SS_TOKEN"
  curl -s "$m/catalog?q=log&category=utilities&type=extension&sort=popular" -H "Authorization: Bearer \$SS_TOKEN"
  curl -s -X POST $m/install/hello -H "Authorization: Bearer \$SS_TOKEN" -H 'Content-Type: application/json' -d '{"config": {"greeting": "hi"}}'
  curl -s $m/installed -H "Authorization: Bearer \$SS_TOKEN"
  curl -s $m/installed/hello -H "Authorization: Bearer \$SS_TOKEN"
  curl -s -X PUT $m/config/hello -H "Authorization: Bearer \$SS_TOKEN" -H 'Content-Type: application/json' -d '{"config": {"greeting": "hey"}}'
  curl -s -X POST $base/api/events -H "Authorization: Bearer \$SS_SERVICE" -H 'Content-Type: application/json' -d '{"type": "session.created", "data": {"id": "s1"}}'
  curl -s -X POST $m/disable/hello -H "Authorization: Bearer \$SS_TOKEN"
  curl -s -X POST $m/enable/hello -H "Authorization: Bearer \$SS_TOKEN"
  curl -s -X POST $m/rate/hello -H "Authorization: Bearer \$SS_TOKEN" -H 'Content-Type: application/json' -d '{"rating": 5, "review": "works"}'
  curl -s $m/ratings/hello -H "Authorization: Bearer \$SS_TOKEN"
  curl -s -X DELETE $m/uninstall/hello -H "Authorization: Bearer \$SS_TOKEN"
  curl -s $m/repositories -H "Authorization: Bearer \$SS_TOKEN"
  curl -s -X POST $m/repositories -H "Authorization: Bearer \$SS_TOKEN" -H 'Content-Type: application/json' -d '{"name": "mine", "url": "file://$repo"}'
  curl -s -X POST $m/sync -H "Authorization: Bearer \$SS_TOKEN"
  curl -s -X POST $m/install/counter -H "Authorization: Bearer \$SS_TOKEN" -H 'Content-Type: application/json' -d '{"version": "1.1.0"}'
  curl -s -X POST $m/install/counter -H "Authorization: Bearer \$SS_TOKEN" -H 'Content-Type: application/json' -d '{"version": "1.2.0"}'
  curl -s -X POST $m/rollback/counter -H "Authorization: Bearer \$SS_TOKEN"
  curl -s -X DELETE $m/uninstall/counter -H "Authorization: Bearer \$SS_TOKEN"
  curl -s $base/healthz; curl -s $base/metrics
  psql "$conninfo"    # the database itself: SELECT name, enabled FROM installed_plugins;

EOT

export STREAMSPACE_INSTALL_DIR=$dev/installed
exec "$daemon" --listen "$listen" --database "$conninfo" --plugin-dir "$plugins" "$@"
