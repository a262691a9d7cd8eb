"""Independent-verifier interop tests for waxseal's Rekor v1 and v2 APIs.

Starts `waxseal serve` on a fresh data directory, submits hashedrekord entries signed here with
fresh ECDSA P-256 keys, and checks every answer with code written in this directory from the
specs (RFC 9162, RFC 8785, C2SP signed-note / tlog-checkpoint / tlog-tiles, the Rekor v1 and
rekor-tiles v2 API shapes). Nothing from waxseal is used but its HTTP answers and the trust
material it writes (the `tlogs` of DIR/trust/trusted_root.json). See README.md beside this file.
"""

import base64
import concurrent.futures
import datetime
import hashlib
import json
import os
import queue
import re
import secrets
import subprocess
import threading
import time
from pathlib import Path

import pytest
import requests
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import NameOID

from rfc9162 import (
    VerifyError,
    check,
    leaf_hash,
    reference_consistency_proof,
    reference_inclusion_path,
    root_from_hashes,
    verify_consistency,
    verify_inclusion,
)

REPO = Path(__file__).resolve().parents[2]
HTTP_TIMEOUT = 30
STARTUP_TIMEOUT = 30
TILE_WIDTH = 256  # C2SP tlog-tiles: tile height 8
P256_KEY_DETAILS = "PKIX_ECDSA_P256_SHA_256"
ED25519_KEY_DETAILS = "PKIX_ED25519"
WORKERS = 16

# The fields a protobuf-JSON TransparencyLogEntry may carry (sigstore-python parses it strictly:
# an unknown key is an error), and those a Rekor v2 answer must carry.
TLE_FIELDS = {
    "logIndex",
    "logId",
    "kindVersion",
    "integratedTime",
    "inclusionPromise",
    "inclusionProof",
    "canonicalizedBody",
}
TLE_REQUIRED = {"logIndex", "logId", "kindVersion", "inclusionProof", "canonicalizedBody"}


# ---------------------------------------------------------------------------------------------
# Encoding helpers


def b64e(data):
    return base64.b64encode(data).decode()


def b64d(text):
    """Strict standard base64: valid alphabet, canonical padding."""
    check(isinstance(text, str), f"expected a base64 string, got {type(text).__name__}")
    try:
        data = base64.b64decode(text, validate=True)
    except ValueError as e:
        raise VerifyError(f"bad base64 {text!r}: {e}") from e
    check(b64e(data) == text, f"non-canonical base64 {text!r}")
    return data


def hexd(text, length=None):
    check(isinstance(text, str), f"expected a hex string, got {type(text).__name__}")
    check(re.fullmatch(r"(?:[0-9a-f]{2})*", text) is not None, f"not lowercase hex: {text!r}")
    data = bytes.fromhex(text)
    if length is not None:
        check(len(data) == length, f"expected {length} bytes of hex, got {len(data)}")
    return data


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def int_string(v, what):
    """A protobuf-JSON int64: a decimal string."""
    check(isinstance(v, str) and re.fullmatch(r"0|[1-9][0-9]*", v), f"{what} must be a decimal string, got {v!r}")
    return int(v)


def canonical_json(obj):
    """RFC 8785 for the values used here (ASCII strings, small ints, objects): sorted keys, no
    whitespace. Python's escaping of these strings equals RFC 8785's."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def verify_ecdsa(key, signature, data):
    try:
        key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature as e:
        raise VerifyError("ECDSA signature does not verify") from e


def verify_ed25519(key, signature, data):
    try:
        key.verify(signature, data)
    except InvalidSignature as e:
        raise VerifyError("Ed25519 signature does not verify") from e


# ---------------------------------------------------------------------------------------------
# Signed notes (C2SP signed-note + tlog-checkpoint, as INTEROP.md §4 states for Rekor v1)

SIG_LINE = re.compile("\u2014 (\\S+) ([A-Za-z0-9+/]+={0,2})")


class Note:
    def __init__(self, text, body, origin, size, root, signatures):
        self.text = text
        self.body = body  # the signed text: the checkpoint lines, final newline included
        self.origin = origin
        self.size = size
        self.root = root
        self.signatures = signatures  # [(name, key hint, signature)]


def parse_note(text):
    check(isinstance(text, str), "checkpoint must be a string")
    check(text.endswith("\n"), "signed note must end with a newline")
    check("\n\n\n" not in text and text.count("\n\n") == 1, "signed note must have exactly one blank line")
    check("\r" not in text, "signed note contains a carriage return")
    body, sigs = text.split("\n\n")
    body += "\n"
    lines = body[:-1].split("\n")
    check(len(lines) == 3, f"checkpoint must be origin, size, root (3 lines), got {len(lines)}")
    origin, size_text, root_text = lines
    check(origin != "" and origin.strip() == origin, f"bad origin line {origin!r}")
    check(re.fullmatch(r"0|[1-9][0-9]*", size_text) is not None, f"bad size line {size_text!r}")
    root = b64d(root_text)
    check(len(root) == 32, "checkpoint root is not 32 bytes")
    signatures = []
    check(sigs.endswith("\n") and sigs != "\n", "no signature lines")
    for line in sigs[:-1].split("\n"):
        m = SIG_LINE.fullmatch(line)
        check(m is not None, f"bad signature line {line!r}")
        raw = b64d(m.group(2))
        check(len(raw) >= 5, "signature too short")
        signatures.append((m.group(1), raw[:4], raw[4:]))
    return Note(text, body, origin, int(size_text), root, signatures)


def verify_v1_checkpoint(text, trust):
    """Rekor v1: every signature line has key hint = logID[:4] and is an ECDSA-SHA256 (DER)
    signature by the v1 key over the note text including its final newline (sigstore-js
    requires every signature to verify)."""
    note = parse_note(text)
    for _name, hint, sig in note.signatures:
        check(hint == trust.v1_log_id[:4], f"v1 checkpoint key hint {hint.hex()} is not logID[:4]")
        verify_ecdsa(trust.v1_key, sig, note.body.encode())
    return note


def verify_v2_checkpoint(text, trust):
    """Rekor v2 / C2SP: Ed25519 signature lines named after the origin, key hint = logId[:4] =
    the C2SP key ID's first 4 bytes, 64-byte signatures over the note text."""
    note = parse_note(text)
    check(note.origin == trust.v2_origin, f"v2 checkpoint origin {note.origin!r} is not {trust.v2_origin!r}")
    for name, hint, sig in note.signatures:
        check(name == note.origin, f"v2 signature name {name!r} is not the origin")
        check(hint == trust.v2_log_id[:4], f"v2 checkpoint key hint {hint.hex()} is not logId[:4]")
        check(len(sig) == 64, "Ed25519 signature is not 64 bytes")
        verify_ed25519(trust.v2_key, sig, note.body.encode())
    return note


