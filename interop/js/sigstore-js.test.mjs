// Interop with sigstore-js (npm `sigstore` 4.1.1, pinned in package-lock.json) against a
// `waxseal serve` started here on a fresh data directory, with tokens from `waxseal token`.
//
// - sigstore-js signs blobs with the signing configs the instance publishes (Rekor v1 and v2,
//   both with the TSA); sigstore-js's verifier (against the instance's trusted_root.json) and
//   `waxseal verify` both accept the bundles and refuse a tampered artifact.
// - `waxseal sign` and sigstore-python bundles (Rekor v1 and v2) verify with sigstore-js.
// - sigstore-js DSSE attestations (in-toto statement) on Rekor v1 and v2 verify with sigstore-js
//   and `waxseal verify` (which also matches the subject digest); a `waxseal sign --in-toto`
//   attestation on v1 verifies with sigstore-js. No sigstore-python DSSE on v2: INTEROP.md §5
//   (JS logs dsse/0.0.2, sigstore-python only reads hashedrekord/0.0.2 entries).
//
// Every test runs against two topologies (harness.mjs TOPOLOGIES): `single` (one `waxseal serve`
// on SQLite) and `cluster` (PostgreSQL and two `waxseal serve --database` front ends, sigstore-js
// pointed at the one that is not the sequencer; interop/pgcluster.py). Select one with
// `--test-name-pattern=cluster`.
//
// Run through interop/js/run (it installs node_modules and sets WAXSEAL_BIN).

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import * as sigstore from 'sigstore';

import {
  EMAIL, IN_TOTO, TOPOLOGIES, jsSign, jsVerify, output, startInstance, stopInstance, waxseal,
} from './harness.mjs';

// A Python with sigstore-python 4.5.1 (interop/run's venv; interop/js/run sets it).
const PYTHON = process.env.SIGSTORE_PYTHON || 'python3';

function waxVerify(instance, mode, file, bundlePath, { identity = EMAIL, issuer = instance.issuer } = {}) {
  return waxseal(
    'verify', file, '--bundle', bundlePath, '--certificate-identity', identity,
    '--certificate-oidc-issuer', issuer, '--trust-config', instance.trustConfigPath(mode),
  );
}

function inToto(name, data) {
  return {
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name, digest: { sha256: createHash('sha256').update(data).digest('hex') } }],
    predicateType: 'https://slsa.dev/provenance/v1',
    predicate: {
      buildDefinition: { buildType: 'https://example.com/build/v1', externalParameters: {} },
      runDetails: { builder: { id: 'https://example.com/builder' } },
    },
  };
}

function tamper(buf) {
  const bad = Buffer.from(buf);
  bad[0] ^= 1;
  return bad;
}

// sigstore-js accepts the bundle for `data` with the expected identity and issuer, and refuses
// the tampered artifact, another identity and another issuer.
function assertJsVerifies(instance, bundleJSON, data) {
  const signer = jsVerify(instance, bundleJSON, data);
  assert.equal(signer.identity?.subjectAlternativeName, EMAIL);
  assert.equal(signer.identity?.extensions?.issuer, instance.issuer);
  if (data !== undefined) {
    assert.throws(() => jsVerify(instance, bundleJSON, tamper(data)), /signature verification failed/,
      'sigstore-js accepted a tampered artifact');
  }
  assert.throws(() => jsVerify(instance, bundleJSON, data, { identity: 'mallory@example.com' }),
    /certificate identity error/, 'sigstore-js accepted another identity');
  assert.throws(() => jsVerify(instance, bundleJSON, data, { issuer: 'https://accounts.example.com' }),
    /invalid certificate extension/, 'sigstore-js accepted another issuer');
}

// `waxseal verify` accepts the bundle for `file` (exit 0) and refuses a tampered copy, another
// identity and another issuer (exit 1: "not verified", not a usage error).
function assertWaxVerifies(instance, mode, file, bundlePath) {
  let result = waxVerify(instance, mode, file, bundlePath);
  assert.equal(result.status, 0, `waxseal verify failed:\n${output(result)}`);
  const bad = instance.file(`${path.basename(file)}.tampered`, tamper(readFileSync(file)));
  result = waxVerify(instance, mode, bad, bundlePath);
  assert.equal(result.status, 1, `waxseal verify of a tampered artifact:\n${output(result)}`);
  result = waxVerify(instance, mode, file, bundlePath, { identity: 'mallory@example.com' });
  assert.equal(result.status, 1, `waxseal verify with another identity:\n${output(result)}`);
  result = waxVerify(instance, mode, file, bundlePath, { issuer: 'https://accounts.example.com' });
  assert.equal(result.status, 1, `waxseal verify with another issuer:\n${output(result)}`);
}

