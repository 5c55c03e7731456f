# Start a PostgreSQL server on loopback for the scheme-server tests and export
# XLBRIDGE_TEST_PG_URL. Meant to be *sourced* from .ci/run (it exports a variable):
#
#     . .ci/postgres.sh
#
# It installs Debian's postgresql if it is missing, starts the first cluster (creating one
# if there is none), and creates a user and database `xlbridge_test` with a password. Safe to
# source twice. Needs root (CI runs as root); only listens on 127.0.0.1 / ::1.

xlb_pg_setup() {
    local pg_user=xlbridge_test pg_db=xlbridge_test pg_password=xlbridge_test
    if ! command -v pg_lsclusters >/dev/null 2>&1 || ! ls /usr/lib/postgresql/*/bin/postgres \
            >/dev/null 2>&1; then
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq && apt-get install -y -qq postgresql >/dev/null || return 1
    fi
    local line ver cluster port status
    line=$(pg_lsclusters -h | head -n 1)
    if [ -z "$line" ]; then
        ver=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
        pg_createcluster "$ver" main >/dev/null || return 1
        line=$(pg_lsclusters -h | head -n 1)
    fi
    read -r ver cluster port status _ <<<"$line"
    if [ "$status" != "online" ]; then
        pg_ctlcluster "$ver" "$cluster" start || return 1
    fi
    # wait until it accepts connections (a few seconds at most)
    local i
    for i in $(seq 1 30); do
        if runuser -u postgres -- psql -p "$port" -Atqc 'select 1' >/dev/null 2>&1; then
            break
        fi
        sleep 0.5
    done
    runuser -u postgres -- psql -p "$port" -v ON_ERROR_STOP=1 -q <<SQL || return 1
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$pg_user') THEN
    CREATE ROLE $pg_user LOGIN PASSWORD '$pg_password';
  END IF;
END \$\$;
SQL
    local exists
    exists=$(runuser -u postgres -- psql -p "$port" -Atqc \
        "select 1 from pg_database where datname = '$pg_db'") || return 1
    if [ "$exists" != 1 ]; then
        runuser -u postgres -- createdb -p "$port" -O "$pg_user" "$pg_db" || return 1
    fi
    export XLBRIDGE_TEST_PG_URL="postgresql+psycopg://$pg_user:$pg_password@127.0.0.1:$port/$pg_db"
    echo "PostgreSQL $ver/$cluster on 127.0.0.1:$port; XLBRIDGE_TEST_PG_URL=$XLBRIDGE_TEST_PG_URL"
}

xlb_pg_setup
