#!/usr/bin/env python3
"""Helper of scripts/bench-ca (runs in the repo's .venv, see interop/venv.sh).

  bench-ca-gen.py csrs N FILE
      N distinct signing-certificate request bodies as sigstore-python sends them (a fresh
      ECDSA P-256 key each, a CSR with an empty subject and critical BasicConstraints CA:false,
      SHA-256, as JSON {"certificateSigningRequest": base64(PEM)}), one per line, hex-encoded.
  bench-ca-gen.py tsqs N FILE
      N distinct DER TimeStampReqs (SHA-256 imprint of a random artifact, a random 64-bit
      nonce, certReq true, as sigstore-python's rfc3161-client builds them), one per line,
      hex-encoded.
  bench-ca-gen.py report RESULTS.json
      The markdown table of a bench-ca run.
"""

import base64
import json
import multiprocessing
import os
import secrets
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec


def _csr_body(_):
    key = ec.generate_private_key(ec.SECP256R1())
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([]))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    pem = csr.public_bytes(serialization.Encoding.PEM)
    body = json.dumps({"certificateSigningRequest": base64.b64encode(pem).decode()})
    return body.encode().hex()


def csrs(count, path):
    with multiprocessing.Pool(os.cpu_count() or 1) as pool:
        lines = pool.map(_csr_body, range(count), chunksize=256)
    assert len(set(lines)) == count
    with open(path, "w") as out:
        out.write("\n".join(lines) + "\n")


def _der(tag, content):
    n = len(content)
    if n < 0x80:
        length = bytes([n])
    else:
        raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
        length = bytes([0x80 | len(raw)]) + raw
    return bytes([tag]) + length + content


def _integer(value):
    raw = value.to_bytes(max(1, (value.bit_length() + 8) // 8), "big")
    return _der(0x02, raw)


# AlgorithmIdentifier { id-sha256, NULL }
_SHA256 = _der(0x30, _der(0x06, bytes.fromhex("608648016503040201")) + b"\x05\x00")


def tsqs(count, path):
    """RFC 3161 §2.4.1 TimeStampReq { version 1, messageImprint, nonce, certReq TRUE }."""
    seen = set()
    with open(path, "w") as out:
        for _ in range(count):
            digest = hashes.Hash(hashes.SHA256())
            digest.update(secrets.token_bytes(32))
            imprint = _der(0x30, _SHA256 + _der(0x04, digest.finalize()))
            nonce = secrets.randbits(63) | 1
            req = _der(0x30, _integer(1) + imprint + _integer(nonce) + b"\x01\x01\xff")
            assert req not in seen
            seen.add(req)
            out.write(req.hex() + "\n")


def report(path):
    with open(path) as f:
        r = json.load(f)
    c = r["ceiling"]
    sign, verify = c["p256_signs_per_sec_all_cores"], c["p256_verifies_per_sec_all_cores"]
    cert_ceiling = 1 / (3 / sign + 2 / verify)
    print(
        f"waxseal CA and TSA load ({r['binary']}): {r['cpus']} CPUs, {r['seconds']} s per run,"
        f" {r['requests']:,} distinct requests per API, a fresh data dir per run; load before: {r['load']}"
    )
    print()
    print("| API | connections | per second | p50 | p99 | non-2xx | socket errors | ÷ ceiling |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for run in r["runs"]:
        w = run["wrk"]
        ceiling = cert_ceiling if run["api"] == "signingCert" else sign
        codes = {k: v for k, v in w["status"].items() if not 200 <= int(k) < 300}
        non2xx = sum(codes.values())
        non2xx_text = str(non2xx) + (" (" + ", ".join(f"{k}: {v}" for k, v in sorted(codes.items())) + ")" if codes else "")
        errors = sum(w["errors"].values())
        print(
            f"| {run['api']} | {run['connections']} | {w['entries_per_s']:,.0f} | {w['p50_us'] / 1000:.1f} ms"
            f" | {w['p99_us'] / 1000:.1f} ms | {non2xx_text} | {errors} | {w['entries_per_s'] / ceiling:.2f} |"
        )
    print()
    print(
        f"Ceilings, same run (`waxseal bench p256`, all {r['cpus']} cores): {sign:,.0f} P-256 signs/s and"
        f" {verify:,.0f} verifies/s, so {cert_ceiling:,.0f} certificates/s (3 signs + 2 verifies each) and"
        f" {sign:,.0f} timestamps/s (1 sign each)."
    )
    print(
        "wrk is closed-loop and shares the CPUs with the server; latencies are not corrected for"
        " coordinated omission. Only 2xx answers count."
    )
    wrapped = [f"{run['api']} at {run['connections']}" for run in r["runs"] if run["wrk"]["wrapped"]]
    if wrapped:
        print(
            f"Runs that sent each request body more than once: {', '.join(wrapped)} (harmless: every"
            " certificate and timestamp gets a fresh serial number; --requests N for more bodies)."
        )
    for run in r["runs"]:
        w = run["wrk"]
        if w["non_2xx"] or sum(w["errors"].values()):
            print(
                f"WARNING: {run['api']} at {run['connections']} connections: {w['non_2xx']} non-2xx answers"
                f" and {sum(w['errors'].values())} socket errors (see {run['output']})."
            )


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "csrs":
        csrs(int(sys.argv[2]), sys.argv[3])
    elif len(sys.argv) == 4 and sys.argv[1] == "tsqs":
        tsqs(int(sys.argv[2]), sys.argv[3])
    elif len(sys.argv) == 3 and sys.argv[1] == "report":
        report(sys.argv[2])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
