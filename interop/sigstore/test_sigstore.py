"""Interop with the real Sigstore client: sigstore-python (PyPI `sigstore`, pinned in
interop/requirements.txt) signs against a `waxseal serve` started here and verifies its own
bundles; `waxseal verify` checks sigstore-python's bundles and sigstore-python checks the ones
`waxseal sign` makes. Both Rekor modes (v1 and v2 signing configs the instance writes), blobs,
and DSSE attestations on Rekor v1 (INTEROP.md §5: DSSE on v2 is not interoperable between
clients). A tampered artifact, a wrong identity and a wrong issuer are refused by both.

The instance is a fresh data directory; tokens come from `waxseal token` (the instance's
built-in OIDC issuer). Every test runs against two topologies: `single` (one `waxseal serve`
on SQLite) and `cluster` (PostgreSQL and two `waxseal serve --database` front ends, the client
pointed at the one that is not the sequencer; interop/pgcluster.py). Pick one with
`-k single` or `-k cluster`."""

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import pgcluster  # noqa: E402

EMAIL = "alice@example.com"
MODES = ["rekor-v1", "rekor-v2"]
TOPOLOGIES = ["single", "cluster"]
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


@pytest.fixture(scope="module", params=TOPOLOGIES)
def instance(request, tmp_path_factory):
    if request.param == "cluster":
        root = tmp_path_factory.mktemp("sigstore-cluster")
        with pgcluster.cluster(waxseal_binary(), root) as (base, data, _sequencer, _client):
            yield Instance(base, data)
        return
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


def test_issued_certificate_profile_and_sct(instance, artifact, tmp_path):
    """The leaf sigstore-python got, read with `cryptography` (not waxseal): Fulcio's profile
    (INTEROP.md §3) and one embedded SCT whose signature verifies with the trusted root's CT
    key over the RFC 6962 precertificate input."""
    import base64
    import datetime
    import hashlib
    import struct

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, ExtensionOID

    bundle = tmp_path / "py.sigstore.json"
    document = py_sign(instance, "rekor-v1", artifact, bundle)
    leaf = x509.load_der_x509_certificate(
        base64.b64decode(document["verificationMaterial"]["certificate"]["rawBytes"]))
    root = json.loads((instance.data / "trust" / "trusted_root.json").read_text())
    chain = [x509.load_der_x509_certificate(base64.b64decode(c["rawBytes"]))
             for c in root["certificateAuthorities"][0]["certChain"]["certificates"]]
    intermediate = chain[0]

    assert leaf.version == x509.Version.v3
    assert 0 < leaf.serial_number < 2 ** 160
    assert len(leaf.subject) == 0
    assert leaf.not_valid_after_utc - leaf.not_valid_before_utc == datetime.timedelta(minutes=10)
    san = leaf.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME)
    assert san.critical and san.value.get_values_for_type(x509.RFC822Name) == [EMAIL]
    ku = leaf.extensions.get_extension_for_oid(ExtensionOID.KEY_USAGE)
    assert ku.value.digital_signature
    eku = leaf.extensions.get_extension_for_oid(ExtensionOID.EXTENDED_KEY_USAGE)
    assert not eku.critical and list(eku.value) == [ExtendedKeyUsageOID.CODE_SIGNING]
    aki = leaf.extensions.get_extension_for_oid(ExtensionOID.AUTHORITY_KEY_IDENTIFIER).value
    ski = intermediate.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_KEY_IDENTIFIER).value
    assert aki.key_identifier == ski.digest
    issuer_v1 = leaf.extensions.get_extension_for_oid(x509.ObjectIdentifier("1.3.6.1.4.1.57264.1.1"))
    assert issuer_v1.value.value == instance.issuer.encode()
    issuer_v2 = leaf.extensions.get_extension_for_oid(x509.ObjectIdentifier("1.3.6.1.4.1.57264.1.8"))
    assert issuer_v2.value.value == b"\x0c" + bytes([len(instance.issuer)]) + instance.issuer.encode()
    intermediate.public_key().verify(
        leaf.signature, leaf.tbs_certificate_bytes, ec.ECDSA(leaf.signature_hash_algorithm))

    scts = leaf.extensions.get_extension_for_class(x509.PrecertificateSignedCertificateTimestamps).value
    assert len(scts) == 1
    sct = scts[0]
    ctlog = root["ctlogs"][0]
    ct_spki = base64.b64decode(ctlog["publicKey"]["rawBytes"])
    assert sct.log_id == base64.b64decode(ctlog["logId"]["keyId"]) == hashlib.sha256(ct_spki).digest()
    assert sct.entry_type == x509.certificate_transparency.LogEntryType.PRE_CERTIFICATE
    issuer_key_hash = hashlib.sha256(intermediate.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)).digest()
    tbs = leaf.tbs_precertificate_bytes
    extensions = sct.extension_bytes
    timestamp_ms = int(sct.timestamp.replace(tzinfo=datetime.timezone.utc).timestamp() * 1000)
    signed = (
        bytes([0, 0])  # v1, certificate_timestamp
        + struct.pack(">Q", timestamp_ms)
        + struct.pack(">H", 1)  # precert_entry
        + issuer_key_hash
        + len(tbs).to_bytes(3, "big") + tbs
        + struct.pack(">H", len(extensions)) + extensions
    )
    # The SCT's leaf_index extension (static-ct-api): type 0, 5-byte index.
    assert extensions[0] == 0 and struct.unpack(">H", extensions[1:3])[0] == 5
    ct_key = serialization.load_der_public_key(ct_spki)
    ct_key.verify(sct.signature, signed, ec.ECDSA(hashes.SHA256()))
    with pytest.raises(Exception):
        ct_key.verify(sct.signature, signed[:-1] + bytes([signed[-1] ^ 1]), ec.ECDSA(hashes.SHA256()))


def test_p384_certificate_authority(tmp_path, artifact):
    """A CA created with `--ca-key-type p384` issues P-384-signed leaves sigstore-python accepts."""
    data = tmp_path / "p384-data"
    proc = subprocess.Popen(
        [str(waxseal_binary()), "serve", "--data-dir", str(data), "--listen", "127.0.0.1:0",
         "--ca-key-type", "p384"],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    try:
        line = proc.stdout.readline()
        m = re.search(r"at (http://\S+)", line)
        assert m, f"serve printed {line!r}"
        config = data / "trust" / "client_trust_config.json"
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not config.exists():
            assert time.monotonic() < deadline
            time.sleep(0.05)
        p384 = Instance(m.group(1).rstrip("/"), data)
        bundle = tmp_path / "p384.sigstore.json"
        document = py_sign(p384, "rekor-v1", artifact, bundle)
        import base64

        from cryptography import x509
        leaf = x509.load_der_x509_certificate(
            base64.b64decode(document["verificationMaterial"]["certificate"]["rawBytes"]))
        assert leaf.signature_hash_algorithm.name == "sha384"
        result = py_verify(p384, "rekor-v1", artifact, bundle)
        assert result.returncode == 0, result.stderr
    finally:
        proc.terminate()
        proc.wait(timeout=10)