# ---------------------------------------------------------------------------------------------
# Trust material


class Trust:
    """What the `tlogs` of DIR/trust/trusted_root.json say, checked against INTEROP.md §1."""

    def __init__(self, tlogs, v2_origin):
        check(isinstance(tlogs, list) and len(tlogs) == 2, "trusted_root.json must list two tlogs")
        for t in tlogs:
            check(isinstance(t, dict), "tlog must be an object")
            check({"baseUrl", "hashAlgorithm", "publicKey", "logId"} <= set(t), f"tlog misses fields: {sorted(t)}")
            check(set(t) <= {"baseUrl", "hashAlgorithm", "publicKey", "logId", "operator"}, f"unexpected tlog fields: {sorted(t)} (checkpointKeyId must be unset)")
            check(t["hashAlgorithm"] == "SHA2_256", "hashAlgorithm must be SHA2_256")
            check(isinstance(t["baseUrl"], str) and re.match(r"https?://", t["baseUrl"]) is not None, f"bad baseUrl {t['baseUrl']!r}")
            pk = t["publicKey"]
            check(set(pk) <= {"rawBytes", "keyDetails", "validFor"} and {"rawBytes", "keyDetails"} <= set(pk), f"bad publicKey fields {sorted(pk)}")
            if "validFor" in pk:
                start = pk["validFor"].get("start")
                check(isinstance(start, str) and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", start), f"bad validFor.start {start!r}")
            check(set(t["logId"]) == {"keyId"}, "logId must be {keyId}")
        v1, v2 = tlogs
        check(v1["publicKey"]["keyDetails"] == P256_KEY_DETAILS, "v1 tlog key must be PKIX_ECDSA_P256_SHA_256")
        check(v2["publicKey"]["keyDetails"] == ED25519_KEY_DETAILS, "v2 tlog key must be PKIX_ED25519")

        self.v1_spki = b64d(v1["publicKey"]["rawBytes"])
        self.v1_key = serialization.load_der_public_key(self.v1_spki)
        check(isinstance(self.v1_key, ec.EllipticCurvePublicKey) and self.v1_key.curve.name == "secp256r1", "v1 key is not P-256")
        self.v1_log_id = b64d(v1["logId"]["keyId"])
        check(self.v1_log_id == hashlib.sha256(self.v1_spki).digest(), "v1 logId is not SHA-256(DER SPKI)")
        self.v1_base_url = v1["baseUrl"]

        self.v2_spki = b64d(v2["publicKey"]["rawBytes"])
        self.v2_key = serialization.load_der_public_key(self.v2_spki)
        check(isinstance(self.v2_key, ed25519.Ed25519PublicKey), "v2 key is not Ed25519")
        self.v2_raw = self.v2_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        self.v2_log_id = b64d(v2["logId"]["keyId"])
        self.v2_origin = v2_origin
        c2sp_id = hashlib.sha256(v2_origin.encode() + b"\n\x01" + self.v2_raw).digest()
        check(self.v2_log_id == c2sp_id, "v2 logId is not the C2SP key ID SHA-256(origin \\n 0x01 key)")
        self.v2_base_url = v2["baseUrl"]


# ---------------------------------------------------------------------------------------------
# The server under test


class Server:
    def __init__(self, base, data_dir, proc, log_path):
        self.base = base
        self.data_dir = data_dir
        self.proc = proc
        self.log_path = log_path
        self._local = threading.local()
        self.trust = None

    def _session(self):
        s = getattr(self._local, "session", None)
        if s is None:
            s = self._local.session = requests.Session()
        return s

    def get(self, path, **kw):
        return self._session().get(self.base + path, timeout=HTTP_TIMEOUT, **kw)

    def post(self, path, body, **kw):
        return self._session().post(self.base + path, json=body, timeout=HTTP_TIMEOUT, **kw)

    def post_raw(self, path, data, content_type="application/json"):
        return self._session().post(
            self.base + path, data=data, headers={"Content-Type": content_type}, timeout=HTTP_TIMEOUT
        )

    def checkpoint(self):
        """The v2 checkpoint: a signed note, UTF-8 whatever the Content-Type says."""
        r = self.get("/api/v2/checkpoint")
        assert r.status_code == 200, f"GET /api/v2/checkpoint: {r.status_code} {r.text}"
        return r.content.decode("utf-8")

    def log_tail(self, n=40):
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""


def waxseal_binary():
    path = Path(os.environ.get("WAXSEAL_BIN", "target/debug/waxseal"))
    if not path.is_absolute():
        path = REPO / path
    if not path.is_file():
        pytest.exit(f"no waxseal binary at {path} (build it, or set WAXSEAL_BIN)", returncode=2)
    return path


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("waxseal")
    data_dir = tmp / "data"
    log_path = tmp / "serve.log"
    log = open(log_path, "wb")
    proc = subprocess.Popen(
        [str(waxseal_binary()), "serve", "--data-dir", str(data_dir), "--listen", "127.0.0.1:0"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
    )
    lines = queue.Queue()

    def pump():  # keep reading stdout so the server never blocks on a full pipe
        for line in proc.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    srv = Server(None, data_dir, proc, log_path)
    try:
        try:
            first = lines.get(timeout=STARTUP_TIMEOUT)
        except queue.Empty:
            pytest.fail(f"waxseal serve printed nothing in {STARTUP_TIMEOUT} s\n{srv.log_tail()}")
        if first is None:
            pytest.fail(f"waxseal serve exited ({proc.wait()}) before printing its URL\n{srv.log_tail()}")
        m = re.search(r"at http://(\S+)", first)
        assert m, f"no URL in the first stdout line {first!r}"
        srv.base = "http://" + m.group(1).rstrip("/")

        tlogs_path = data_dir / "trust" / "trusted_root.json"
        deadline = time.monotonic() + 5
        while not tlogs_path.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert tlogs_path.exists(), f"{tlogs_path} was not written"
        origin = srv.checkpoint().split("\n", 1)[0]
        srv.trust = Trust(json.loads(tlogs_path.read_text())["tlogs"], origin)
        yield srv
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def in_parallel(fn, items):
    with concurrent.futures.ThreadPoolExecutor(WORKERS) as pool:
        return list(pool.map(fn, items))


# ---------------------------------------------------------------------------------------------
# Signing (the client side): fresh keys, random artifacts


class Signer:
    def __init__(self, with_certificate=False):
        self.key = ec.generate_private_key(ec.SECP256R1())
        pub = self.key.public_key()
        self.pem = pub.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        self.spki = pub.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        self.cert_pem = self.cert_der = None
        if with_certificate:
            name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "waxseal interop test")])
            now = datetime.datetime.now(datetime.timezone.utc)
            cert = (
                x509.CertificateBuilder()
                .subject_name(name)
                .issuer_name(name)
                .public_key(pub)
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(minutes=5))
                .not_valid_after(now + datetime.timedelta(days=1))
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .sign(self.key, hashes.SHA256())
            )
            self.cert_pem = cert.public_bytes(serialization.Encoding.PEM)
            self.cert_der = cert.public_bytes(serialization.Encoding.DER)

    def sign(self, data):
        """ECDSA-SHA256 over the artifact; the logged digest is SHA-256(artifact)."""
        return self.key.sign(data, ec.ECDSA(hashes.SHA256()))


