"""Static hosting: `waxseal serve --publish-dir` and `--publish-url s3://...`, checked by the
independent verifier of interop/rekor against what a real nginx serves from the published
directory, and against the objects a real S3 implementation (moto) holds.

The published read path must stand on its own: the checkpoints verify with the log keys of
DATA_DIR/trust/trusted_root.json, the tiles alone hash to their roots, the entry bundles hold
the submitted bodies at their indexes, the CT log's issuers are the certificates their names
hash to, and every published object is byte for byte what `waxseal serve` answers."""

import hashlib
import json
import os
import queue
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "rekor"))

from rfc9162 import leaf_hash, root_from_hashes  # noqa: E402
from test_rekor import (  # noqa: E402
    TILE_WIDTH,
    Signer,
    Trust,
    in_parallel,
    submit_v1,
    submit_v2,
    tile_path,
    v1_request,
    v2_request,
    verify_v1_checkpoint,
    verify_v2_checkpoint,
    waxseal_binary,
)

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
STARTUP_TIMEOUT = 30
PUBLISH_TIMEOUT = 30
# Enough entries to grow the Rekor trees past one full tile (full and partial tiles, level 1).
ENTRIES = 300
CHECKPOINTS = ["api/v1/checkpoint", "checkpoint", "ct/checkpoint"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Http:
    def __init__(self, base):
        self.base = base
        self.session = requests.Session()

    def get(self, path):
        return self.session.get(self.base + path, timeout=30)


class Serve:
    """A `waxseal serve` with extra arguments; stdout pumped so it never blocks."""

    def __init__(self, tmp, args, env=None):
        self.data_dir = tmp / "data"
        self.log_path = tmp / "serve.log"
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [str(waxseal_binary()), "serve", "--data-dir", str(self.data_dir), "--listen", "127.0.0.1:0", *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
            env=env,
        )
        lines = queue.Queue()

        def pump():
            for line in self.proc.stdout:
                lines.put(line)
            lines.put(None)

        threading.Thread(target=pump, daemon=True).start()
        first = lines.get(timeout=STARTUP_TIMEOUT)
        if first is None:
            pytest.fail(f"waxseal serve exited before printing its URL\n{self.tail()}")
        m = re.search(r"at http://(\S+)", first)
        assert m, f"no URL in {first!r}"
        self.http = Http("http://" + m.group(1).rstrip("/"))
        self.base = self.http.base
        tlogs = json.loads((self.data_dir / "trust" / "trusted_root.json").read_text())
        origin = self.http.get("/api/v2/checkpoint").content.decode().split("\n", 1)[0]
        self.trust = Trust(tlogs["tlogs"], origin)
        self.trusted_root = tlogs

    # test_rekor's submit helpers call server.post and server.log_tail.
    def post(self, path, body):
        return requests.post(self.base + path, json=body, timeout=30)

    def log_tail(self):
        return self.tail()

    def tail(self):
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-40:])

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def sign_keyless(serve, tmp):
    """One keyless signature through the CA: a precertificate in the CT log."""
    token = subprocess.run(
        [str(waxseal_binary()), "token", "--subject", "alice", "--email", "alice@example.com", "--data-dir", str(serve.data_dir)],
        check=True, capture_output=True, text=True,
    ).stdout.strip()
    artifact = tmp / "artifact.txt"
    artifact.write_bytes(b"published by the CT test")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SIGSTORE", "WAXSEAL"))}
    out = subprocess.run(
        [str(waxseal_binary()), "sign", str(artifact), "--identity-token", token, "--instance", serve.base,
         "--bundle", str(tmp / "artifact.sigstore.json")],
        capture_output=True, text=True, env=env,
    )
    assert out.returncode == 0, out.stderr


def submit_entries(serve):
    signer = Signer()
    v1 = in_parallel(lambda _: submit_v1(serve, v1_request(signer)), range(ENTRIES))
    v2 = in_parallel(lambda _: submit_v2(serve, v2_request(signer)), range(ENTRIES))
    return v1, v2


def wait_published(serve, read):
    """Waits until every published checkpoint is the one the server answers now."""
    deadline = time.monotonic() + PUBLISH_TIMEOUT
    for path in CHECKPOINTS:
        while True:
            served = serve.http.get("/" + path).content
            if read(path) == served:
                break
            assert time.monotonic() < deadline, f"{path} was not published in time\n{serve.tail()}"
            time.sleep(0.05)


