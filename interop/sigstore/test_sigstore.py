"""Interop with the real Sigstore client: sigstore-python (PyPI `sigstore`, pinned in
interop/requirements.txt) signs against a `waxseal serve` started here and verifies its own
bundles; `waxseal verify` checks sigstore-python's bundles and sigstore-python checks the ones
`waxseal sign` makes. Both Rekor modes (v1 and v2 signing configs the instance writes), blobs,
and DSSE attestations on Rekor v1 (INTEROP.md §5: DSSE on v2 is not interoperable between
clients). A tampered artifact, a wrong identity and a wrong issuer are refused by both.

The instance is a fresh data directory; tokens come from `waxseal token` (the instance's
built-in OIDC issuer)."""

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

EMAIL = "alice@example.com"
MODES = ["rekor-v1", "rekor-v2"]
STARTUP_TIMEOUT = 30


def waxseal_binary():
    return Path(os.environ.get("WAXSEAL_BIN", "target/debug/waxseal")).resolve()


def run(args, **kwargs):
    return subprocess.run(args, capture_output=True, text=True, timeout=120, **kwargs)


def sigstore(*args):
    return run([sys.executable, "-m", "sigstore", *args])


def waxseal(*args):
    return run([str(waxseal_binary()), *args])


class Instance:
    def __init__(self, base, data):
        self.base = base
        self.data = data
        self.issuer = (data / "oidc-issuer").read_text().strip()

    def trust_config(self, mode):
        return self.data / "trust" / f"client_trust_config.{mode}.json"

    def token(self, subject="alice", email=EMAIL):
        result = waxseal("token", "--data-dir", str(self.data), "--subject", subject, "--email", email)
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()


@pytest.fixture(scope="module")
def instance(tmp_path_factory):
    data = tmp_path_factory.mktemp("sigstore-data")
    log_path = data.parent / "serve.log"
    log = open(log_path, "w")
    proc = subprocess.Popen(
        [str(waxseal_binary()), "serve", "--data-dir", str(data), "--listen", "127.0.0.1:0"],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log, text=True,
    )
    try:
        line = proc.stdout.readline()
        m = re.search(r"at (http://\S+)", line)
        assert m, f"serve printed {line!r}; log:\n{log_path.read_text()[-3000:]}"
        base = m.group(1).rstrip("/")
        config = data / "trust" / "client_trust_config.json"
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not config.exists():
            assert time.monotonic() < deadline, f"{config} never appeared"
            time.sleep(0.05)
        yield Instance(base, data)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture
def artifact(tmp_path):
    path = tmp_path / "release.tar.gz"
    path.write_bytes(os.urandom(4096))
    return path


def tampered(path):
    bad = path.with_name(path.name + ".tampered")
    data = bytearray(path.read_bytes())
    data[0] ^= 1
    bad.write_bytes(bytes(data))
    return bad


def py_verify(instance, mode, path, bundle, identity=EMAIL, issuer=None):
    return sigstore(
        "--trust-config", str(instance.trust_config(mode)), "verify", "identity", "--offline",
        "--bundle", str(bundle), "--cert-identity", identity,
        "--cert-oidc-issuer", issuer or instance.issuer, str(path),
    )


def wax_verify(instance, mode, path, bundle, identity=EMAIL, issuer=None):
    return waxseal(
        "verify", str(path), "--bundle", str(bundle), "--certificate-identity", identity,
        "--certificate-oidc-issuer", issuer or instance.issuer,
        "--trust-config", str(instance.trust_config(mode)),
    )


def py_sign(instance, mode, path, bundle):
    result = sigstore(
        "--trust-config", str(instance.trust_config(mode)), "sign",
        "--identity-token", instance.token(), "--bundle", str(bundle), str(path),
    )
    assert result.returncode == 0, f"sigstore sign failed:\n{result.stdout}\n{result.stderr}"
    return json.loads(bundle.read_text())


def check_refusals(verify, instance, mode, artifact, bundle):
    """A tampered artifact, another identity and another issuer all fail verification."""
    for label, kwargs in [
        ("tampered artifact", {"path": tampered(artifact)}),
        ("wrong identity", {"identity": "mallory@example.com"}),
        ("wrong issuer", {"issuer": "https://accounts.example.com"}),
    ]:
        args = {"path": artifact, **kwargs}
        result = verify(instance, mode, args.pop("path"), bundle, **args)
        assert result.returncode != 0, f"{label} verified:\n{result.stdout}\n{result.stderr}"