class Submission:
    """One request and what the log must store for it."""

    def __init__(self, request, expected_body, artifact):
        self.request = request
        self.expected_body = expected_body
        self.artifact = artifact
        self.response = None  # parsed JSON of the 201 answer
        self.uuid = None  # v1 only
        self.entry = None  # v1: the Entry; v2: the TransparencyLogEntry


def v1_request(signer, use_certificate=False, artifact=None, signature=None):
    artifact = secrets.token_bytes(64) if artifact is None else artifact
    signature = signer.sign(artifact) if signature is None else signature
    verifier = signer.cert_pem if use_certificate else signer.pem
    spec = {
        "signature": {"content": b64e(signature), "publicKey": {"content": b64e(verifier)}},
        "data": {"hash": {"algorithm": "sha256", "value": hashlib.sha256(artifact).hexdigest()}},
    }
    request = {"apiVersion": "0.0.1", "kind": "hashedrekord", "spec": spec}
    # Rekor's canonical hashedrekord 0.0.1 body holds exactly these fields, RFC 8785-serialised.
    return Submission(request, canonical_json(request), artifact)


def v2_request(signer, use_certificate=False, artifact=None, signature=None):
    artifact = secrets.token_bytes(64) if artifact is None else artifact
    signature = signer.sign(artifact) if signature is None else signature
    if use_certificate:
        verifier = {"x509Certificate": {"rawBytes": b64e(signer.cert_der)}, "keyDetails": P256_KEY_DETAILS}
    else:
        verifier = {"publicKey": {"rawBytes": b64e(signer.spki)}, "keyDetails": P256_KEY_DETAILS}
    digest = b64e(hashlib.sha256(artifact).digest())
    sig = {"content": b64e(signature), "verifier": verifier}
    request = {"hashedRekordRequestV002": {"digest": digest, "signature": sig}}
    body = {
        "apiVersion": "0.0.2",
        "kind": "hashedrekord",
        "spec": {"hashedRekordV002": {"data": {"algorithm": "SHA2_256", "digest": digest}, "signature": sig}},
    }
    return Submission(request, canonical_json(body), artifact)


