#!/usr/bin/env python3
"""Helpers for bench/run, standard library only: an RS256 token authority (key, JWKS, discovery
document, signed tokens), wrk output parsing, the results table, JSON and the gnuplot chart."""
import base64, hashlib, json, os, re, subprocess, sys, time


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


def report(results_path, png_path):
    """Prints the table and draws throughput and p99 per scenario."""
    with open(results_path) as f:
        results = json.load(f)
    rows = results["scenarios"]
    print()
    print(f"{'scenario':<22}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}{'pgbench tps':>13}{'pg p99 ms':>11}{'ratio':>8}")
    for row in rows:
        pg = row.get("pgbench") or {}
        ratio = f"{row['rps'] / pg['tps']:.2f}" if pg.get("tps") else "-"
        print(f"{row['name']:<22}{row['rps']:>10.0f}{row['p50_ms']:>9.2f}{row['p99_ms']:>9.2f}{row['errors']:>8}"
              f"{pg.get('tps', 0):>13.0f}{pg.get('p99_ms', 0):>11.2f}{ratio:>8}")
    print(f"\nrows: {results['rows']}, connections: {results['connections']}, duration: {results['duration_s']} s each, "
          f"server peak RSS: {results['peak_rss_mb']:.0f} MB")
    if results.get("http_alone_rps"):
        print(f"HTTP alone on this machine (GET /health/live: no token, no database): {results['http_alone_rps']:.0f} req/s")
    data = png_path + ".dat"
    with open(data, "w") as f:
        for row in rows:
            f.write(f"\"{row['name']}\" {row['rps']:.0f} {(row.get('pgbench') or {}).get('tps', 0):.0f} {row['p99_ms']:.2f}\n")
    script = f"""
set terminal png size 1000,500
set output '{png_path}'
set multiplot layout 1,2 title 'UserDataApi vs pgbench ({results['rows']} rows, {results['connections']} connections)'
set style data histograms
set style histogram clustered
set style fill solid 0.8
set boxwidth 0.9
set xtics rotate by -20
set title 'throughput (requests or transactions / s)'
set yrange [0:*]
plot '{data}' using 2:xtic(1) title 'server', '' using 3 title 'pgbench'
set title 'server p99 latency (ms)'
plot '{data}' using 4:xtic(1) title 'p99' lc rgb '#cc4444'
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
    elif command == "report":
        report(sys.argv[2], sys.argv[3])
    else:
        sys.exit(f"unknown command {command}")
