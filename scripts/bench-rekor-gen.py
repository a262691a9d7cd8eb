#!/usr/bin/env python3
"""Helper of scripts/bench-rekor (runs in the repo's .venv, see interop/venv.sh).

  bench-rekor-gen.py requests {v1|v2} N FILE
      N distinct, pre-signed hashedrekord requests (fresh ECDSA P-256 keys, random artifacts),
      one JSON body per line: Rekor v1 hashedrekord 0.0.1 or Rekor v2 hashedRekordRequestV002.
  bench-rekor-gen.py p256-ceiling
      Fallback P-256 verify rate with python `cryptography` (OpenSSL), for when `waxseal bench
      p256` is missing; prints the same JSON keys plus "source".
  bench-rekor-gen.py report RESULTS.json
      The markdown table of a bench-rekor run.
"""

import base64
import hashlib
import json
import multiprocessing
import os
import secrets
import sys
import time

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

KEYS = 16


def b64(data):
    return base64.b64encode(data).decode()


def requests(api, count, path):
    keys = []
    for _ in range(KEYS):
        key = ec.generate_private_key(ec.SECP256R1())
        pub = key.public_key()
        pem = pub.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        der = pub.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        keys.append((key, b64(pem), b64(der)))
    seen = set()
    with open(path, "w") as out:
        for i in range(count):
            key, pem, der = keys[i % KEYS]
            # The artifact's digest; signing it prehashed = ECDSA-SHA256 over the artifact.
            digest = hashlib.sha256(secrets.token_bytes(32) + i.to_bytes(8, "big")).digest()
            assert digest not in seen
            seen.add(digest)
            sig = b64(key.sign(digest, ec.ECDSA(Prehashed(hashes.SHA256()))))
            if api == "v1":
                body = {
                    "apiVersion": "0.0.1",
                    "kind": "hashedrekord",
                    "spec": {
                        "signature": {"content": sig, "publicKey": {"content": pem}},
                        "data": {"hash": {"algorithm": "sha256", "value": digest.hex()}},
                    },
                }
            elif api == "v2":
                body = {
                    "hashedRekordRequestV002": {
                        "digest": b64(digest),
                        "signature": {
                            "content": sig,
                            "verifier": {"publicKey": {"rawBytes": der}, "keyDetails": "PKIX_ECDSA_P256_SHA_256"},
                        },
                    }
                }
            else:
                sys.exit(f"unknown api {api!r}")
            out.write(json.dumps(body, separators=(",", ":")) + "\n")


def _verify_for(seconds):
    key = ec.generate_private_key(ec.SECP256R1())
    pub = key.public_key()
    digest = hashlib.sha256(b"waxseal").digest()
    sig = key.sign(digest, ec.ECDSA(Prehashed(hashes.SHA256())))
    algo = ec.ECDSA(Prehashed(hashes.SHA256()))
    n, start = 0, time.perf_counter()
    while True:
        for _ in range(100):
            pub.verify(sig, digest, algo)
        n += 100
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return n / elapsed


def p256_ceiling():
    one = _verify_for(2.0)
    cores = os.cpu_count() or 1
    with multiprocessing.Pool(cores) as pool:
        all_cores = sum(pool.map(_verify_for, [2.0] * cores))
    print(
        json.dumps(
            {
                "p256_verifies_per_sec_1core": round(one),
                "p256_verifies_per_sec_all_cores": round(all_cores),
                "source": "python cryptography (OpenSSL) fallback",
            }
        )
    )


def report(path):
    with open(path) as f:
        r = json.load(f)
    c = r["ceiling"]
    ceiling = c["p256_verifies_per_sec_all_cores"]
    print(
        f"waxseal Rekor API load ({r['binary']}): {r['cpus']} CPUs, {r['seconds']} s per run,"
        f" {r['entries']:,} distinct pre-signed requests per API, a fresh data dir per run"
    )
    print()
    print("| API | connections | entries/s | p50 | p99 | non-2xx | socket errors | entries/s ÷ P-256 verify ceiling |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for run in r["runs"]:
        w = run["wrk"]
        codes = {k: v for k, v in w["status"].items() if not 200 <= int(k) < 300}
        non2xx = sum(codes.values())
        non2xx_text = str(non2xx) + (" (" + ", ".join(f"{k}: {v}" for k, v in sorted(codes.items())) + ")" if codes else "")
        errors = sum(w["errors"].values())
        print(
            f"| {run['api']} | {run['connections']} | {w['entries_per_s']:,.0f} | {w['p50_us'] / 1000:.1f} ms"
            f" | {w['p99_us'] / 1000:.1f} ms | {non2xx_text} | {errors} | {w['entries_per_s'] / ceiling:.1%} |"
        )
    print()
    print(
        f"P-256 verify ceiling on this machine, same run: {c['p256_verifies_per_sec_1core']:,.0f}/s on one core,"
        f" {ceiling:,.0f}/s on all cores ({c.get('source', 'waxseal bench p256')})."
    )
    print(
        "wrk is closed-loop (it cannot hold a fixed rate; wrk2 is not packaged in Debian): the"
        f" {r['runs'][0]['connections']}-connection runs are full load, the lower-connection runs measure"
        " latency at reduced concurrency and report the rate they reached. Latencies are not corrected for"
        " coordinated omission; wrk and the server share the machine's CPUs."
    )
    bad = [run for run in r["runs"] if run["wrk"]["non_2xx"] or sum(run["wrk"]["errors"].values())]
    for run in bad:
        print(
            f"WARNING: {run['api']} at {run['connections']} connections: {run['wrk']['non_2xx']} non-2xx answers"
            f" and {sum(run['wrk']['errors'].values())} socket errors (see {run['output']})."
        )
    for run in r["runs"]:
        if run["wrk"]["wrapped"]:
            print(
                f"WARNING: {run['api']} at {run['connections']} connections sent more requests than there are"
                " distinct bodies, so some were duplicates: use --entries with a larger N."
            )


def main():
    if len(sys.argv) == 5 and sys.argv[1] == "requests":
        requests(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    elif len(sys.argv) == 2 and sys.argv[1] == "p256-ceiling":
        p256_ceiling()
    elif len(sys.argv) == 3 and sys.argv[1] == "report":
        report(sys.argv[2])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