def submit_v1(server, sub):
    r = server.post("/api/v1/log/entries", sub.request)
    assert r.status_code == 201, f"POST /api/v1/log/entries: {r.status_code} {r.text}\n{server.log_tail()}"
    sub.response = r.json()
    assert isinstance(sub.response, dict) and len(sub.response) == 1, f"v1 answer must have one key: {r.text}"
    ((sub.uuid, sub.entry),) = sub.response.items()
    return sub


def submit_v2(server, sub):
    r = server.post("/api/v2/log/entries", sub.request)
    assert r.status_code == 201, f"POST /api/v2/log/entries: {r.status_code} {r.text}\n{server.log_tail()}"
    sub.response = sub.entry = r.json()
    return sub


# ---------------------------------------------------------------------------------------------
# Entry verification: everything a Sigstore verifier checks, and the shape it needs


def set_payload(entry):
    return canonical_json(
        {
            "body": entry["body"],
            "integratedTime": entry["integratedTime"],
            "logID": entry["logID"],
            "logIndex": entry["logIndex"],
        }
    )


def verify_v1_entry(entry, expected_body, trust):
    """Verifies a Rekor v1 Entry: body, SET, inclusion proof, checkpoint. Returns (size, root)
    of the tree the proof is against."""
    check(isinstance(entry, dict), "entry must be an object")
    body = b64d(entry.get("body"))
    check(body == expected_body, f"stored body differs:\n got  {body!r}\n want {expected_body!r}")
    check(is_int(entry.get("integratedTime")), "integratedTime must be an int")
    check(abs(entry["integratedTime"] - time.time()) < 600, "integratedTime is not now")
    check(entry.get("logID") == trust.v1_log_id.hex(), "logID is not the v1 log's SHA-256(SPKI) in hex")
    check(is_int(entry.get("logIndex")) and entry["logIndex"] > 0, f"bad logIndex {entry.get('logIndex')!r}")

    v = entry.get("verification")
    check(isinstance(v, dict), "no verification object")
    verify_ecdsa(trust.v1_key, b64d(v.get("signedEntryTimestamp")), set_payload(entry))

    p = v.get("inclusionProof")
    check(isinstance(p, dict), "no inclusion proof")
    check(is_int(p.get("logIndex")) and is_int(p.get("treeSize")), "proof logIndex/treeSize must be ints")
    check(p["logIndex"] == entry["logIndex"], "proof logIndex differs from the entry's")
    root = hexd(p.get("rootHash"), 32)
    check(isinstance(p.get("hashes"), list), "proof hashes must be a list")
    path = [hexd(h, 32) for h in p["hashes"]]
    verify_inclusion(leaf_hash(body), p["logIndex"], p["treeSize"], path, root)

    note = verify_v1_checkpoint(p.get("checkpoint"), trust)
    check(note.size == p["treeSize"], f"checkpoint size {note.size} is not the proof's {p['treeSize']}")
    check(note.root == root, "checkpoint root is not the proof's")
    return p["treeSize"], root


def verify_v2_entry(entry, expected_body, trust):
    """Verifies a rekor-tiles TransparencyLogEntry (no SET). Returns (size, root)."""
    check(isinstance(entry, dict), "entry must be an object")
    check(set(entry) <= TLE_FIELDS, f"unknown TransparencyLogEntry fields {sorted(set(entry) - TLE_FIELDS)}")
    check(TLE_REQUIRED <= set(entry), f"missing fields {sorted(TLE_REQUIRED - set(entry))}")
    check("inclusionPromise" not in entry, "a v2 entry has no SET")
    index = int_string(entry["logIndex"], "logIndex")
    check(index > 0, "logIndex 0 given to a client")
    check(entry["logId"] == {"keyId": b64e(trust.v2_log_id)}, f"logId {entry['logId']!r} is not the v2 log's")
    check(entry["kindVersion"] == {"kind": "hashedrekord", "version": "0.0.2"}, f"bad kindVersion {entry['kindVersion']!r}")
    body = b64d(entry["canonicalizedBody"])
    check(body == expected_body, f"stored body differs:\n got  {body!r}\n want {expected_body!r}")

    p = entry["inclusionProof"]
    check(isinstance(p, dict), "inclusionProof must be an object")
    check(set(p) == {"logIndex", "rootHash", "treeSize", "hashes", "checkpoint"}, f"inclusionProof fields {sorted(p)}")
    check(int_string(p["logIndex"], "inclusionProof.logIndex") == index, "proof logIndex differs from the entry's")
    size = int_string(p["treeSize"], "treeSize")
    root = b64d(p["rootHash"])
    check(len(root) == 32, "rootHash is not 32 bytes")
    check(isinstance(p["hashes"], list), "proof hashes must be a list")
    path = [b64d(h) for h in p["hashes"]]
    verify_inclusion(leaf_hash(body), index, size, path, root)

    check(isinstance(p["checkpoint"], dict) and set(p["checkpoint"]) == {"envelope"}, "checkpoint must be {envelope}")
    note = verify_v2_checkpoint(p["checkpoint"]["envelope"], trust)
    check(note.size == size and note.root == root, "checkpoint size/root are not the proof's")
    return size, root


