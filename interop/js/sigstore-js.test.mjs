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
// Run through interop/js/run (it installs node_modules and sets WAXSEAL_BIN).

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import { bundleFromJSON, bundleToJSON } from '@sigstore/bundle';
import { SigningConfig, TrustedRoot } from '@sigstore/protobuf-specs';
import { bundleBuilderFromSigningConfig } from '@sigstore/sign';
import { Verifier, toSignedEntity, toTrustMaterial } from '@sigstore/verify';
import * as sigstore from 'sigstore';

const WAXSEAL_BIN = process.env.WAXSEAL_BIN;
// A Python with sigstore-python 4.5.1 (interop/run's venv; interop/js/run sets it).
const PYTHON = process.env.SIGSTORE_PYTHON || 'python3';
const EMAIL = 'alice@example.com';
const STARTUP_TIMEOUT_MS = 30_000;
const IN_TOTO = 'application/vnd.in-toto+json';

function waxseal(...args) {
  const result = spawnSync(WAXSEAL_BIN, args, { encoding: 'utf8', timeout: 120_000 });
  if (result.error) throw result.error;
  return result;
}

function output(result) {
  return `exit ${result.status}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`;
}

function anchored(literal) {
  // sigstore-js matches the policy identity as a regular expression.
  return `^${literal.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`;
}

class Instance {
  constructor(dir, data, base, proc) {
    this.dir = dir;
    this.data = data;
    this.base = base;
    this.proc = proc;
    this.issuer = readFileSync(path.join(data, 'oidc-issuer'), 'utf8').trim();
    const root = readFileSync(path.join(data, 'trust', 'trusted_root.json'), 'utf8');
    this.trustedRoot = TrustedRoot.fromJSON(JSON.parse(root));
  }

  trustConfigPath(mode) {
    return path.join(this.data, 'trust', `client_trust_config.${mode}.json`);
  }

  trustConfig(mode) {
    return JSON.parse(readFileSync(this.trustConfigPath(mode), 'utf8'));
  }

  token(subject = 'alice', email = EMAIL) {
    const result = waxseal('token', '--data-dir', this.data, '--subject', subject, '--email', email);
    assert.equal(result.status, 0, `waxseal token failed:\n${output(result)}`);
    return result.stdout.trim();
  }

  file(name, contents) {
    const p = path.join(this.dir, name);
    writeFileSync(p, contents);
    return p;
  }
}

async function startInstance() {
  assert.ok(WAXSEAL_BIN && existsSync(WAXSEAL_BIN), `no waxseal binary at WAXSEAL_BIN=${WAXSEAL_BIN}`);
  const dir = mkdtempSync(path.join(tmpdir(), 'waxseal-js-'));
  const data = path.join(dir, 'data');
  const proc = spawn(WAXSEAL_BIN, ['serve', '--data-dir', data, '--listen', '127.0.0.1:0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  proc.stderr.on('data', (chunk) => { log += chunk; });
  const firstLine = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`waxseal serve printed nothing; log:\n${log}`)), STARTUP_TIMEOUT_MS);
    proc.stdout.on('data', (chunk) => {
      out += chunk;
      const nl = out.indexOf('\n');
      if (nl >= 0) { clearTimeout(timer); resolve(out.slice(0, nl)); }
    });
    proc.on('exit', (code) => { clearTimeout(timer); reject(new Error(`waxseal serve exited ${code}; log:\n${log}`)); });
  });
  const m = /at (http:\/\/\S+)/.exec(firstLine);
  assert.ok(m, `waxseal serve printed ${JSON.stringify(firstLine)}; log:\n${log}`);
  const config = path.join(data, 'trust', 'client_trust_config.json');
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  while (!existsSync(config)) {
    assert.ok(Date.now() < deadline, `${config} never appeared; log:\n${log}`);
    await sleep(50);
  }
  return new Instance(dir, data, m[1].replace(/\/$/, ''), proc);
}

// Signing with sigstore-js, driven by the signing config the instance publishes (the same path
// sigstore-js's own CLI tooling takes for a ClientTrustConfig).
async function jsSign(instance, mode, bundleType, data, payloadType) {
  const signingConfig = SigningConfig.fromJSON(instance.trustConfig(mode).signingConfig);
  const token = instance.token();
  const builder = bundleBuilderFromSigningConfig({
    signingConfig,
    identityProvider: { getToken: async () => token },
    bundleType,
  });
  const artifact = bundleType === 'dsseEnvelope' ? { data, type: payloadType } : { data };
  return bundleToJSON(await builder.create(artifact));
}

function jsVerify(instance, bundleJSON, data, { identity = EMAIL, issuer = instance.issuer } = {}) {
  const verifier = new Verifier(toTrustMaterial(instance.trustedRoot));
  const entity = toSignedEntity(bundleFromJSON(bundleJSON), data);
  return verifier.verify(entity, {
    subjectAlternativeName: anchored(identity),
    extensions: { issuer },
  });
}

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

describe('sigstore-js 4.1.1 against waxseal', () => {
  let instance;

  before(async () => { instance = await startInstance(); });

  after(async () => {
    if (!instance) return;
    const exited = new Promise((resolve) => instance.proc.once('exit', resolve));
    instance.proc.kill('SIGTERM');
    const timeout = new AbortController();
    await Promise.race([
      exited.then(() => timeout.abort()),
      sleep(10_000, undefined, { signal: timeout.signal }).then(() => instance.proc.kill('SIGKILL')),
    ]).catch((e) => { if (e.name !== 'AbortError') throw e; });
    rmSync(instance.dir, { recursive: true, force: true });
  });

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
