#!/usr/bin/env python3
"""Helpers for bench/run, standard library only: an RS256 token authority (key, JWKS, discovery
document, signed tokens), an OAuth provider and the intents signed in through it, wrk output parsing,
the results table, JSON and the gnuplot chart."""
import base64, hashlib, http.client, http.server, json, os, re, subprocess, sys, time, urllib.parse
from statistics import median


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def int_bytes(value: int) -> bytes:
    return value.to_bytes((value.bit_length() + 7) // 8, "big")


def read_key(pem_path):
    """The RSA key's numbers, from openssl's text dump."""
    text = subprocess.run(["openssl", "rsa", "-in", pem_path, "-noout", "-text"], capture_output=True, text=True, check=True).stdout
    fields = {}
    for name in ["modulus", "publicExponent", "privateExponent", "prime1", "prime2", "exponent1", "exponent2", "coefficient"]:
        match = re.search(name + r":\s*(?:\d+ \(0x[0-9a-f]+\)|\n((?:\s+[0-9a-f:]+\n)+))", text)
        if name == "publicExponent":
            fields[name] = int(re.search(r"publicExponent: (\d+)", text).group(1))
        else:
            fields[name] = int(match.group(1).replace(":", "").replace("\n", "").replace(" ", ""), 16)
    return fields


def authority(directory, issuer, providers):
    """Writes key.pem, the JWKS and a discovery document (with identity_providers) under directory."""
    os.makedirs(os.path.join(directory, ".well-known"), exist_ok=True)
    pem = os.path.join(directory, "key.pem")
    if not os.path.exists(pem):
        subprocess.run(["openssl", "genrsa", "-out", pem, "2048"], check=True, capture_output=True)
    key = read_key(pem)
    jwks = {"keys": [{"kty": "RSA", "use": "sig", "alg": "RS256", "kid": "bench-1",
                      "n": b64url(int_bytes(key["modulus"])), "e": b64url(int_bytes(key["publicExponent"]))}]}
    with open(os.path.join(directory, "jwks.json"), "w") as f:
        json.dump(jwks, f)
    with open(os.path.join(directory, ".well-known", "openid-configuration"), "w") as f:
        json.dump({"issuer": issuer, "jwks_uri": issuer + "/jwks.json", "identity_providers": providers}, f)


def tokens(directory, issuer, count, client_app, scopes, lifetime=7200):
    """One RS256 token per user user-1 … user-N, a line each, valid for lifetime seconds."""
    key = read_key(os.path.join(directory, "key.pem"))
    n, p, q, dp, dq, qinv = (key[k] for k in ["modulus", "prime1", "prime2", "exponent1", "exponent2", "coefficient"])
    size = (n.bit_length() + 7) // 8
    digest_info = bytes.fromhex("3031300d060960864801650304020105000420")
    header = b64url(json.dumps({"alg": "RS256", "typ": "JWT", "kid": "bench-1"}, separators=(",", ":")).encode())
    now = int(time.time())
    lines = []
    for user in range(1, count + 1):
        claims = {"iss": issuer, "sub": f"user-{user}", "azp": client_app, "scope": scopes, "iat": now - 5, "nbf": now - 5, "exp": now + lifetime}
        signing_input = header + "." + b64url(json.dumps(claims, separators=(",", ":")).encode())
        t = digest_info + hashlib.sha256(signing_input.encode()).digest()
        em = int.from_bytes(b"\x00\x01" + b"\xff" * (size - len(t) - 3) + b"\x00" + t, "big")
        m1, m2 = pow(em, dp, p), pow(em, dq, q)
        signature = (m2 + q * ((qinv * (m1 - m2)) % p)).to_bytes(size, "big")
        lines.append(signing_input + "." + b64url(signature))
    print("\n".join(lines))


def oauth_provider(port):
    """A plain OAuth 2.0 provider on 127.0.0.1:port for the intent scenario: /authorize sends the browser straight back
    with a code, /token trades any code for an access token, and /userinfo names the user the code was issued for."""
    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def answer(self, status, body=None, location=None):
            data = json.dumps(body).encode() if body is not None else b""
            self.send_response(status)
            if location:
                self.send_header("Location", location)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            url = urllib.parse.urlsplit(self.path)
            query = dict(urllib.parse.parse_qsl(url.query))
            if url.path == "/authorize":
                # The code names the user: login_hint carries "bench-user-N".
                code = b64url(query.get("login_hint", "bench-user").encode())
                self.answer(302, location=query["redirect_uri"] + "?" + urllib.parse.urlencode({"code": code, "state": query["state"]}))
            elif url.path == "/userinfo":
                user = base64.urlsafe_b64decode(self.headers["Authorization"].split()[1] + "==").decode()
                self.answer(200, {"id": user, "preferred_username": user, "email": user + "@bench.test", "name": "Bench " + user})
            else:
                self.answer(404, {"error": "not_found"})

        def do_POST(self):
            form = dict(urllib.parse.parse_qsl(self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()))
            if urllib.parse.urlsplit(self.path).path == "/token" and form.get("code"):
                self.answer(200, {"access_token": form["code"], "token_type": "Bearer", "expires_in": 3600})
            else:
                self.answer(400, {"error": "invalid_request"})

    http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()


def intents(api, idp, token, count, success_url, out_path):
    """Signs count users in through the provider (start intent, the provider's redirect, the callback) and writes one
    "n id token" line per succeeded intent: what the retrieve scenario asks for."""
    host, port = urllib.parse.urlsplit(api).netloc.split(":")
    lines = []
    for n in range(1, count + 1):
        api_connection = http.client.HTTPConnection(host, int(port), timeout=30)
        body = json.dumps({"idpId": idp, "urls": {"successUrl": success_url, "failureUrl": success_url + "?failed"}})
        api_connection.request("POST", "/v2/idp_intents", body, {"Content-Type": "application/json", "Authorization": "Bearer " + token})
        started = json.loads(api_connection.getresponse().read())
        if "authUrl" not in started:
            sys.exit(f"starting intent {n} failed: {started}")
        auth = urllib.parse.urlsplit(started["authUrl"] + f"&login_hint=bench-user-{n}")
        provider = http.client.HTTPConnection(auth.hostname, auth.port, timeout=30)
        provider.request("GET", auth.path + "?" + auth.query)
        callback = urllib.parse.urlsplit(provider.getresponse().getheader("Location"))
        api_connection.request("GET", callback.path + "?" + callback.query)
        done = urllib.parse.urlsplit(api_connection.getresponse().getheader("Location"))
        result = dict(urllib.parse.parse_qsl(done.query))
        if "token" not in result:
            sys.exit(f"intent {n} did not succeed: {done.geturl()}")
        lines.append(f"{n} {result['id']} {result['token']}")
    with open(out_path, "w") as f:
        f.write("\n".join(lines) + "\n")


# Targets of SPEC §8 (issue 17), printed beside the figures: against the combined reference, or pgbench's own rate.
TARGETS = {"get, 1 key": ("combined", 1.0), "set": ("pgbench", 0.8)}
DEFAULT_TARGET = ("combined", 0.75)
P99_TARGET_MS = 10
RSS_TARGET_MB = 150


def combined(http_rps, pg_tps):
    """The combined reference: what a server would do if its only costs were the bare HTTP exchange and pgbench's lookup."""
    return 1 / (1 / http_rps + 1 / pg_tps) if http_rps and pg_tps else 0


def scenario(name, rounds_path):
    """One scenario's row from its rounds (one JSON line each: HTTP alone, the server's wrk run, pgbench's run, CPU
    snapshots around them). Each round's ratios use that round's own HTTP-alone rate and pgbench rate, measured beside
    the server's run, so that the machine's drift between rounds moves both sides of a ratio; the row gives the median
    round's ratios and their range, the rates over all rounds, and the CPU per request over all rounds."""
    rounds = [json.loads(line) for line in open(rounds_path)]
    per = lambda seconds, count: seconds / count * 1e6 if count else 0
    measured = []
    for r in rounds:
        server, pg = r["server"], r["pg"]
        rps = server["requests"] / server["duration_us"] * 1e6 if server["duration_us"] else 0
        reference = combined(r["http_rps"], pg["tps"])
        measured.append({"http_rps": r["http_rps"], "rps": rps, "pgbench_tps": pg["tps"], "combined_rps": reference,
                         "vs_pgbench": rps / pg["tps"] if pg["tps"] else 0, "vs_combined": rps / reference if reference else 0,
                         "p50_ms": server["p50_us"] / 1000, "p99_ms": server["p99_us"] / 1000, "pgbench_p99_ms": pg["p99_ms"]})
    requests = sum(r["server"]["requests"] for r in rounds)
    transactions = sum(r["pg"]["transactions"] for r in rounds)
    spent = lambda side, key: sum(r[side + "_after"][key] - r[side + "_before"][key] for r in rounds)
    row = {"name": name, "rps": requests / sum(r["server"]["duration_us"] for r in rounds) * 1e6,
           "p50_ms": median(m["p50_ms"] for m in measured), "p99_ms": median(m["p99_ms"] for m in measured),
           "errors": sum(r["server"]["socket_errors"] + r["server"]["answer_errors"] for r in rounds), "requests": requests,
           "http_alone_rps": median(m["http_rps"] for m in measured), "combined_rps": median(m["combined_rps"] for m in measured)}
    for ratio in ("vs_pgbench", "vs_combined"):
        row[ratio] = median(m[ratio] for m in measured)
        row[ratio + "_range"] = [min(m[ratio] for m in measured), max(m[ratio] for m in measured)]
    row["cpu_us_per_request"] = {"load": per(sum(r["load_cpu"] for r in rounds), requests),
                                 "server": per(spent("server", "server"), requests),
                                 "postgres": per(spent("server", "postgres"), requests)}
    row["pgbench"] = {"tps": median(m["pgbench_tps"] for m in measured), "p99_ms": median(m["pgbench_p99_ms"] for m in measured),
                      "transactions": transactions,
                      "cpu_us_per_transaction": {"pgbench": per(sum(r["pgbench_cpu"] for r in rounds), transactions),
                                                 "postgres": per(spent("pg", "postgres"), transactions)}}
    row["rounds"] = measured
    print(json.dumps(row))


def cpu_seconds(pid):
    """User + system CPU of a process, and of its children it has waited for (fields 14-17 of /proc/PID/stat)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return sum(int(v) for v in fields[11:15]) / os.sysconf("SC_CLK_TCK")
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return 0.0


def children(pid):
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        found.append(int(entry))
            except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
                pass
    return found


def cpu_snapshot(server_pid, postmaster_pid):
    """The server's CPU seconds so far, and PostgreSQL's (the postmaster, its live backends, and those that ended)."""
    pg = cpu_seconds(postmaster_pid) + sum(cpu_seconds(child) for child in children(postmaster_pid))
    print(json.dumps({"server": cpu_seconds(server_pid), "postgres": pg}))


def timed(out_path, command):
    """Runs a load generator; writes the CPU seconds it used (itself and its threads) to out_path."""
    import resource
    result = subprocess.run(command)
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    with open(out_path, "w") as f:
        f.write(f"{usage.ru_utime + usage.ru_stime}")
    sys.exit(result.returncode)


def report(results_path, png_path):
    """Prints the table (ratios and targets included) and draws throughput and p99 per scenario."""
    with open(results_path) as f:
        results = json.load(f)
    rows = results["scenarios"]
    print()
    print(f"{'scenario':<24}{'req/s':>8}{'p50 ms':>8}{'p99 ms':>8}{'errors':>7}{'pg tps':>8}{'combined':>10}"
          f"{'÷pg':>6}{'÷comb':>7}{'rounds':>12}  {'target':<25}{'CPU µs/request: load':>21}{'server':>8}{'pg':>6}")
    for row in rows:
        pg = row.get("pgbench") or {}
        kind, goal = TARGETS.get(row["name"], DEFAULT_TARGET)
        ratio = "vs_combined" if kind == "combined" else "vs_pgbench"
        measured = row.get(ratio)
        met = "ok" if measured is not None and measured >= goal and row["p99_ms"] <= P99_TARGET_MS and row["errors"] == 0 else "MISSED"
        cpu = row.get("cpu_us_per_request") or {}
        low, high = row.get(ratio + "_range") or (0, 0)
        spread = f"{low:.2f}-{high:.2f}"
        print(f"{row['name']:<24}{row['rps']:>8.0f}{row['p50_ms']:>8.2f}{row['p99_ms']:>8.2f}{row['errors']:>7}{pg.get('tps', 0):>8.0f}"
              f"{row.get('combined_rps', 0):>10.0f}{row.get('vs_pgbench') or 0:>6.2f}{row.get('vs_combined') or 0:>7.2f}{spread:>12}"
              f"  {f'>= {goal:.2f} {kind[:8]} {met}':<25}{cpu.get('load', 0):>21.1f}{cpu.get('server', 0):>8.1f}{cpu.get('postgres', 0):>6.1f}")
    rss_met = "ok" if results["peak_rss_mb"] <= RSS_TARGET_MB else "MISSED"
    print(f"\nrows: {results['rows']}, connections: {results['connections']}, {results.get('rounds', 1)} rounds per scenario of "
          f"HTTP alone, server and pgbench, {results['duration_s']} s each (÷pg, ÷comb, p50, p99: the median round; rounds: "
          f"the range of the ratio the target is on); "
          f"PostgreSQL: {results.get('postgresql', '')}")
    print(f"server: peak RSS {results['peak_rss_mb']:.0f} MB (target <= {RSS_TARGET_MB}: {rss_met}), "
          f"start to /health/ready {results.get('startup_s', 0):.2f} s (RSS then {results.get('ready_rss_mb', 0):.0f} MB); p99 target <= {P99_TARGET_MS} ms")
    if results.get("http_alone_rps"):
        print(f"HTTP alone on this machine (GET /health/live: no token, no database): {results['http_alone_rps']:.0f} req/s, the median "
              f"round; combined reference = 1 / (1/http + 1/pgbench), each round with its own")
    data = png_path + ".dat"
    with open(data, "w") as f:
        for row in rows:
            f.write(f"\"{row['name']}\" {row['rps']:.0f} {(row.get('pgbench') or {}).get('tps', 0):.0f} {row.get('combined_rps', 0):.0f} "
                    f"{row['p99_ms']:.2f} {row.get('vs_combined') or 0:.2f}\n")
    script = f"""
set terminal png size 1200,500
set output '{png_path}'
set multiplot layout 1,3 title 'UserDataApi vs pgbench and the combined reference ({results['rows']} rows, {results['connections']} connections)'
set style data histograms
set style histogram clustered
set style fill solid 0.8
set boxwidth 0.9
set xtics rotate by -30
set title 'throughput (requests or transactions / s)'
set yrange [0:*]
plot '{data}' using 2:xtic(1) title 'server', '' using 3 title 'pgbench', '' using 4 title 'combined reference'
set title 'server / combined reference'
plot '{data}' using 6:xtic(1) title 'ratio' lc rgb '#4444cc'
set title 'server p99 latency (ms)'
plot '{data}' using 5:xtic(1) title 'p99' lc rgb '#cc4444'
unset multiplot
"""
    subprocess.run(["gnuplot"], input=script, text=True, check=True)
    os.remove(data)


if __name__ == "__main__":
    command = sys.argv[1]
    if command == "authority":
        authority(sys.argv[2], sys.argv[3], sys.argv[4].split(","))
    elif command == "tokens":
        tokens(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5], sys.argv[6], int(sys.argv[7]) if len(sys.argv) > 7 else 7200)
    elif command == "oauth":
        oauth_provider(int(sys.argv[2]))
    elif command == "intents":
        intents(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), sys.argv[6], sys.argv[7])
    elif command == "report":
        report(sys.argv[2], sys.argv[3])
    elif command == "scenario":
        scenario(sys.argv[2], sys.argv[3])
    elif command == "cpu":
        cpu_snapshot(int(sys.argv[2]), int(sys.argv[3]))
    elif command == "timed":
        timed(sys.argv[2], sys.argv[3:])
    else:
        sys.exit(f"unknown command {command}")