def assert_error_json(r, status=None):
    if status is not None:
        assert r.status_code == status, f"expected {status}, got {r.status_code}: {r.text}"
    assert 400 <= r.status_code < 500, f"expected a 4xx, got {r.status_code}: {r.text}"
    try:
        e = r.json()
    except ValueError:
        pytest.fail(f"{r.status_code} error is not JSON: {r.text!r}")
    assert isinstance(e, dict), e
    assert is_int(e.get("code")), f"error code must be an int: {e}"
    assert isinstance(e.get("message"), str) and e["message"], f"error message must be a string: {e}"


# ---------------------------------------------------------------------------------------------
# Fixtures: the submissions every later test checks


@pytest.fixture(scope="session")
def v1_entries(server):
    plain, certified = Signer(), Signer(with_certificate=True)
    subs = [v1_request(plain) for _ in range(6)] + [v1_request(certified, use_certificate=True) for _ in range(4)]
    for sub in subs:  # one at a time: each answer is proved against a newer tree
        submit_v1(server, sub)
    more = [v1_request(plain) for _ in range(24)] + [v1_request(certified, use_certificate=True) for _ in range(8)]
    in_parallel(lambda s: submit_v1(server, s), more)  # concurrently: several share a batch
    return subs + more


@pytest.fixture(scope="session")
def v2_entries(server, v1_entries):
    plain, certified = Signer(), Signer(with_certificate=True)
    subs = [v2_request(plain) for _ in range(4)] + [v2_request(certified, use_certificate=True) for _ in range(2)]
    for sub in subs:
        submit_v2(server, sub)
    # Grow the v2 tree past one full tile (256 leaves) so full and partial tiles and the level-1
    # tile are all exercised.
    size = parse_note(server.checkpoint()).size
    n = max(40, TILE_WIDTH + 24 - size)
    more = [v2_request(plain) for _ in range(n - 8)] + [v2_request(certified, use_certificate=True) for _ in range(8)]
    in_parallel(lambda s: submit_v2(server, s), more)
    return subs + more


# ---------------------------------------------------------------------------------------------
# The verifier checks itself (no server): it accepts what the RFC's definitions produce and
# rejects every single-hash tamper, so passing tests below are not vacuous.


def test_merkle_verifier_self_check():
    leaves = [leaf_hash(b"entry %d" % i) for i in range(40)]
    for n in range(1, len(leaves) + 1):
        root = root_from_hashes(leaves[:n])
        for m in range(n):
            path = reference_inclusion_path(m, leaves[:n])
            verify_inclusion(leaves[m], m, n, path, root)
            for i in range(len(path)):
                bad = list(path)
                bad[i] = bytes([bad[i][0] ^ 1]) + bad[i][1:]
                with pytest.raises(VerifyError):
                    verify_inclusion(leaves[m], m, n, bad, root)
            if n > 1:
                with pytest.raises(VerifyError):
                    verify_inclusion(leaves[m], (m + 1) % n, n, path, root)
                with pytest.raises(VerifyError):
                    verify_inclusion(leaves[m], m, n, path[:-1], root)
        for m in range(1, n + 1):
            proof = reference_consistency_proof(m, leaves[:n])
            first_root = root_from_hashes(leaves[:m])
            verify_consistency(m, n, first_root, root, proof)
            for i in range(len(proof)):
                bad = list(proof)
                bad[i] = bytes([bad[i][0] ^ 1]) + bad[i][1:]
                with pytest.raises(VerifyError):
                    verify_consistency(m, n, first_root, root, bad)
            if m < n:
                with pytest.raises(VerifyError):
                    verify_consistency(m, n, root, root, proof)


def test_note_parser_self_check():
    key = ec.generate_private_key(ec.SECP256R1())
    spki = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    log_id = hashlib.sha256(spki).digest()

    def signed(body, hint=log_id[:4], dash="\u2014"):
        sig = key.sign(body.encode(), ec.ECDSA(hashes.SHA256()))
        return body + "\n" + dash + " example.test " + b64e(hint + sig) + "\n"

    class T:
        v1_key = key.public_key()
        v1_log_id = log_id

    body = "example.test - 1\n7\n" + b64e(bytes(32)) + "\n"
    good = signed(body)
    note = verify_v1_checkpoint(good, T)
    assert (note.origin, note.size, note.root, note.body) == ("example.test - 1", 7, bytes(32), body)
    for bad in [
        good.replace("\n7\n", "\n8\n"),  # signed text changed
        good[:-1],  # no final newline
        signed(body, dash="-"),  # not an em dash
        signed(body).replace("\n\n", "\n\n\n"),  # two blank lines
        signed(body + "extra\n"),  # a fourth body line
        signed("example.test - 1\n07\n" + b64e(bytes(32)) + "\n"),  # size with a leading zero
        signed("example.test - 1\n7\n" + b64e(bytes(31)) + "\n"),  # root not 32 bytes
        signed(body, hint=b"\0\0\0\0"),  # wrong key hint
        good + "\u2014 example.test " + b64e(b"\0\0\0\0" + bytes(64)) + "\n",  # an unverifiable extra signature
    ]:
        with pytest.raises(VerifyError):
            verify_v1_checkpoint(bad, T)


