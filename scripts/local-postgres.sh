# Helpers to run a private PostgreSQL cluster from the local server binaries; sourced by run.sh, test.sh
# and bench/lib.sh. Installs Debian's PostgreSQL server package when no binaries are present.

# apt_install [APT-OPTIONS] PKG...: installs Debian packages as root, or through sudo; says what to do
# otherwise. Only apt's errors are shown (on stderr), so callers' standard output stays theirs.
apt_install() {
  local sudo_cmd=""
  if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo >/dev/null; then
      echo "error: installing $* needs root: run as root or install it first" >&2
      return 1
    fi
    sudo_cmd="sudo"
  fi
  $sudo_cmd apt-get update -qq >/dev/null && $sudo_cmd env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

pg_bin_dir() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [ -z "$dir" ] || [ ! -x "$dir/initdb" ]; then
    echo "PostgreSQL server binaries not found; installing Debian's postgresql package..." >&2
    apt_install --no-install-recommends postgresql || return 1
    dir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  fi
  echo "$dir"
}

# PostgreSQL refuses to run as root, so as root the cluster belongs to the 'postgres' user.
as_cluster_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin postgres
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

free_port() {
  local port
  for _ in $(seq 1 50); do
    port=$(( 20000 + RANDOM % 30000 ))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return 0
    fi
  done
  return 1
}

# start_local_postgres DATA_DIR PORT [SERVER_OPTIONS]: initialises DATA_DIR when empty and starts
# the cluster on 127.0.0.1:PORT (already running: left as it is).
start_local_postgres() {
  local data_dir=$1 port=$2 options=${3:-} bin
  bin=$(pg_bin_dir) || return 1
  mkdir -p "$data_dir"
  [ "$(id -u)" -eq 0 ] && { id postgres >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin postgres; chown postgres "$data_dir"; }
  chmod 700 "$data_dir"
  if [ ! -s "$data_dir/PG_VERSION" ]; then
    as_cluster_owner "$bin/initdb" -D "$data_dir" -U postgres --auth=trust -E UTF8 --no-locale >/dev/null
  fi
  if ! as_cluster_owner "$bin/pg_ctl" -D "$data_dir" status >/dev/null 2>&1; then
    if ! as_cluster_owner "$bin/pg_ctl" -D "$data_dir" -l "$data_dir/server.log" -w -t 60 \
      -o "-p $port -k $data_dir -c listen_addresses=127.0.0.1 -c max_connections=300 $options" start >/dev/null; then
      echo "PostgreSQL did not start on 127.0.0.1:$port; the end of its log:" >&2
      tail -n 15 "$data_dir/server.log" >&2 || true
      return 1
    fi
  fi
}

stop_local_postgres() {
  local data_dir=$1 bin
  bin=$(pg_bin_dir) || return 0
  as_cluster_owner "$bin/pg_ctl" -D "$data_dir" -m fast -w stop >/dev/null 2>&1 || true
}
