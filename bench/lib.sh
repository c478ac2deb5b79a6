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
server_pid="" authority_pid="" provider_pid="" sampler_pid=""
cleanup() {
  for pid in $sampler_pid $server_pid $authority_pid $provider_pid; do kill "$pid" 2>/dev/null || true; done
  wait $sampler_pid $server_pid $authority_pid $provider_pid 2>/dev/null || true
  [ -f "$work/server.log" ] && cp "$work/server.log" bench/results/server-last.log
  stop_local_postgres "$work/pg"
  rm -rf "$work"
}
trap cleanup EXIT

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

log "building the server (Release)"
dotnet build src/UserDataApi -c Release -v quiet -nologo >/dev/null
if [ -n "${BENCH_ALLOCATIONS:-}" ]; then
  dotnet build bench/allocations -c Release -v quiet -nologo -o "$work/allocations" >/dev/null
fi

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

# An OAuth provider for the intent scenario (bench_tools.py oauth), configured as the server's "bench-oauth".
provider_port=$(free_port)
python3 bench/bench_tools.py oauth "$provider_port" &
provider_pid=$!

# The certificate that seals the Data Protection keys, which seal the provider's tokens (required with a provider).
openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=bench -days 2 -keyout "$work/dp-key.pem" -out "$work/dp-cert.pem" 2>/dev/null

api_port=$(free_port)
# The intent calls' rate limits stay on (their cost is part of each call) but far above what the bench sends.
provider_settings=(RateLimiting__PermitsPerIp=1000000000 RateLimiting__PermitsPerClientApp=1000000000
  DataProtection__Certificate__Path="$work/dp-cert.pem" DataProtection__Certificate__KeyPath="$work/dp-key.pem"
  Intents__PublicBaseUrl="http://127.0.0.1:$api_port" Intents__AllowedRedirectOrigins__0="http://127.0.0.1:$api_port")
for setting in Type=oauth AuthorizationEndpoint="http://127.0.0.1:$provider_port/authorize" \
  TokenEndpoint="http://127.0.0.1:$provider_port/token" UserInfoEndpoint="http://127.0.0.1:$provider_port/userinfo" \
  ClientId=bench ClientSecret=bench-secret Scopes="profile email" RequireHttpsMetadata=false; do
  provider_settings+=("Intents__Providers__bench-oauth__$setting")
done
log "starting the server on 127.0.0.1:$api_port"
server_launched=$(date +%s.%N)
ASPNETCORE_ENVIRONMENT=Production \
ConnectionStrings__UserData="Host=127.0.0.1;Port=$pg_port;Username=postgres;Database=postgres;Maximum Pool Size=64${BENCH_CONNECTION_EXTRA:-}" \
Database__MigrateOnStartup=true Auth__Authority="$issuer" Auth__RequireHttpsMetadata=false \
Logging__LogLevel__Default=Warning ASPNETCORE_URLS="http://127.0.0.1:$api_port" \
  env "${provider_settings[@]}" ${BENCH_PROFILE:+DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0} ${BENCH_SERVER_ENV:-} dotnet src/UserDataApi/bin/Release/net10.0/UserDataApi.dll >"$work/server.log" 2>&1 &
server_pid=$!
ready=""
for _ in $(seq 1 1200); do
  curl -fs -o /dev/null "http://127.0.0.1:$api_port/health/ready" && { ready=yes; break; }
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.05
done
if [ -z "$ready" ]; then
  log "the server did not become ready (it ended, or 60 s passed); its log:"; tail -n 20 "$work/server.log" >&2
  exit 1
fi
startup_s=$(python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.2f}')" "$server_launched" "$(date +%s.%N)")
ready_rss_kb=$(awk '/VmRSS/ {print $2}' /proc/$server_pid/status)
log "the server answered /health/ready ${startup_s} s after it was launched (RSS then: $(( ready_rss_kb / 1024 )) MB)"

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
  python3 bench/bench_tools.py tokens "$work/authority" "$issuer" "$1" app-1 "email user-data-get user-data-set idp-intents" "${2:-7200}" >"$work/tokens.txt"
}

# sign_in_intents COUNT: COUNT users signed in through bench-oauth, as "n id token" lines in $work/intents.txt and as
# rows of bench_intents (n, id), from which pgbench's retrieve picks its intents.
sign_in_intents() {
  log "signing in $1 users through the OAuth provider (intents)"
  python3 bench/bench_tools.py intents "http://127.0.0.1:$api_port" bench-oauth "$(head -n 1 "$work/tokens.txt")" "$1" \
    "http://127.0.0.1:$api_port/signed-in" "$work/intents.txt"
  psql_run -c "SET client_min_messages = warning" -c "DROP TABLE IF EXISTS bench_intents; CREATE TABLE bench_intents (n int PRIMARY KEY, id text NOT NULL)" \
    -c "\\copy bench_intents FROM PROGRAM 'cut -d \" \" -f 1,2 $work/intents.txt' WITH (DELIMITER ' ')"
  intent_count=$1
}