for (const topology of TOPOLOGIES) describe(`sigstore-js 4.1.1 against waxseal (${topology})`, () => {
  let instance;

  before(async () => { instance = await startInstance(topology); });

  after(() => stopInstance(instance));

  for (const [mode, version] of [['rekor-v1', '0.0.1'], ['rekor-v2', '0.0.2']]) {
    test(`sigstore-js signs a blob (${mode}); sigstore-js and waxseal verify it`, async () => {
      const data = randomBytes(4096);
      const file = instance.file(`blob-${mode}.bin`, data);
      const bundle = await jsSign(instance, mode, 'messageSignature', data);
      const entry = bundle.verificationMaterial.tlogEntries[0];
      assert.equal(bundle.verificationMaterial.tlogEntries.length, 1);
      assert.deepEqual(entry.kindVersion, { kind: 'hashedrekord', version });
      assert.equal(bundle.verificationMaterial.timestampVerificationData?.rfc3161Timestamps?.length, 1,
        'sigstore-js got no RFC 3161 timestamp from the TSA');
      if (mode === 'rekor-v2') {
        assert.equal(entry.inclusionPromise, undefined, 'a Rekor v2 entry has no SET');
      } else {
        assert.ok(entry.inclusionPromise?.signedEntryTimestamp, 'a Rekor v1 entry has a SET');
      }
      const bundlePath = instance.file(`blob-${mode}.sigstore.json`, JSON.stringify(bundle));
      assertJsVerifies(instance, bundle, data);
      assertWaxVerifies(instance, mode, file, bundlePath);
    });
  }

  test('the public sigstore.sign API (fulcioURL, rekorURL, tsaServerURL) interoperates on Rekor v1', async () => {
    const data = randomBytes(1024);
    const file = instance.file('blob-api.bin', data);
    const bundle = await sigstore.sign(data, {
      fulcioURL: instance.base,
      rekorURL: instance.base,
      tsaServerURL: instance.base,
      identityToken: instance.token(),
    });
    assert.deepEqual(bundle.verificationMaterial.tlogEntries[0].kindVersion, { kind: 'hashedrekord', version: '0.0.1' });
    assert.equal(bundle.verificationMaterial.timestampVerificationData?.rfc3161Timestamps?.length, 1);
    const bundlePath = instance.file('blob-api.sigstore.json', JSON.stringify(bundle));
    assertJsVerifies(instance, bundle, data);
    assertWaxVerifies(instance, 'rekor-v1', file, bundlePath);
  });

  for (const mode of ['rekor-v1', 'rekor-v2']) {
    test(`sigstore-js verifies a waxseal sign bundle (${mode})`, () => {
      const data = randomBytes(4096);
      const file = instance.file(`wax-${mode}.bin`, data);
      const bundlePath = `${file}.sigstore.json`;
      const result = waxseal(
        'sign', file, '--identity-token', instance.token(), '--trust-config',
        instance.trustConfigPath(mode), '--bundle', bundlePath,
      );
      assert.equal(result.status, 0, `waxseal sign failed:\n${output(result)}`);
      assertJsVerifies(instance, JSON.parse(readFileSync(bundlePath, 'utf8')), data);
    });
  }

  for (const mode of ['rekor-v1', 'rekor-v2']) {
    test(`sigstore-js verifies a sigstore-python bundle (${mode})`, () => {
      const data = randomBytes(4096);
      const file = instance.file(`py-${mode}.bin`, data);
      const bundlePath = `${file}.sigstore.json`;
      const result = spawnSync(PYTHON, [
        '-m', 'sigstore', '--trust-config', instance.trustConfigPath(mode), 'sign',
        '--identity-token', instance.token(), '--bundle', bundlePath, file,
      ], { encoding: 'utf8', timeout: 120_000 });
      assert.equal(result.status, 0, `sigstore-python sign failed:\n${output(result)}`);
      assertJsVerifies(instance, JSON.parse(readFileSync(bundlePath, 'utf8')), data);
    });
  }

  // DSSE on Rekor v2 is a same-client round trip plus waxseal: sigstore-python cannot read
  // sigstore-js's dsse/0.0.2 entries (INTEROP.md §5), so no Python case here.
  for (const [mode, version] of [['rekor-v1', '0.0.1'], ['rekor-v2', '0.0.2']]) {
    test(`sigstore-js attests an in-toto statement (DSSE, ${mode}); sigstore-js and waxseal verify it`, async () => {
      const data = randomBytes(4096);
      const file = instance.file(`attested-${mode}.tar.gz`, data);
      const statement = Buffer.from(JSON.stringify(inToto(`attested-${mode}.tar.gz`, data)));
      const bundle = await jsSign(instance, mode, 'dsseEnvelope', statement, IN_TOTO);
      assert.equal(bundle.dsseEnvelope?.payloadType, IN_TOTO);
      assert.deepEqual(bundle.verificationMaterial.tlogEntries[0].kindVersion, { kind: 'dsse', version });
      const bundlePath = instance.file(`attested-${mode}.sigstore.json`, JSON.stringify(bundle));

      // sigstore-js verifies the envelope (it does not match subjects against an artifact), so
      // its negative case is a changed statement in the envelope.
      assertJsVerifies(instance, bundle, undefined);
      const forged = structuredClone(bundle);
      forged.dsseEnvelope.payload = tamper(Buffer.from(bundle.dsseEnvelope.payload, 'base64')).toString('base64');
      assert.throws(() => jsVerify(instance, forged, undefined), /DSSE payload hash mismatch/,
        'sigstore-js accepted a changed statement');

      // waxseal verify matches the statement's subject digest against the artifact.
      assertWaxVerifies(instance, mode, file, bundlePath);
    });
  }

  test('sigstore-js verifies a waxseal sign --in-toto attestation (rekor-v1)', () => {
    const data = randomBytes(4096);
    const statement = instance.file('wax-statement.json', JSON.stringify(inToto('wax-attested.tar.gz', data)));
    const bundlePath = `${statement}.sigstore.json`;
    const result = waxseal(
      'sign', statement, '--in-toto', '--identity-token', instance.token(), '--trust-config',
      instance.trustConfigPath('rekor-v1'), '--bundle', bundlePath,
    );
    assert.equal(result.status, 0, `waxseal sign --in-toto failed:\n${output(result)}`);
    const bundle = JSON.parse(readFileSync(bundlePath, 'utf8'));
    assert.equal(bundle.dsseEnvelope?.payloadType, IN_TOTO);
    assertJsVerifies(instance, bundle, undefined);
  });
  // The attestation commands: a sigstore-js attestation passes `waxseal verify-attestation` and
  // a ClusterImagePolicy with a Rego condition on its predicate (and fails one that forbids its
  // builder); a `waxseal attest` bundle verifies with sigstore-js.
  test('sigstore-js attestations pass waxseal verify-attestation and a Rego policy (rekor-v1)', async () => {
    const data = randomBytes(4096);
    const file = instance.file('js-provenance.tar.gz', data);
    const statement = Buffer.from(JSON.stringify(inToto('js-provenance.tar.gz', data)));
    const bundle = await jsSign(instance, 'rekor-v1', 'dsseEnvelope', statement, IN_TOTO);
    const bundlePath = instance.file('js-provenance.sigstore.json', JSON.stringify(bundle));
    const trust = ['--trust-config', instance.trustConfigPath('rekor-v1')];
    let result = waxseal(
      'verify-attestation', file, '--bundle', bundlePath, '--type', 'slsaprovenance1',
      '--certificate-identity', EMAIL, '--certificate-oidc-issuer', instance.issuer, ...trust,
    );
    assert.equal(result.status, 0, `waxseal verify-attestation failed:\n${output(result)}`);
    const policy = (builder) => instance.file(`builder-${builder.length}.yaml`, [
      'apiVersion: policy.sigstore.dev/v1beta1',
      'kind: ClusterImagePolicy',
      'metadata: {name: trusted-builder}',
      'spec:',
      '  images: [{glob: "**"}]',
      '  authorities:',
      '  - name: alice',
      '    keyless:',
      `      identities: [{issuer: "${instance.issuer}", subject: "${EMAIL}"}]`,
      '    attestations:',
      '    - name: provenance',
      '      predicateType: https://slsa.dev/provenance/v1',
      '      policy:',
      '        type: rego',
      '        data: |',
      '          package sigstore',
      '          default isCompliant = false',
      `          isCompliant { input.predicate.runDetails.builder.id == "${builder}" }`,
      '',
    ].join('\n'));
    result = waxseal('policy', 'check', '--policy', policy('https://example.com/builder'), file,
      '--bundle', bundlePath, ...trust);
    assert.equal(result.status, 0, `the builder policy denied:\n${output(result)}`);
    result = waxseal('policy', 'check', '--policy', policy('https://example.com/other-builder'), file,
      '--bundle', bundlePath, ...trust);
    assert.equal(result.status, 1, `a policy for another builder allowed:\n${output(result)}`);
    assert.match(result.stderr, /trusted-builder/);
  });

  test('sigstore-js verifies a waxseal attest bundle (rekor-v1)', () => {
    const data = randomBytes(4096);
    const file = instance.file('wax-sbom.tar.gz', data);
    const sbom = instance.file('wax-sbom.cdx.json', JSON.stringify({
      bomFormat: 'CycloneDX', specVersion: '1.5', version: 1,
      components: [{ type: 'library', name: 'left-pad', version: '1.3.0' }],
    }));
    const bundlePath = `${file}.intoto.sigstore.json`;
    const result = waxseal(
      'attest', file, '--predicate', sbom, '--type', 'cyclonedx', '--identity-token', instance.token(),
      '--trust-config', instance.trustConfigPath('rekor-v1'), '--bundle', bundlePath,
    );
    assert.equal(result.status, 0, `waxseal attest failed:\n${output(result)}`);
    const bundle = JSON.parse(readFileSync(bundlePath, 'utf8'));
    const payload = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64'));
    assert.equal(payload.predicateType, 'https://cyclonedx.org/bom');
    assert.equal(payload.subject[0].digest.sha256, createHash('sha256').update(data).digest('hex'));
    assertJsVerifies(instance, bundle, undefined);
  });
});
