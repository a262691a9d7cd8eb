"""Attestations across clients, with SBOMs from independent producers: a CycloneDX BOM made by
`cyclonedx-py` (PyPI `cyclonedx-bom`) and an SPDX 2.3 JSON document written by `pyspdxtools`
(PyPI `spdx-tools`), attested by sigstore-python (`sigstore attest`) and by `waxseal attest`
against one `waxseal serve`. Each attestation verifies with the other client, and
`waxseal verify-attestation` / `waxseal policy check` evaluate Rego policies over the SBOM's
contents ("no component named X", "every package has a license")."""

import hashlib
import json
import subprocess
import sys
from pathlib import Path

from test_sigstore import EMAIL, artifact, instance, py_verify, tampered, waxseal  # noqa: F401

MODE = "rekor-v1"

CIP = """apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata:
  name: {name}
spec:
  images:
  - glob: "**"
  authorities:
  - name: alice
    keyless:
      identities:
      - issuer: {issuer}
        subject: {email}
    attestations:
    - name: sbom
      predicateType: {predicate_type}
      policy:
        type: rego
        data: |
{rego}
"""


def cip(instance, name, predicate_type, rego):
    body = "\n".join("          " + line for line in rego.strip().splitlines())
    return CIP.format(name=name, issuer=instance.issuer, email=EMAIL,
                      predicate_type=predicate_type, rego=body)


