"""A waxseal cluster for the interop harnesses: a throwaway PostgreSQL server in a temporary
directory and two `waxseal serve --database` front ends on one data directory.

The first front end starts alone, so it takes every log's sequencer lock; the second starts
once the first is ready and is a follower of every log (checked through `/admin/status`).
Clients are pointed at the follower: both front ends run with `--public-url` set to the
follower's URL, so the trust files, the OIDC issuer and the checkpoint names all name it, and
every write it takes is sequenced by the other process through the database.

Imported by interop/sigstore (the `cluster` variant of its `instance` fixture). Run as a
script (`python interop/pgcluster.py WAXSEAL_BIN DIR`) by interop/js: it prints one JSON line
`{"base", "data", "front_ends", "sequencer"}` once the cluster is ready and tears everything
down on SIGTERM or when stdin closes.

PostgreSQL comes from PATH or /usr/lib/postgresql/*/bin (Debian's `postgresql` package). As
root, the server runs as the `postgres` user (initdb refuses root).
"""

import contextlib
import glob
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

STARTUP_TIMEOUT = 60


def postgres_bin(name):
    """The PostgreSQL program `name`: on PATH, else in the newest /usr/lib/postgresql/*/bin."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(
        glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
        key=lambda p: int(re.search(r"/postgresql/(\d+)/", p).group(1)),
    )
    if not candidates:
        raise RuntimeError(
            f"PostgreSQL's {name} is not installed (apt-get install postgresql)"
        )
    return candidates[-1]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(url, timeout=5):
    """(status, body) of a GET; (None, b"") when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
    except OSError:
        return None, b""


class Postgres:
    """A PostgreSQL server on a loopback port, its cluster in a fresh temporary directory."""

    def __init__(self):
        self.root = Path(tempfile.mkdtemp(prefix="waxseal-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.proc = None
        self.as_postgres = os.geteuid() == 0

    def _cmd(self, args):
        if self.as_postgres:
            return ["runuser", "-u", "postgres", "--", *args]
        return args

    def start(self):
        if self.as_postgres:
            shutil.chown(self.root, "postgres", "postgres")
        subprocess.run(
            self._cmd([postgres_bin("initdb"), "-D", str(self.data), "-U", "waxseal",
                       "--auth=trust", "--no-instructions", "-E", "UTF8"]),
            check=True, capture_output=True, text=True,
        )
        self.log = open(self.root / "postgres.log", "w")
        self.proc = subprocess.Popen(
            self._cmd([postgres_bin("postgres"), "-D", str(self.data), "-p", str(self.port),
                       "-c", "listen_addresses=127.0.0.1",
                       "-c", f"unix_socket_directories={self.root}"]),
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            ready = subprocess.run(
                [postgres_bin("pg_isready"), "-h", "127.0.0.1", "-p", str(self.port)],
                capture_output=True,
            )
            if ready.returncode == 0:
                return
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"PostgreSQL did not start: {(self.root / 'postgres.log').read_text()[-2000:]}"
                )
            time.sleep(0.1)

    def create_database(self, name):
        subprocess.run(
            [postgres_bin("createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "waxseal",
             name],
            check=True, capture_output=True, text=True,
        )
        return f"postgres://waxseal@127.0.0.1:{self.port}/{name}"

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            # SIGINT: PostgreSQL's "fast" shutdown.
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.root, ignore_errors=True)


class FrontEnd:
    """One `waxseal serve --database`; its stderr goes to `log_path`."""

    def __init__(self, waxseal, data, database, listen, public_url, log_path):
        self.log_path = log_path
        self.log = open(log_path, "w")
        self.proc = subprocess.Popen(
            [str(waxseal), "serve", "--data-dir", str(data), "--listen", listen,
             "--database", database, "--public-url", public_url],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self.log, text=True,
        )
        self.addr = None
        deadline = time.monotonic() + STARTUP_TIMEOUT
        for line in self.proc.stdout:
            m = re.match(r"waxseal: listening on (\S+)", line)
            if m:
                self.addr = m.group(1)
                break
            if time.monotonic() > deadline:
                break
        if self.addr is None:
            self.stop()
            raise RuntimeError(f"waxseal serve did not start: {Path(log_path).read_text()[-3000:]}")
        # Drain stdout so the server never blocks on a full pipe.
        threading.Thread(target=lambda: [None for _ in self.proc.stdout], daemon=True).start()
        self.url = f"http://{self.addr}"

    def wait_ready(self):
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            status, body = http_get(f"{self.url}/readyz")
            if status == 200:
                return
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"{self.url} not ready ({status} {body!r}): "
                    f"{Path(self.log_path).read_text()[-3000:]}"
                )
            time.sleep(0.05)

    def roles(self):
        """{log: role} from /admin/status (loopback, so no token)."""
        status, body = http_get(f"{self.url}/admin/status")
        assert status == 200, f"/admin/status on {self.url}: {status} {body!r}"
        return {log["name"]: log["role"] for log in json.loads(body)["logs"]}

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def wait_for(predicate, what):
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.05)


@contextlib.contextmanager
def cluster(waxseal, root):
    """Yields (base URL clients use, data directory, sequencer front end, client front end)."""
    root = Path(root)
    data = root / "data"
    postgres = Postgres()
    front_ends = []
    try:
        postgres.start()
        database = postgres.create_database("waxseal")
        client_port = free_port()
        public = f"http://127.0.0.1:{client_port}"
        sequencer = FrontEnd(waxseal, data, database, "127.0.0.1:0", public, root / "sequencer.log")
        front_ends.append(sequencer)
        sequencer.wait_ready()
        wait_for(lambda: set(sequencer.roles().values()) == {"sequencer"},
                 "the first front end to sequence every log")
        client = FrontEnd(waxseal, data, database, f"127.0.0.1:{client_port}", public,
                          root / "client.log")
        front_ends.append(client)
        client.wait_ready()
        roles = client.roles()
        assert set(roles.values()) == {"follower"}, f"the client front end must follow: {roles}"
        yield public, data, sequencer, client
    finally:
        for front_end in reversed(front_ends):
            front_end.stop()
        postgres.stop()


def main():
    waxseal, root = sys.argv[1], sys.argv[2]
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
    with cluster(waxseal, root) as (base, data, sequencer, client):
        print(json.dumps({
            "base": base,
            "data": str(data),
            "front_ends": [sequencer.url, client.url],
            "sequencer": sequencer.url,
        }), flush=True)
        stop.wait()


if __name__ == "__main__":
    main()