# ---------------------------------------------------------------------------------------------
# Trust material and key endpoints


def test_trust_material_matches_the_log(server):
    trust = server.trust  # Trust() already checked the tlogs' shape and both logIds
    r = server.get("/api/v1/log/publicKey")
    assert r.status_code == 200, r.text
    pem_key = serialization.load_pem_public_key(r.content)
    spki = pem_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert spki == trust.v1_spki, "GET /api/v1/log/publicKey is not the v1 key in trusted_root.json"
    verify_v2_checkpoint(server.checkpoint(), trust)


def test_fresh_log_is_seeded(server):
    """A client must never get logIndex 0 (INTEROP §4): the log starts non-empty."""
    info = server.get("/api/v1/log").json()
    assert info["treeSize"] >= 1
    assert parse_note(server.checkpoint()).size >= 1


# ---------------------------------------------------------------------------------------------
# Rekor v1


def test_v1_entries_verify(server, v1_entries):
    for sub in v1_entries:
        verify_v1_entry(sub.entry, sub.expected_body, server.trust)


def test_v1_indexes_are_distinct_and_never_zero(v1_entries):
    indexes = [s.entry["logIndex"] for s in v1_entries]
    assert 0 not in indexes
    assert len(set(indexes)) == len(indexes), "two entries share a logIndex"


def test_v1_checkpoint_name_matches_base_url(server, v1_entries):
    """sigstore-js uses the v1 signature line's name as a regex against the tlog baseUrl
    (INTEROP §4)."""
    note = parse_note(v1_entries[0].entry["verification"]["inclusionProof"]["checkpoint"])
    for name, _hint, _sig in note.signatures:
        assert re.search(name, server.trust.v1_base_url), f"signer name {name!r} does not match baseUrl {server.trust.v1_base_url!r}"


