#!/usr/bin/env bash
# Runs the whole test suite against a real PostgreSQL: Testcontainers when a Docker engine answers,
# otherwise a throwaway cluster started here from the local server binaries (installed when absent).
# Extra arguments go to `dotnet test` (e.g. --filter Get).
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/local-postgres.sh

if [ -z "${USERDATA_TEST_POSTGRES:-}" ] && ! docker info >/dev/null 2>&1; then
  data_dir=$(mktemp -d /tmp/userdataapi-test-pg.XXXXXX)
  trap 'stop_local_postgres "$data_dir"; rm -rf "$data_dir"' EXIT
  # A free port can be taken by another process before PostgreSQL binds it (a shared machine): try another.
  for attempt in 1 2 3; do
    port=$(free_port)
    start_local_postgres "$data_dir" "$port" "-c fsync=off -c synchronous_commit=off -c full_page_writes=off" && break
    [ "$attempt" -lt 3 ] || exit 1
    echo "retrying on another port" >&2
  done
  export USERDATA_TEST_POSTGRES="Host=127.0.0.1;Port=$port;Username=postgres;Database=postgres"
  echo "Test PostgreSQL: throwaway cluster on 127.0.0.1:$port"
fi

# The Swagger UI browser test drives Debian's headless Chromium.
if [ -z "${CHROMIUM:-}" ] && ! [ -x /usr/bin/chromium ]; then
  echo "Installing chromium for the browser test"
  apt_install chromium
fi

# install_without_service PKG: installs a Debian package whose tests run their own instance, keeping the package
# from starting its system-wide service (slapd on port 389, haproxy on 80) while it installs.
install_without_service() {
  local no_services=""
  if [ ! -e /usr/sbin/policy-rc.d ] && [ "$(id -u)" -eq 0 ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && no_services=yes
  fi
  apt_install "$1"
  local rc=$?
  [ -z "$no_services" ] || rm -f /usr/sbin/policy-rc.d
  return $rc
}

# The LDAP tests run a throwaway OpenLDAP server (Debian's slapd).
if ! [ -x /usr/sbin/slapd ]; then
  echo "Installing slapd for the LDAP tests"
  install_without_service slapd
fi

# The load-balancer test runs deploy/haproxy's configuration with Debian's HAProxy.
if ! [ -x /usr/sbin/haproxy ]; then
  echo "Installing haproxy for the load-balancer test"
  install_without_service haproxy
fi

# ZITADEL's own npm clients drive the gRPC, gRPC-Web and Connect tests, exactly as their lock file pins them.
if ! command -v npm >/dev/null 2>&1; then
  echo "Installing Node.js and npm for the ZITADEL client tests"
  apt_install nodejs npm
fi
echo "Installing ZITADEL's npm clients (tests/zitadel-clients, npm ci)"
(cd tests/zitadel-clients && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)

log=$(mktemp /tmp/userdataapi-test-log.XXXXXX)
status=0
dotnet test UserDataApi.sln -c Release "$@" 2>&1 | tee "$log" || status=$?
# One plain closing line for CI: "N passed, N failed, N skipped".
summary=$(grep -E '^(Passed|Failed)!' "$log" | tail -n 1 || true)
rm -f "$log"
if [[ $summary =~ Failed:\ +([0-9]+),\ Passed:\ +([0-9]+),\ Skipped:\ +([0-9]+) ]]; then
  echo "${BASH_REMATCH[2]} passed, ${BASH_REMATCH[1]} failed, ${BASH_REMATCH[3]} skipped"
fi
exit "$status"
