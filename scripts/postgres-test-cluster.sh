#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for gleaner's tests: no containers, no
# system service, nothing outside one temporary folder.
#
#   eval "$(scripts/postgres-test-cluster.sh start)"   # exports GLEANER_TEST_POSTGRES
#   scripts/postgres-test-cluster.sh stop "$GLEANER_TEST_POSTGRES_DIR"
#
# `start` installs Debian's postgresql when initdb/pg_ctl are missing (root
# only), runs initdb in a fresh mktemp folder as an unprivileged user (the
# postgres user of Debian's package, or one made here), and starts the
# server on a Unix socket in that folder and on a free 127.0.0.1 port. The
# role `gleaner` (password-checked over TCP, CREATEDB: each test makes its
# own database) is what the tests connect as. The database gleaner_tls
# takes TLS connections only, with a certificate from a throwaway CA. It
# prints shell `export` lines: the URL (password in it), the folder to stop
# and the CA's certificate.
set -euo pipefail

find_bin() {
    local name=$1 dir
    if command -v "$name" >/dev/null 2>&1; then
        command -v "$name"
        return
    fi
    for dir in /usr/lib/postgresql/*/bin; do
        if [ -x "$dir/$name" ]; then
            echo "$dir/$name"
            return
        fi
    done
    return 1
}

as_owner() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u "$OWNER" -- "$@"
    else
        "$@"
    fi
}

start() {
    if ! find_bin initdb >/dev/null || ! find_bin pg_ctl >/dev/null; then
        if [ "$(id -u)" != 0 ]; then
            echo "PostgreSQL's initdb/pg_ctl are missing: install Debian's postgresql package" >&2
            exit 1
        fi
        echo "installing PostgreSQL from Debian's packages" >&2
        apt-get update -qq >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
    fi
    if ! command -v openssl >/dev/null; then
        if [ "$(id -u)" != 0 ]; then
            echo "openssl is missing (for the test cluster's TLS certificates): install Debian's openssl package" >&2
            exit 1
        fi
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssl >&2
    fi
    local initdb pg_ctl psql
    initdb=$(find_bin initdb)
    pg_ctl=$(find_bin pg_ctl)
    psql=$(find_bin psql)

    # initdb refuses root: run the cluster as an unprivileged user.
    OWNER=$(id -un)
    if [ "$(id -u)" = 0 ]; then
        OWNER=postgres
        if ! id -u "$OWNER" >/dev/null 2>&1; then
            OWNER=gleaner-ci
            id -u "$OWNER" >/dev/null 2>&1 || useradd --system --no-create-home "$OWNER"
        fi
    fi

    local dir port password
    dir=$(mktemp -d "${TMPDIR:-/tmp}/gleaner-pg.XXXXXX")
    chmod 700 "$dir"
    [ "$(id -u)" = 0 ] && chown "$OWNER" "$dir"
    # A free loopback port: the kernel picks one, we release it for postgres.
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    password=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')

    as_owner "$initdb" --pgdata="$dir/data" --auth-local=trust --auth-host=scram-sha-256 \
        --username=postgres --encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || {
        cat "$dir/initdb.log" >&2
        exit 1
    }
    # TLS: a throwaway CA and a server certificate for 127.0.0.1/localhost
    # signed by it. The database gleaner_tls takes TLS connections only
    # (pg_hba: the first matching line wins), so a test that reaches it
    # proves the client encrypted and checked the certificate against ca.pem.
    mkdir "$dir/tls"
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=gleaner test CA" \
        -keyout "$dir/tls/ca.key" -out "$dir/tls/ca.pem" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
        -keyout "$dir/tls/server.key" -out "$dir/tls/server.csr" 2>/dev/null
    printf 'subjectAltName = IP:127.0.0.1, DNS:localhost\nbasicConstraints = CA:FALSE\n' >"$dir/tls/ext"
    openssl x509 -req -in "$dir/tls/server.csr" -CA "$dir/tls/ca.pem" -CAkey "$dir/tls/ca.key" \
        -CAcreateserial -days 2 -extfile "$dir/tls/ext" -out "$dir/tls/server.pem" 2>/dev/null
    chmod 600 "$dir/tls/server.key"
    [ "$(id -u)" = 0 ] && chown -R "$OWNER" "$dir/tls"
    chmod 644 "$dir/tls/ca.pem"
    local hba="$dir/data/pg_hba.conf"
    {
        echo "hostnossl gleaner_tls all 127.0.0.1/32 reject"
        echo "hostssl   gleaner_tls all 127.0.0.1/32 scram-sha-256"
        cat "$hba"
    } >"$hba.new" && mv "$hba.new" "$hba"
    [ "$(id -u)" = 0 ] && chown "$OWNER" "$hba"

    # Throwaway data: durability off, so tests spend no time in fsync.
    cat >>"$dir/data/postgresql.conf" <<EOF
ssl = on
ssl_cert_file = '$dir/tls/server.pem'
ssl_key_file = '$dir/tls/server.key'
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
EOF
    as_owner "$pg_ctl" --pgdata="$dir/data" --log="$dir/server.log" --wait --timeout=60 start >&2 || {
        cat "$dir/server.log" >&2
        exit 1
    }
    as_owner "$psql" --quiet --no-psqlrc --host="$dir" --port="$port" --username=postgres \
        --dbname=postgres --set=ON_ERROR_STOP=1 \
        --command="CREATE ROLE gleaner LOGIN CREATEDB PASSWORD '$password'" \
        --command="CREATE DATABASE gleaner OWNER gleaner" \
        --command="CREATE DATABASE gleaner_tls OWNER gleaner" >&2

    echo "export GLEANER_TEST_POSTGRES='postgres://gleaner:$password@127.0.0.1:$port/gleaner'"
    echo "export GLEANER_TEST_POSTGRES_DIR='$dir'"
    echo "export GLEANER_TEST_POSTGRES_CA='$dir/tls/ca.pem'"
}

stop() {
    local dir=${1:?usage: $0 stop DIR}
    local pg_ctl
    pg_ctl=$(find_bin pg_ctl)
    OWNER=$(stat -c %U "$dir")
    if [ -d "$dir/data" ]; then
        as_owner "$pg_ctl" --pgdata="$dir/data" --mode=immediate --wait stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
}

case "${1:-}" in
start) start ;;
stop) stop "${2:-}" ;;
*)
    echo "usage: $0 start | stop DIR" >&2
    exit 2
    ;;
esac