@pytest.mark.parametrize("mode", MODES)
def test_sigstore_python_signs_and_verifies_against_waxseal(instance, mode, artifact, tmp_path):
    bundle = tmp_path / "py.sigstore.json"
    document = py_sign(instance, mode, artifact, bundle)
    entry = document["verificationMaterial"]["tlogEntries"][0]
    assert entry["kindVersion"]["version"] == ("0.0.1" if mode == "rekor-v1" else "0.0.2")
    assert document["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"]
    result = py_verify(instance, mode, artifact, bundle)
    assert result.returncode == 0, f"sigstore verify failed:\n{result.stdout}\n{result.stderr}"
    check_refusals(py_verify, instance, mode, artifact, bundle)


@pytest.mark.parametrize("mode", MODES)
def test_waxseal_verifies_sigstore_python_bundles(instance, mode, artifact, tmp_path):
    bundle = tmp_path / "py.sigstore.json"
    py_sign(instance, mode, artifact, bundle)
    result = wax_verify(instance, mode, artifact, bundle)
    assert result.returncode == 0, f"waxseal verify failed:\n{result.stdout}\n{result.stderr}"
    check_refusals(wax_verify, instance, mode, artifact, bundle)


@pytest.mark.parametrize("mode", MODES)
def test_sigstore_python_verifies_waxseal_bundles(instance, mode, artifact, tmp_path):
    bundle = tmp_path / "wax.sigstore.json"
    result = waxseal(
        "sign", str(artifact), "--bundle", str(bundle), "--identity-token", instance.token(),
        "--trust-config", str(instance.trust_config(mode)),
    )
    assert result.returncode == 0, f"waxseal sign failed:\n{result.stdout}\n{result.stderr}"
    result = py_verify(instance, mode, artifact, bundle)
    assert result.returncode == 0, f"sigstore verify failed:\n{result.stdout}\n{result.stderr}"
    check_refusals(py_verify, instance, mode, artifact, bundle)
    result = wax_verify(instance, mode, artifact, bundle)
    assert result.returncode == 0, f"waxseal verify failed:\n{result.stdout}\n{result.stderr}"


PREDICATE = {
    "buildDefinition": {"buildType": "https://example.com/build/v1", "externalParameters": {}},
    "runDetails": {"builder": {"id": "https://example.com/builder"}},
}


def test_dsse_attestations_cross_verify_on_rekor_v1(instance, artifact, tmp_path):
    mode = "rekor-v1"
    predicate = tmp_path / "predicate.json"
    predicate.write_text(json.dumps(PREDICATE))
    py_bundle = tmp_path / "py-attest.sigstore.json"
    result = sigstore(
        "--trust-config", str(instance.trust_config(mode)), "attest",
        "--predicate", str(predicate), "--predicate-type", "https://slsa.dev/provenance/v1",
        "--identity-token", instance.token(), "--bundle", str(py_bundle), str(artifact),
    )
    assert result.returncode == 0, f"sigstore attest failed:\n{result.stdout}\n{result.stderr}"
    assert "dsseEnvelope" in json.loads(py_bundle.read_text())
    for verify in (py_verify, wax_verify):
        result = verify(instance, mode, artifact, py_bundle)
        assert result.returncode == 0, f"{verify.__name__} of the attestation failed:\n{result.stdout}\n{result.stderr}"
        result = verify(instance, mode, tampered(artifact), py_bundle)
        assert result.returncode != 0, f"{verify.__name__} accepted a tampered subject"

    import hashlib

    statement = tmp_path / "statement.json"
    statement.write_text(json.dumps({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": artifact.name, "digest": {"sha256": hashlib.sha256(artifact.read_bytes()).hexdigest()}}],
        "predicateType": "https://slsa.dev/provenance/v1",
        "predicate": PREDICATE,
    }))
    wax_bundle = tmp_path / "wax-attest.sigstore.json"
    result = waxseal(
        "sign", str(statement), "--in-toto", "--bundle", str(wax_bundle),
        "--identity-token", instance.token(), "--trust-config", str(instance.trust_config(mode)),
    )
    assert result.returncode == 0, f"waxseal sign --in-toto failed:\n{result.stdout}\n{result.stderr}"
    assert "dsseEnvelope" in json.loads(wax_bundle.read_text())
    for verify in (py_verify, wax_verify):
        result = verify(instance, mode, artifact, wax_bundle)
        assert result.returncode == 0, f"{verify.__name__} of waxseal's attestation failed:\n{result.stdout}\n{result.stderr}"
        result = verify(instance, mode, tampered(artifact), wax_bundle)
        assert result.returncode != 0, f"{verify.__name__} accepted a tampered subject"