def split_bundle(data, width, path):
    entries = []
    while data:
        assert len(data) >= 2, f"{path}: truncated entry bundle"
        n = int.from_bytes(data[:2], "big")
        assert len(data) >= 2 + n, f"{path}: truncated entry bundle"
        entries.append(data[2 : 2 + n])
        data = data[2 + n :]
    assert len(entries) == width, f"{path}: {len(entries)} entries for width {width}"
    return entries


def suffix(index, count):
    width = min(TILE_WIDTH, count - index * TILE_WIDTH)
    return tile_path(index) + ("" if width == TILE_WIDTH else f".p/{width}"), width


def rebuild(http, prefix, size, data="entries"):
    """The tree of `size` from the tiles at `prefix` alone: level-0 tiles are the leaf hashes of
    the bundles (for tlog-tiles; for static-ct-api the leaves are checked by the caller), each
    higher tile the roots of the tiles below. Returns (level-0 hashes, bundle entries)."""

    def tile(level, index, count):
        s, width = suffix(index, count)
        path = f"{prefix}tile/{level}/{s}"
        r = http.get(path)
        assert r.status_code == 200, f"GET {path}: {r.status_code}"
        assert len(r.content) == 32 * width, f"{path}: {len(r.content)} bytes for width {width}"
        return [r.content[i : i + 32] for i in range(0, len(r.content), 32)]

    hashes, entries = [], []
    for n in range(-(-size // TILE_WIDTH)):
        hashes.extend(tile(0, n, size))
        s, width = suffix(n, size)
        path = f"{prefix}tile/{data}/{s}"
        r = http.get(path)
        assert r.status_code == 200, f"GET {path}: {r.status_code}"
        entries.append(r.content if data == "data" else split_bundle(r.content, width, path))
    level, below = 1, hashes
    while len(below) >= TILE_WIDTH:
        count = len(below) // TILE_WIDTH
        upper = []
        for n in range(-(-count // TILE_WIDTH)):
            upper.extend(tile(level, n, count))
        for k, h in enumerate(upper):
            assert h == root_from_hashes(below[k * TILE_WIDTH : (k + 1) * TILE_WIDTH]), f"{prefix} level-{level} hash {k}"
        level, below = level + 1, upper
    return hashes, entries


def check_rekor_log(http, prefix, note, submissions):
    hashes, bundles = rebuild(http, prefix, note.size)
    entries = [e for b in bundles for e in b]
    assert [leaf_hash(e) for e in entries] == hashes, f"{prefix}: level-0 tiles are not the bundles' leaf hashes"
    assert root_from_hashes(hashes) == note.root, f"{prefix}: the tiles do not hash to the checkpoint root"
    for sub in submissions:
        index = int(sub.entry["logIndex"])
        assert entries[index] == sub.expected_body, f"{prefix}: bundle holds something else at {index}"


def ct_leaves(data):
    """static-ct-api TileLeaf: timestamp, entry type, the entry, extensions, [precert], chain."""
    leaves = []
    while data:
        ts, kind = int.from_bytes(data[:8], "big"), int.from_bytes(data[8:10], "big")
        p = 10
        if kind == 0:  # x509_entry: cert<1..2^24-1>
            n = int.from_bytes(data[p : p + 3], "big"); p += 3 + n
        else:  # precert_entry: issuer_key_hash[32], tbs<1..2^24-1>
            p += 32
            n = int.from_bytes(data[p : p + 3], "big"); p += 3 + n
        entry_end = p
        n = int.from_bytes(data[p : p + 2], "big"); p += 2 + n  # extensions
        if kind == 1:
            n = int.from_bytes(data[p : p + 3], "big"); p += 3 + n  # pre_certificate
        n = int.from_bytes(data[p : p + 2], "big"); p += 2
        chain = [data[p + i : p + i + 32] for i in range(0, n, 32)]
        p += n
        # RFC 6962 §3.4 MerkleTreeLeaf: version 0, timestamped_entry 0, then TimestampedEntry
        # (timestamp, entry type, the entry, extensions).
        ext_len = int.from_bytes(data[entry_end : entry_end + 2], "big")
        mtl = b"\x00\x00" + data[:entry_end] + data[entry_end : entry_end + 2 + ext_len]
        leaves.append((leaf_hash(mtl), chain))
        data = data[p:]
    return leaves


def check_ct_log(http, size):
    r = http.get("ct/checkpoint")
    assert r.status_code == 200
    lines = r.content.decode().split("\n")
    assert int(lines[1]) == size
    root = __import__("base64").b64decode(lines[2])
    hashes, tiles = rebuild(http, "ct/", size, data="data")
    leaves = [leaf for t in tiles for leaf in ct_leaves(t)]
    assert len(leaves) == size
    assert [h for h, _ in leaves] == hashes, "CT level-0 tiles are not the data tiles' leaf hashes"
    assert root_from_hashes(hashes) == root, "the CT tiles do not hash to the checkpoint root"
    fingerprints = {fp for _, chain in leaves for fp in chain}
    assert fingerprints, "the precertificates name no issuers"
    for fp in fingerprints:
        r = http.get(f"ct/issuer/{fp.hex()}")
        assert r.status_code == 200, f"issuer {fp.hex()}: {r.status_code}"
        assert hashlib.sha256(r.content).digest() == fp, f"issuer {fp.hex()} is not the certificate it names"


class Nginx:
    """nginx on a loopback port serving `root`, with its own config, pid and logs in `tmp`."""

    def __init__(self, tmp, root):
        if not os.path.exists(NGINX):
            pytest.fail(f"no nginx at {NGINX}: apt-get install nginx")
        self.port = free_port()
        conf = tmp / "nginx.conf"
        user = "user root;\n" if os.geteuid() == 0 else ""
        temp = tmp / "nginx-temp"
        temp.mkdir()
        conf.write_text(
            f"""{user}daemon off;
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log;
events {{ worker_connections 64; }}
http {{
    access_log {tmp}/nginx-access.log;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    server {{
        listen 127.0.0.1:{self.port};
        root {root};
        default_type application/octet-stream;
        add_header Cache-Control "public, max-age=31536000, immutable";
        location ~ (^|/)checkpoint$ {{
            default_type "text/plain; charset=utf-8";
            add_header Cache-Control no-cache;
        }}
        location ~ ^/ct/issuer/ {{ default_type application/pkix-cert; }}
        # The Rekor v2 log is served at the root and under /api/v2, as waxseal serve does.
        rewrite ^/api/v2/(.*)$ /$1 last;
    }}
}}
"""
        )
        self.proc = subprocess.Popen([NGINX, "-c", str(conf), "-p", str(tmp)], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=open(tmp / "nginx-stderr.log", "wb"))
        self.http = Http(f"http://127.0.0.1:{self.port}/")
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                assert self.proc.poll() is None, f"nginx exited: {(tmp / 'nginx-stderr.log').read_text()}"
                assert time.monotonic() < deadline, "nginx did not start"
                time.sleep(0.05)

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def published_files(root):
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_published_directory_served_by_nginx_verifies(tmp_path):
    public = tmp_path / "public"
    serve = Serve(tmp_path, ["--publish-dir", str(public)])
    nginx = None
    try:
        v1, v2 = submit_entries(serve)
        sign_keyless(serve, tmp_path)
        wait_published(serve, lambda p: (public / p).read_bytes() if (public / p).exists() else None)
        nginx = Nginx(tmp_path, public)
        web = nginx.http

        r = web.get("api/v1/checkpoint")
        assert r.headers["Content-Type"].startswith("text/plain")
        note = verify_v1_checkpoint(r.content.decode(), serve.trust)
        assert note.size > TILE_WIDTH
        check_rekor_log(web, "api/v1/", note, v1)

        for path in ["checkpoint", "api/v2/checkpoint"]:
            r = web.get(path)
            assert r.status_code == 200, f"{path}: {r.status_code}"
            assert r.headers["Content-Type"].startswith("text/plain"), path
            note = verify_v2_checkpoint(r.content.decode(), serve.trust)
        assert note.size > TILE_WIDTH
        check_rekor_log(web, "", note, v2)
        check_rekor_log(web, "api/v2/", note, v2)

        check_ct_log(web, int(web.get("ct/checkpoint").content.decode().split("\n")[1]))

        # Every published file is what nginx and waxseal serve answer for its path.
        files = published_files(public)
        assert len(files) > 10
        for f in files:
            from_nginx = web.get(f)
            assert from_nginx.status_code == 200, f
            assert from_nginx.content == (public / f).read_bytes(), f
            if f not in CHECKPOINTS:
                assert serve.http.get("/" + f).content == from_nginx.content, f
    finally:
        if nginx:
            nginx.stop()
        serve.stop()


@pytest.fixture
def moto(tmp_path):
    """moto_server on a free loopback port, a boto3 client for it, and the AWS_* variables
    that point waxseal at it; stopped after the test."""
    exe = shutil.which("moto_server")
    if exe is None:
        pytest.fail("no moto_server: pip install 'moto[server]' (interop/requirements.txt)")
    import boto3

    port = free_port()
    proc = subprocess.Popen([exe, "-H", "127.0.0.1", "-p", str(port)], stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=open(tmp_path / "moto.log", "wb"))
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert proc.poll() is None, (tmp_path / "moto.log").read_text()
                assert time.monotonic() < deadline, "moto_server did not start"
                time.sleep(0.1)
        endpoint = f"http://127.0.0.1:{port}"
        aws = {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": "us-east-1",
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ALLOW_HTTP": "true",
        }
        s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                          aws_access_key_id="testing", aws_secret_access_key="testing")
        s3.create_bucket(Bucket="tiles")
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")} | aws
        yield s3, env
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def s3_reader(s3):
    def read(path):
        try:
            return s3.get_object(Bucket="tiles", Key="logs/" + path)["Body"].read()
        except s3.exceptions.NoSuchKey:
            return None

    return read


def test_published_to_s3_matches_the_server(tmp_path, moto):
    s3, env = moto
    serve = Serve(tmp_path, ["--publish-url", "s3://tiles/logs"], env=env)
    try:
        submit_entries(serve)
        sign_keyless(serve, tmp_path)
        read = s3_reader(s3)
        wait_published(serve, read)
        keys = []
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket="tiles"):
            keys.extend(o["Key"] for o in page.get("Contents", []))
        assert keys and all(k.startswith("logs/") for k in keys), keys[:5]
        paths = sorted(k[len("logs/"):] for k in keys)
        for want in ["checkpoint", "api/v1/checkpoint", "ct/checkpoint", "tile/0/000", "api/v1/tile/1/000.p/1"]:
            assert want in paths, want
        assert any(p.startswith("ct/issuer/") for p in paths)
        assert any(p.startswith("ct/tile/data/") for p in paths)
        for path in paths:
            obj = s3.get_object(Bucket="tiles", Key="logs/" + path)
            body = obj["Body"].read()
            if path in CHECKPOINTS:
                assert obj["ContentType"].startswith("text/plain"), path
                assert obj.get("CacheControl") == "no-cache", path
                continue
            served = serve.http.get("/" + path)
            assert served.status_code == 200, path
            assert body == served.content, path
            assert obj.get("CacheControl") == "public, max-age=31536000, immutable", path
        verify_v1_checkpoint(read("api/v1/checkpoint").decode(), serve.trust)
        verify_v2_checkpoint(read("checkpoint").decode(), serve.trust)
    finally:
        serve.stop()


def test_a_conflicting_s3_object_stops_only_that_log(tmp_path, moto):
    """A write-once object already in the bucket with other bytes (S3 refuses the conditional
    write): that log publishes no checkpoint and says why; the other logs go on."""
    s3, env = moto
    # The Rekor v2 log starts with its genesis entry: its first publication writes this.
    s3.put_object(Bucket="tiles", Key="logs/tile/entries/000.p/1", Body=b"someone else's bundle")
    serve = Serve(tmp_path, ["--publish-url", "s3://tiles/logs"], env=env)
    try:
        read = s3_reader(s3)
        deadline = time.monotonic() + PUBLISH_TIMEOUT
        for path in ["api/v1/checkpoint", "ct/checkpoint"]:
            while read(path) != serve.http.get("/" + path).content:
                assert time.monotonic() < deadline, f"{path} was not published\n{serve.tail()}"
                time.sleep(0.05)
        while "publishing stopped" not in serve.log_path.read_text(errors="replace"):
            assert time.monotonic() < deadline, f"no error logged\n{serve.tail()}"
            time.sleep(0.05)
        log = serve.log_path.read_text(errors="replace")
        assert "tile/entries/000.p/1" in log and "differs" in log, serve.tail()
        assert read("checkpoint") is None, "a checkpoint was published over a conflicting bundle"
        assert read("tile/entries/000.p/1") == b"someone else's bundle"
    finally:
        serve.stop()
