"""`waxseal enforce manifests` validated against the Kubernetes OpenAPI schemas by an
independent validator (PyPI kubernetes-validate, strict mode: unknown fields are errors), for
the Kubernetes versions it ships, with and without a trusted root installed beside the
policies."""

import os
import pathlib
import subprocess
import sys

import pytest

WAXSEAL = os.environ["WAXSEAL_BIN"]
# The validator installed beside this Python (interop/requirements.txt).
VALIDATE = str(pathlib.Path(sys.executable).parent / "kubernetes-validate")

POLICY = """apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata:
  name: signed
spec:
  images:
  - glob: "registry.example/**"
  authorities:
  - keyless:
      identities:
      - issuer: https://token.actions.githubusercontent.com
        subjectRegExp: "https://github.com/example/.*"
"""


def certificate(tmp: pathlib.Path) -> tuple[pathlib.Path, pathlib.Path]:
    cert, key = tmp / "tls.crt", tmp / "tls.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-nodes", "-keyout", key, "-out", cert, "-days", "1",
         "-subj", "/CN=waxseal-enforce.waxseal-system.svc",
         "-addext", "subjectAltName=DNS:waxseal-enforce.waxseal-system.svc"],
        check=True, capture_output=True)
    return cert, key


def manifests(tmp: pathlib.Path, *extra: str) -> pathlib.Path:
    cert, key = certificate(tmp)
    policy = tmp / "policy.yaml"
    policy.write_text(POLICY)
    out = subprocess.run(
        [WAXSEAL, "enforce", "manifests", "--tls-cert", cert, "--tls-key", key,
         "--policy", policy, *extra],
        check=True, capture_output=True, text=True)
    path = tmp / "install.yaml"
    path.write_text(out.stdout)
    return path


@pytest.mark.parametrize("version", ["1.30.0", "1.33.0", "1.37.0"])
def test_manifests_validate_strictly(tmp_path: pathlib.Path, version: str) -> None:
    path = manifests(tmp_path)
    result = subprocess.run(
        [VALIDATE, "--strict", "-k", version, path],
        capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    # Every object was validated (one "valid" line each), none skipped.
    text = result.stdout + result.stderr
    assert text.count("INFO") >= 7 or text.count("passed") >= 7, text


def test_manifests_with_cluster_watching_validate(tmp_path: pathlib.Path) -> None:
    path = manifests(tmp_path, "--watch-interval", "1m")
    text = path.read_text()
    for kind in ["ServiceAccount", "ClusterRole", "ClusterRoleBinding"]:
        assert f"kind: {kind}" in text, text
    assert "serviceAccountName: waxseal-enforce" in text, text
    result = subprocess.run(
        [VALIDATE, "--strict", path], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_manifests_with_a_trusted_root_validate(tmp_path: pathlib.Path) -> None:
    root = tmp_path / "trusted_root.json"
    # The embedded production root, as any trusted root JSON.
    root.write_bytes(
        (pathlib.Path(__file__).resolve().parents[2]
         / "crates/verify/data/production_trusted_root.json").read_bytes())
    path = manifests(tmp_path, "--trusted-root", root)
    result = subprocess.run(
        [VALIDATE, "--strict", path], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "trusted_root.json" in path.read_text()
