"""waxseal's RFC 3161 timestamp authority, checked by rfc3161-client: the library sigstore-python
uses to request and verify timestamps. Nothing from waxseal is used to check its own answers.

The server is a real `waxseal serve` (binary from $WAXSEAL_BIN) on a fresh data directory."""

import base64
import hashlib
import json
import os
import subprocess
import time
import urllib.error
import urllib.request

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from rfc3161_client import TimestampRequestBuilder, VerificationError, VerifierBuilder, decode_timestamp_response


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    data = tmp_path_factory.mktemp("tsa-data")
    binary = os.environ.get("WAXSEAL_BIN", "target/debug/waxseal")
    proc = subprocess.Popen(
        [binary, "serve", "--data-dir", str(data), "--listen", "127.0.0.1:0"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    line = proc.stdout.readline()
    assert "http://" in line, f"serve printed {line!r}"
    base = "http://" + line.split("http://", 1)[1].strip().rstrip("/")
    deadline = time.time() + 10
    while not (data / "trust" / "trusted_root.json").exists():
        assert time.time() < deadline, "trust/trusted_root.json never appeared"
        time.sleep(0.05)
    yield base, data
    proc.kill()
    proc.wait()


def post(url, body, content_type):
    request = urllib.request.Request(url, data=body, headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def chain(data):
    """The TSA chain as the trusted root carries it: signing certificate first, root last."""
    tsas = json.loads((data / "trust" / "trusted_root.json").read_text())["timestampAuthorities"]
    return [x509.load_der_x509_certificate(base64.b64decode(c["rawBytes"]))
            for c in tsas[0]["certChain"]["certificates"]]


def verifier(request, certs):
    builder = VerifierBuilder.from_request(request).tsa_certificate(certs[0])
    for root in certs[1:]:
        builder = builder.add_root_certificate(root)
    return builder.build()


def test_sigstore_python_shaped_request_verifies(server):
    base, data = server
    signature = os.urandom(72)  # what a client timestamps: its signature bytes
    request = TimestampRequestBuilder().data(signature).nonce(nonce=True).cert_request(cert_request=True).build()
    status, body = post(base + "/api/v1/timestamp", request.as_bytes(), "application/timestamp-query")
    assert status == 200, body
    response = decode_timestamp_response(body)
    certs = chain(data)
    assert verifier(request, certs).verify_message(response, signature)
    assert abs(response.tst_info.gen_time.timestamp() - time.time()) < 120
    with pytest.raises(VerificationError):
        verifier(request, certs).verify_message(response, b"some other signature")


def test_sigstore_js_shaped_json_request_verifies(server):
    base, data = server
    signature = os.urandom(64)
    body = json.dumps({"artifactHash": base64.b64encode(hashlib.sha256(signature).digest()).decode(),
                       "hashAlgorithm": "sha256"}).encode()
    status, reply = post(base + "/api/v1/timestamp", body, "application/json")
    assert status == 200, reply
    response = decode_timestamp_response(reply)
    certs = chain(data)
    # A request without nonce or certReq, as sigstore-js sends it.
    request = TimestampRequestBuilder().data(signature).nonce(nonce=False).cert_request(cert_request=False).build()
    assert verifier(request, certs).verify_message(response, signature)


def test_bad_requests_are_rejected(server):
    base, _ = server
    status, body = post(base + "/api/v1/timestamp", b"\x30\x00", "application/timestamp-query")
    assert status == 400 and json.loads(body)["code"] == 400
    status, _ = post(base + "/api/v1/timestamp", b"x", "text/plain")
    assert status == 415


def test_certchain_endpoint_matches_trust_material(server):
    base, data = server
    with urllib.request.urlopen(base + "/api/v1/timestamp/certchain", timeout=10) as response:
        pem = response.read()
    served = x509.load_pem_x509_certificates(pem)
    der = serialization.Encoding.DER
    assert [c.public_bytes(der) for c in served] == [c.public_bytes(der) for c in chain(data)]