def cyclonedx_bom(tmp_path):
    """A CycloneDX 1.6 JSON BOM of this Python environment, made by cyclonedx-py."""
    out = tmp_path / "bom.cdx.json"
    result = subprocess.run(
        [str(Path(sys.executable).parent / "cyclonedx-py"), "environment", "--of", "JSON",
         "--sv", "1.6", "-o", str(out), sys.executable],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    bom = json.loads(out.read_text())
    assert bom["bomFormat"] == "CycloneDX" and bom["components"], bom.keys()
    return out, bom


SPDX_TAG_VALUE = """SPDXVersion: SPDX-2.3
DataLicense: CC0-1.0
SPDXID: SPDXRef-DOCUMENT
DocumentName: release
DocumentNamespace: https://example.com/spdx/release-1
Creator: Tool: waxseal-interop
Created: 2026-01-01T00:00:00Z

PackageName: release
SPDXID: SPDXRef-release
PackageVersion: 1.0.0
PackageDownloadLocation: NOASSERTION
FilesAnalyzed: false
PackageLicenseConcluded: Apache-2.0
PackageLicenseDeclared: Apache-2.0
PackageCopyrightText: NOASSERTION

PackageName: zlib
SPDXID: SPDXRef-zlib
PackageVersion: 1.3.1
PackageDownloadLocation: NOASSERTION
FilesAnalyzed: false
PackageLicenseConcluded: {zlib_license}
PackageLicenseDeclared: {zlib_license}
PackageCopyrightText: NOASSERTION

Relationship: SPDXRef-DOCUMENT DESCRIBES SPDXRef-release
Relationship: SPDXRef-release DEPENDS_ON SPDXRef-zlib
"""


def spdx_document(tmp_path, zlib_license="Zlib"):
    """An SPDX 2.3 JSON document written by pyspdxtools (validated on conversion)."""
    tag_value = tmp_path / "release.spdx"
    tag_value.write_text(SPDX_TAG_VALUE.format(zlib_license=zlib_license))
    out = tmp_path / f"release-{zlib_license}.spdx.json"
    result = subprocess.run(
        [str(Path(sys.executable).parent / "pyspdxtools"), "-i", str(tag_value), "-o", str(out)],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    doc = json.loads(out.read_text())
    assert doc["spdxVersion"] == "SPDX-2.3", doc.keys()
    return out


def wax_attest(instance, files, predicate, kind, bundle):
    result = waxseal(
        "attest", *map(str, files), "--predicate", str(predicate), "--type", kind,
        "--bundle", str(bundle), "--identity-token", instance.token(),
        "--trust-config", str(instance.trust_config(MODE)),
    )
    assert result.returncode == 0, f"waxseal attest failed:\n{result.stdout}\n{result.stderr}"


def wax_verify_attestation(instance, artifact, bundle, *extra):
    return waxseal(
        "verify-attestation", str(artifact), "--bundle", str(bundle),
        "--trust-config", str(instance.trust_config(MODE)), *extra,
    )


def identity(instance):
    return ["--certificate-identity", EMAIL, "--certificate-oidc-issuer", instance.issuer]


def policy_check(instance, tmp_path, artifact, bundle, name, predicate_type, rego):
    path = tmp_path / f"{name}.yaml"
    path.write_text(cip(instance, name, predicate_type, rego))
    return waxseal(
        "policy", "check", "--policy", str(path), str(artifact), "--bundle", str(bundle),
        "--trust-config", str(instance.trust_config(MODE)),
    )


NO_COMPONENT = """
package sigstore
default isCompliant = false
isCompliant {{
  count([c | c := input.predicate.components[_]; c.name == "{name}"]) == 0
}}
"""


def py_attest(instance, artifact, predicate_type, predicate, bundle):
    """sigstore-python's attestation API: `sigstore attest` itself only takes SLSA predicate
    types, so other predicates go through the library it is built on (the same StatementBuilder
    and Signer.sign_dsse calls the CLI makes)."""
    from sigstore.dsse import StatementBuilder, Subject
    from sigstore.models import ClientTrustConfig
    from sigstore.oidc import IdentityToken
    from sigstore.sign import SigningContext

    trust = ClientTrustConfig.from_json(instance.trust_config(MODE).read_text())
    context = SigningContext.from_trust_config(trust)
    subject = Subject(name=artifact.name, digest={"sha256": hashlib.sha256(artifact.read_bytes()).hexdigest()})
    statement = StatementBuilder(subjects=[subject], predicate_type=predicate_type, predicate=predicate).build()
    with context.signer(IdentityToken(instance.token()), cache=True) as signer:
        result = signer.sign_dsse(statement)
    bundle.write_text(result.to_json())


def test_sigstore_python_attests_a_cyclonedx_bom_that_waxseal_verifies_with_rego(instance, artifact, tmp_path):
    bom_path, bom = cyclonedx_bom(tmp_path)
    bundle = tmp_path / "py-sbom.sigstore.json"
    py_attest(instance, artifact, "https://cyclonedx.org/bom", bom, bundle)
    assert "dsseEnvelope" in json.loads(bundle.read_text())

    result = wax_verify_attestation(instance, artifact, bundle, *identity(instance), "--type", "cyclonedx")
    assert result.returncode == 0, result.stdout + result.stderr
    result = wax_verify_attestation(instance, tampered(artifact), bundle, *identity(instance))
    assert result.returncode == 1, result.stdout + result.stderr

    present = bom["components"][0]["name"]
    allowed = policy_check(instance, tmp_path, artifact, bundle, "no-log4j", "https://cyclonedx.org/bom",
                           NO_COMPONENT.format(name="log4j-core"))
    assert allowed.returncode == 0, allowed.stdout + allowed.stderr
    denied = policy_check(instance, tmp_path, artifact, bundle, "no-present", "https://cyclonedx.org/bom",
                          NO_COMPONENT.format(name=present))
    assert denied.returncode == 1, denied.stdout + denied.stderr
    assert "no-present" in denied.stderr, denied.stderr


EVERY_PACKAGE_LICENSED = """
package sigstore
default isCompliant = false
unlicensed[p.name] {
  p := input.predicate.packages[_]
  p.licenseConcluded == "NOASSERTION"
}
unlicensed[p.name] {
  p := input.predicate.packages[_]
  not p.licenseConcluded
}
isCompliant {
  count(unlicensed) == 0
}
"""


def test_waxseal_attests_an_spdx_document_that_sigstore_python_verifies(instance, artifact, tmp_path):
    licensed = spdx_document(tmp_path)
    bundle = tmp_path / "wax-spdx.sigstore.json"
    wax_attest(instance, [artifact], licensed, "spdxjson", bundle)
    result = py_verify(instance, MODE, artifact, bundle)
    assert result.returncode == 0, f"sigstore-python refused waxseal's attestation:\n{result.stdout}\n{result.stderr}"
    result = py_verify(instance, MODE, tampered(artifact), bundle)
    assert result.returncode != 0, "sigstore-python accepted a tampered subject"

    ok = policy_check(instance, tmp_path, artifact, bundle, "licensed", "https://spdx.dev/Document",
                      EVERY_PACKAGE_LICENSED)
    assert ok.returncode == 0, ok.stdout + ok.stderr

    unlicensed = spdx_document(tmp_path, zlib_license="NOASSERTION")
    bad_bundle = tmp_path / "wax-spdx-unlicensed.sigstore.json"
    wax_attest(instance, [artifact], unlicensed, "spdxjson", bad_bundle)
    denied = policy_check(instance, tmp_path, artifact, bad_bundle, "licensed", "https://spdx.dev/Document",
                          EVERY_PACKAGE_LICENSED)
    assert denied.returncode == 1, denied.stdout + denied.stderr


def test_waxseal_attests_a_cyclonedx_bom_that_sigstore_python_verifies(instance, artifact, tmp_path):
    bom_path, _ = cyclonedx_bom(tmp_path)
    bundle = tmp_path / "wax-sbom.sigstore.json"
    wax_attest(instance, [artifact], bom_path, "cyclonedx", bundle)
    result = py_verify(instance, MODE, artifact, bundle)
    assert result.returncode == 0, f"sigstore-python refused waxseal's attestation:\n{result.stdout}\n{result.stderr}"
    statement = json.loads(__import__("base64").b64decode(json.loads(bundle.read_text())["dsseEnvelope"]["payload"]))
    assert statement["predicateType"] == "https://cyclonedx.org/bom"
    assert statement["subject"] == [{"name": artifact.name,
                                     "digest": {"sha256": hashlib.sha256(artifact.read_bytes()).hexdigest()}}]


def test_a_large_sbom_is_attested_and_verified(instance, artifact, tmp_path):
    """Tens of MB of SBOM: the log stores digests only."""
    components = [{"type": "library", "name": f"component-{i}", "version": "1.0.0",
                   "description": "x" * 200} for i in range(80_000)]
    bom = tmp_path / "large.cdx.json"
    bom.write_text(json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1,
                               "components": components}))
    assert bom.stat().st_size > 20 << 20
    bundle = tmp_path / "large.sigstore.json"
    wax_attest(instance, [artifact], bom, "cyclonedx", bundle)
    result = wax_verify_attestation(instance, artifact, bundle, *identity(instance), "--type", "cyclonedx")
    assert result.returncode == 0, result.stdout + result.stderr
