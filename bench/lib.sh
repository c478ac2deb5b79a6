# Shared by bench/run and bench/soak: installs the tools, starts PostgreSQL, a token authority and the
# server in Release on loopback, samples the server's RSS, seeds rows, mints tokens, and drives wrk.
# Source it from the repository root after setting `connections`; it sets `work`, `pg_port`, `api_port`,
# `issuer`, `server_pid` and `rss_file` (one "seconds-since-start rss-kB" line per half second).
source scripts/local-postgres.sh
need=()
for tool in wrk gnuplot openssl python3 curl; do command -v $tool >/dev/null || need+=("${tool/#gnuplot/gnuplot-nox}"); done
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}"; apt_install "${need[@]}"
fi
pg_bin=$(pg_bin_dir)

work=$(mktemp -d /tmp/userdataapi-bench.XXXXXX)
chmod 755 "$work"
server_pid="" authority_pid="" sampler_pid=""
cleanup() {
  for pid in $sampler_pid $server_pid $authority_pid; do kill "$pid" 2>/dev/null || true; done
  wait $sampler_pid $server_pid $authority_pid 2>/dev/null || true
  [ -f "$work/server.log" ] && cp "$work/server.log" bench/results/server-last.log
  stop_local_postgres "$work/pg"
  rm -rf "$work"
}
trap cleanup EXIT

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

log "building the server (Release)"
dotnet build src/UserDataApi -c Release -v quiet -nologo >/dev/null

pg_port=$(free_port)
log "starting PostgreSQL on 127.0.0.1:$pg_port"
# PostgreSQL as users run it: its durable defaults (fsync, synchronous_commit = on, full_page_writes), more memory.
pg_settings="fsync=on, synchronous_commit=on, full_page_writes=on (the defaults), shared_buffers=256MB, max_connections=300"
start_local_postgres "$work/pg" "$pg_port" "-c shared_buffers=256MB -c max_connections=300"
postmaster_pid=$(head -n 1 "$work/pg/postmaster.pid")
psql_run() { "$pg_bin/psql" -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres -v ON_ERROR_STOP=1 -q "$@"; }

auth_port=$(free_port)
issuer="http://127.0.0.1:$auth_port"
python3 bench/bench_tools.py authority "$work/authority" "$issuer" telegram,google
(cd "$work/authority" && exec python3 -m http.server "$auth_port" --bind 127.0.0.1 >/dev/null 2>&1) &
authority_pid=$!

api_port=$(free_port)
log "starting the server on 127.0.0.1:$api_port"
server_launched=$(date +%s.%N)
ASPNETCORE_ENVIRONMENT=Production \
ConnectionStrings__UserData="Host=127.0.0.1;Port=$pg_port;Username=postgres;Database=postgres;Maximum Pool Size=64${BENCH_CONNECTION_EXTRA:-}" \
Database__MigrateOnStartup=true Auth__Authority="$issuer" Auth__RequireHttpsMetadata=false \
Logging__LogLevel__Default=Warning ASPNETCORE_URLS="http://127.0.0.1:$api_port" \
  env ${BENCH_SERVER_ENV:-} dotnet src/UserDataApi/bin/Release/net10.0/UserDataApi.dll >"$work/server.log" 2>&1 &
server_pid=$!
ready=""
for _ in $(seq 1 1200); do
  curl -fs -o /dev/null "http://127.0.0.1:$api_port/health/ready" && { ready=yes; break; }
  sleep 0.05
done
if [ -z "$ready" ]; then
  log "the server did not become ready within 60 s; its log:"; tail -n 20 "$work/server.log" >&2
  exit 1
fi
startup_s=$(python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.2f}')" "$server_launched" "$(date +%s.%N)")
log "the server answered /health/ready ${startup_s} s after it was launched"

rss_file="$work/rss.txt"; : >"$rss_file"
( started=$(date +%s)
  while kill -0 "$server_pid" 2>/dev/null; do
    rss=$(awk '/VmRSS/ {print $2}' /proc/$server_pid/status 2>/dev/null || echo 0)
    echo "$(( $(date +%s) - started )) ${rss:-0}" >>"$rss_file"
    sleep 0.5
  done ) &
sampler_pid=$!
# peak_rss_kb -> the highest RSS sampled so far
peak_rss_kb() { awk 'BEGIN { peak = 0 } $2 > peak { peak = $2 } END { print peak }' "$rss_file"; }

seed() {
  log "seeding $(( $1 * 30 )) rows ($1 users)"
  psql_run -v users="$1" -f bench/seed.sql
}

# mint_tokens COUNT [LIFETIME_SECONDS]
mint_tokens() {
  log "minting $1 RS256 tokens"
  python3 bench/bench_tools.py tokens "$work/authority" "$issuer" "$1" app-1 "email user-data-get user-data-set" "${2:-7200}" >"$work/tokens.txt"
}

# run_wrk SCENARIO [SECONDS] -> JSON line; the CPU seconds wrk used go to $work/cpu-load
run_wrk() {
  SCENARIO=$1 TOKENS_FILE="$work/tokens.txt" python3 bench/bench_tools.py timed "$work/cpu-load" \
    wrk -t2 -c"$connections" -d"${2:-$duration}s" --timeout 5s -s bench/load.lua "http://127.0.0.1:$api_port" | sed -n 's/^WRK_JSON //p'
}

# cpu_snapshot -> {"server": s, "postgres": s}: CPU seconds used so far
cpu_snapshot() { python3 bench/bench_tools.py cpu "$server_pid" "$postmaster_pid"; }

# JIT, connection pool and token cache warm up before anything is measured.
warm_up() {
  log "warming up"
  for scenario in get1 uid1 get10 set delete list shared; do run_wrk "$scenario" 3 >/dev/null; done
}