# run_wrk SCENARIO [SECONDS] -> JSON line; the CPU seconds wrk used go to $work/cpu-load
run_wrk() {
  SCENARIO=$1 TOKENS_FILE="$work/tokens.txt" INTENTS_FILE="$work/intents.txt" python3 bench/bench_tools.py timed "$work/cpu-load" \
    wrk -t2 -c"$connections" -d"${2:-$duration}s" --timeout 5s -s bench/load.lua "http://127.0.0.1:$api_port" | sed -n 's/^WRK_JSON //p'
}

# profile_start SCENARIO / profile_stop SCENARIO: with BENCH_PROFILE=1, perf samples the server while the scenario runs and
# the hottest functions (their own time, JIT-compiled code named through the runtime's perf map) and the server's own
# methods with all they call go to bench/results.
profile_start() {
  [ -n "${BENCH_PROFILE:-}" ] || return 0
  perf record -q -F 499 -g -p "$server_pid" -o "$work/perf-$1.data" >/dev/null 2>&1 &
  perf_pid=$!
}
profile_stop() {
  [ -n "${BENCH_PROFILE:-}" ] || return 0
  kill -INT "$perf_pid" 2>/dev/null || true; wait "$perf_pid" 2>/dev/null || true
  { perf report -i "$work/perf-$1.data" --no-children --sort dso --stdio 2>/dev/null | grep -E '^ +[0-9.]+%' | head -15
    echo
    perf report -i "$work/perf-$1.data" --no-children --sort symbol --stdio -g none 2>/dev/null | grep -E '^ +[0-9.]+%' | head -80
    echo
    echo "the server's own code, with everything it calls (children, self):"
    perf report -i "$work/perf-$1.data" --children --sort symbol --stdio -g none 2>/dev/null | grep -E '^ +[0-9.]+%' \
      | grep -F '[UserDataApi]' | head -40
  } | sed -E 's/[[:space:]]+(-[[:space:]]+-)?[[:space:]]*$//' >"bench/results/profile-$stamp-$1.txt" || true
  log "profile: bench/results/profile-$stamp-$1.txt"
}

# allocations_start SCENARIO SECONDS / allocations_stop SCENARIO SERVER_JSON: with BENCH_ALLOCATIONS=1, the runtime's
# allocation ticks are read from the server while the scenario runs (bench/allocations); what it allocated per
# request, the types that took most and the stacks behind them go to bench/results.
allocations_start() {
  [ -n "${BENCH_ALLOCATIONS:-}" ] || return 0
  # A second short of the slice: the listener must end while the load still runs.
  dotnet "$work/allocations/allocations.dll" "$server_pid" $(( $2 > 2 ? $2 - 1 : 1 )) "$work/allocations-$1.nettrace" \
    >"$work/allocations-$1.txt" 2>&1 &
  allocations_pid=$!
}
allocations_stop() {
  [ -n "${BENCH_ALLOCATIONS:-}" ] || return 0
  wait "$allocations_pid" 2>/dev/null || true
  python3 - "$work/allocations-$1.txt" "$2" >"bench/results/allocations-$stamp-$1.txt" <<'PY' || true
import json, sys
text = open(sys.argv[1]).read()
server = json.loads(sys.argv[2])
rps = server["requests"] / server["duration_us"] * 1e6 if server.get("duration_us") else 0
rate = next((float(line.split()[1]) for line in text.splitlines() if line.startswith("allocated_mb_per_s ")), None)
if rate is not None and rps:
    print(f"allocated per request: {rate * 1e6 / rps / 1024:.1f} KiB ({rate:.0f} MB/s at {rps:.0f} requests/s)")
print(text)
PY
  log "allocations: bench/results/allocations-$stamp-$1.txt"
}

# cpu_snapshot -> {"server": s, "postgres": s}: CPU seconds used so far
cpu_snapshot() { python3 bench/bench_tools.py cpu "$server_pid" "$postmaster_pid"; }

# JIT, connection pool and token cache warm up before anything is measured.
warm_up() {
  log "warming up"
  for scenario in get1 uid1 get10 set delete list shared $([ -s "$work/intents.txt" ] && echo retrieve); do run_wrk "$scenario" 3 >/dev/null; done
}