def test_v1_uuid_and_lookups(server, v1_entries):
    """The answer's key is the Rekor UUID (hex leaf hash, optionally behind a 16-hex tree ID);
    GET by UUID and by logIndex return the same, still verifiable, entry."""
    for sub in v1_entries[:: max(1, len(v1_entries) // 8)]:
        leaf = leaf_hash(sub.expected_body).hex()
        assert re.fullmatch(r"(?:[0-9a-f]{16})?[0-9a-f]{64}", sub.uuid), f"bad uuid {sub.uuid!r}"
        assert sub.uuid.endswith(leaf), "uuid is not the entry's leaf hash"
        for path in [f"/api/v1/log/entries/{sub.uuid}", f"/api/v1/log/entries?logIndex={sub.entry['logIndex']}"]:
            r = server.get(path)
            assert r.status_code == 200, f"GET {path}: {r.status_code} {r.text}"
            got = r.json()
            assert len(got) == 1, got
            ((uuid, entry),) = got.items()
            assert uuid.endswith(leaf)
            for field in ("body", "integratedTime", "logID", "logIndex"):
                assert entry[field] == sub.entry[field], f"GET {path}: {field} differs"
            verify_v1_entry(entry, sub.expected_body, server.trust)


def test_v1_index_retrieve(server, v1_entries):
    sub = v1_entries[1]
    r = server.post("/api/v1/index/retrieve", {"hash": "sha256:" + hashlib.sha256(sub.artifact).hexdigest()})
    assert r.status_code == 200, f"{r.status_code} {r.text}"
    ids = r.json()
    assert isinstance(ids, list) and all(isinstance(i, str) for i in ids), ids
    assert any(i.endswith(leaf_hash(sub.expected_body).hex()) for i in ids), f"{sub.uuid} not in {ids}"


def test_v1_log_info(server, v1_entries):
    r = server.get("/api/v1/log")
    assert r.status_code == 200, r.text
    info = r.json()
    assert is_int(info.get("treeSize")) and isinstance(info.get("treeID"), str), info
    note = verify_v1_checkpoint(info["signedTreeHead"], server.trust)
    assert note.size == info["treeSize"] and note.root == hexd(info["rootHash"], 32)
    assert info["treeSize"] > max(s.entry["logIndex"] for s in v1_entries)


def test_v1_consistency_proofs(server, v1_entries):
    info = server.get("/api/v1/log").json()
    roots = {s.entry["verification"]["inclusionProof"]["treeSize"]: hexd(s.entry["verification"]["inclusionProof"]["rootHash"]) for s in v1_entries}
    roots[info["treeSize"]] = hexd(info["rootHash"])
    sizes = sorted(roots)
    pairs = list(zip(sizes, sizes[1:])) + [(sizes[0], sizes[-1]), (sizes[-1], sizes[-1]), (sizes[0], sizes[0])]
    for first, last in pairs:
        r = server.get(f"/api/v1/log/proof?firstSize={first}&lastSize={last}")
        assert r.status_code == 200, f"proof {first}->{last}: {r.status_code} {r.text}"
        proof = r.json()
        assert hexd(proof["rootHash"]) == roots[last], f"proof {first}->{last}: rootHash is not the root at {last}"
        verify_consistency(first, last, roots[first], roots[last], [hexd(h, 32) for h in proof["hashes"]])


# ---------------------------------------------------------------------------------------------
# Rekor v2


def test_v2_entries_verify(server, v2_entries):
    for sub in v2_entries:
        verify_v2_entry(sub.entry, sub.expected_body, server.trust)
    indexes = [int(s.entry["logIndex"]) for s in v2_entries]
    assert 0 not in indexes and len(set(indexes)) == len(indexes)


def tile_path(n):
    """C2SP tlog-tiles index encoding: 3-digit groups, all but the last prefixed with x."""
    groups = []
    while True:
        groups.append(n % 1000)
        n //= 1000
        if n == 0:
            break
    groups.reverse()
    return "/".join(("x%03d" if i < len(groups) - 1 else "%03d") % g for i, g in enumerate(groups))


def fetch_tile(server, level, index, count):
    """The tile holding hashes [index*256, index*256+256) of a level with `count` hashes."""
    width = min(TILE_WIDTH, count - index * TILE_WIDTH)
    path = f"/api/v2/tile/{level}/{tile_path(index)}" + ("" if width == TILE_WIDTH else f".p/{width}")
    r = server.get(path)
    assert r.status_code == 200, f"GET {path}: {r.status_code} {r.text[:200]}"
    assert len(r.content) == 32 * width, f"GET {path}: {len(r.content)} bytes for width {width}"
    return [r.content[i : i + 32] for i in range(0, len(r.content), 32)]


def fetch_bundle(server, index, size):
    width = min(TILE_WIDTH, size - index * TILE_WIDTH)
    path = f"/api/v2/tile/entries/{tile_path(index)}" + ("" if width == TILE_WIDTH else f".p/{width}")
    r = server.get(path)
    assert r.status_code == 200, f"GET {path}: {r.status_code} {r.text[:200]}"
    data, entries = r.content, []
    while data:
        assert len(data) >= 2, "truncated entry bundle"
        n = int.from_bytes(data[:2], "big")
        assert len(data) >= 2 + n, "truncated entry bundle"
        entries.append(data[2 : 2 + n])
        data = data[2 + n :]
    assert len(entries) == width, f"GET {path}: {len(entries)} entries for width {width}"
    return entries


def test_v2_checkpoint_and_tiles(server, v2_entries):
    """Rebuild the v2 tree from its tiles alone: the level-0 tiles must be the leaf hashes of
    the entry bundles, each level-1 hash the root of its level-0 tile, the whole the
    checkpoint's root; every root a v2 answer was proved against must be a prefix of it."""
    note = verify_v2_checkpoint(server.checkpoint(), server.trust)
    size = note.size
    assert size > TILE_WIDTH, "the fixture should have grown the tree past one tile"

    leaves = []
    for n in range(-(-size // TILE_WIDTH)):
        tile = fetch_tile(server, 0, n, size)
        bundle = fetch_bundle(server, n, size)
        assert [leaf_hash(e) for e in bundle] == tile, f"level-0 tile {n} is not the hashes of entry bundle {n}"
        leaves.extend(zip(tile, bundle))
    hashes = [h for h, _ in leaves]
    assert root_from_hashes(hashes) == note.root, "the tiles do not hash to the checkpoint root"

    level, below = 1, hashes
    while len(below) >= TILE_WIDTH:
        count = len(below) // TILE_WIDTH
        upper = []
        for n in range(-(-count // TILE_WIDTH)):
            upper.extend(fetch_tile(server, level, n, count))
        for k, h in enumerate(upper):
            assert h == root_from_hashes(below[k * TILE_WIDTH : (k + 1) * TILE_WIDTH]), f"level-{level} hash {k} is wrong"
        level, below = level + 1, upper

    for sub in v2_entries:
        index = int(sub.entry["logIndex"])
        assert leaves[index][1] == sub.expected_body, f"entry bundle holds something else at {index}"
        p = sub.entry["inclusionProof"]
        assert root_from_hashes(hashes[: int(p["treeSize"])]) == b64d(p["rootHash"]), (
            f"the root at size {p['treeSize']} the log once signed is not a prefix of today's tree"
        )


# ---------------------------------------------------------------------------------------------
# Negative cases


def test_v1_duplicate_is_409(server, v1_entries):
    r = server.post("/api/v1/log/entries", v1_entries[0].request)
    assert_error_json(r, 409)


def test_v1_bad_signatures_are_400(server):
    signer, other = Signer(), Signer()
    artifact = secrets.token_bytes(64)
    cases = {
        "signed by another key": v1_request(signer, artifact=artifact, signature=other.sign(artifact)),
        "signature over other data": v1_request(signer, artifact=artifact, signature=signer.sign(artifact + b"!")),
        "signature not DER": v1_request(signer, artifact=artifact, signature=secrets.token_bytes(70)),
    }
    for what, sub in cases.items():
        r = server.post("/api/v1/log/entries", sub.request)
        assert r.status_code == 400, f"{what}: expected 400, got {r.status_code} {r.text}"
        assert_error_json(r, 400)


def test_v2_bad_signatures_are_400(server):
    signer, other = Signer(), Signer()
    artifact = secrets.token_bytes(64)
    cases = {
        "signed by another key": v2_request(signer, artifact=artifact, signature=other.sign(artifact)),
        "signature over other data": v2_request(signer, artifact=artifact, signature=signer.sign(artifact + b"!")),
        "signature not DER": v2_request(signer, artifact=artifact, signature=secrets.token_bytes(70)),
    }
    for what, sub in cases.items():
        r = server.post("/api/v2/log/entries", sub.request)
        assert r.status_code == 400, f"{what}: expected 400, got {r.status_code} {r.text}"
        assert_error_json(r, 400)


def test_malformed_requests_get_json_errors(server):
    assert_error_json(server.post_raw("/api/v1/log/entries", b"{not json"))
    assert_error_json(server.post("/api/v1/log/entries", {"apiVersion": "0.0.1", "kind": "hashedrekord", "spec": {}}))
    assert_error_json(server.post_raw("/api/v2/log/entries", b"{not json"))
    assert_error_json(server.get("/api/v1/log/entries/" + "ab" * 32), 404)
    assert_error_json(server.get("/api/v1/log/proof?firstSize=5&lastSize=2"))


def test_tampering_is_detected(server, v1_entries, v2_entries):
    """Every field the verifiers read is load-bearing: change any one and they fail."""
    trust = server.trust
    sub = max(v1_entries, key=lambda s: len(s.entry["verification"]["inclusionProof"]["hashes"]))
    p = sub.entry["verification"]["inclusionProof"]
    assert len(p["hashes"]) >= 2

    def v1_with(mutate):
        entry = json.loads(json.dumps(sub.entry))
        mutate(entry)
        return entry

    def flip_hex(h):
        return ("1" if h[0] == "0" else "0") + h[1:]

    tampered = []
    for i in range(len(p["hashes"])):
        tampered.append(v1_with(lambda e, i=i: e["verification"]["inclusionProof"]["hashes"].__setitem__(i, flip_hex(p["hashes"][i]))))
    tampered.append(v1_with(lambda e: e["verification"]["inclusionProof"]["hashes"].pop()))
    tampered.append(v1_with(lambda e: e["verification"]["inclusionProof"].__setitem__("rootHash", flip_hex(p["rootHash"]))))
    tampered.append(v1_with(lambda e: e["verification"]["inclusionProof"].__setitem__("treeSize", p["treeSize"] + 1)))
    tampered.append(v1_with(lambda e: e.__setitem__("integratedTime", e["integratedTime"] + 1)))
    tampered.append(v1_with(lambda e: e.__setitem__("logIndex", e["logIndex"] + 1)))
    sig_line = p["checkpoint"].split("\n\n")[1]
    forged = f"{p['checkpoint'].split(chr(10))[0]}\n{p['treeSize']}\n{b64e(bytes(32))}\n\n{sig_line}"
    tampered.append(v1_with(lambda e: e["verification"]["inclusionProof"].__setitem__("checkpoint", forged)))
    set_bytes = bytearray(b64d(sub.entry["verification"]["signedEntryTimestamp"]))
    set_bytes[-1] ^= 1
    tampered.append(v1_with(lambda e: e["verification"].__setitem__("signedEntryTimestamp", b64e(bytes(set_bytes)))))
    for entry in tampered:
        with pytest.raises(VerifyError):
            verify_v1_entry(entry, sub.expected_body, trust)
    with pytest.raises(VerifyError):
        verify_v1_entry(sub.entry, sub.expected_body + b" ", trust)
    verify_v1_entry(sub.entry, sub.expected_body, trust)  # the original still passes

    sub2 = max(v2_entries, key=lambda s: len(s.entry["inclusionProof"]["hashes"]))
    p2 = sub2.entry["inclusionProof"]
    for i in range(len(p2["hashes"])):
        entry = json.loads(json.dumps(sub2.entry))
        h = bytearray(b64d(p2["hashes"][i]))
        h[0] ^= 1
        entry["inclusionProof"]["hashes"][i] = b64e(bytes(h))
        with pytest.raises(VerifyError):
            verify_v2_entry(entry, sub2.expected_body, trust)
    entry = json.loads(json.dumps(sub2.entry))
    entry["inclusionProof"]["checkpoint"]["envelope"] = entry["inclusionProof"]["checkpoint"]["envelope"].replace(
        "\n" + p2["treeSize"] + "\n", "\n" + str(int(p2["treeSize"]) + 1) + "\n", 1
    )
    with pytest.raises(VerifyError):
        verify_v2_entry(entry, sub2.expected_body, trust)
    verify_v2_entry(sub2.entry, sub2.expected_body, trust)

    # A consistency proof from the log, tampered hash by hash.
    sizes = sorted({s.entry["verification"]["inclusionProof"]["treeSize"] for s in v1_entries})
    info = server.get("/api/v1/log").json()
    first, last = sizes[0], info["treeSize"]
    first_root = next(
        hexd(s.entry["verification"]["inclusionProof"]["rootHash"]) for s in v1_entries if s.entry["verification"]["inclusionProof"]["treeSize"] == first
    )
    proof = server.get(f"/api/v1/log/proof?firstSize={first}&lastSize={last}").json()
    path = [hexd(h, 32) for h in proof["hashes"]]
    assert first < last and path
    verify_consistency(first, last, first_root, hexd(info["rootHash"]), path)
    for i in range(len(path)):
        bad = list(path)
        bad[i] = bytes([bad[i][0] ^ 1]) + bad[i][1:]
        with pytest.raises(VerifyError):
            verify_consistency(first, last, first_root, hexd(info["rootHash"]), bad)
