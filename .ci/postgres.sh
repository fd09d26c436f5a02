#!/usr/bin/env bash
# Installs and starts PostgreSQL for the store's tests and exports ATTUNE_TEST_POSTGRES.
# Sourced by .ci/run. Where PostgreSQL cannot be installed it says so, and those tests skip
# with a printed reason.
pg_setup() {
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  if ! command -v pg_ctlcluster >/dev/null 2>&1; then
    if ! { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq postgresql >/dev/null; }; then
      echo "PostgreSQL could not be installed: the store's PostgreSQL tests will skip"
      return 0
    fi
  fi
  local ver
  ver=$(ls /usr/lib/postgresql | sort -n | tail -1)
  pg_lsclusters -h | grep -q "^$ver main" || $sudo pg_createcluster "$ver" main >/dev/null
  $sudo pg_ctlcluster "$ver" main start 2>/dev/null || true
  for _ in $(seq 30); do
    $sudo su postgres -c "psql -qtAc 'SELECT 1'" >/dev/null 2>&1 && break
    sleep 1
  done
  $sudo su postgres -c "psql -qc \"CREATE ROLE attune LOGIN PASSWORD 'attune' SUPERUSER\"" 2>/dev/null || true
  $sudo su postgres -c "createdb -O attune attune_test" 2>/dev/null || true
  export ATTUNE_TEST_POSTGRES=postgres://attune:attune@127.0.0.1:5432/attune_test
  echo "PostgreSQL $ver at $ATTUNE_TEST_POSTGRES"
}
pg_setup
