// Image attestations between sigstore-js and waxseal, through a real registry: Debian's
// `docker-registry` (distribution 2.8.2, no referrers API, so every referrer lives in the
// `sha256-<hex>` fallback index) started here on a free loopback port, with images the test
// pushes itself (nothing is pulled from the internet), and a `waxseal serve` from harness.mjs.
//
// - sigstore-js signs an in-toto statement about the image, npm `@sigstore/oci` 0.6.0 (what
//   the actions/attest action pushes with) attaches the bundle as a referrer, and
//   `waxseal verify-attestation IMAGE@DIGEST` finds and verifies it.
// - `waxseal attest IMAGE@DIGEST` pushes a cosign v3 referrer; read back with plain fetch (the
//   fallback index, the referrer manifest, the bundle blob) it has cosign's layout and
//   verifies with sigstore-js, its statement naming the image digest.
// - Both writers on one image's fallback index, in both orders: neither drops the other's
//   entry, and `waxseal verify-attestation` verifies both attestations.
//
// FORMATS.md §1.1, §1.2, §1.7, §1.8. Run through interop/js/run.

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import { attachArtifactToImage, getImageDigest } from '@sigstore/oci';

import {
  EMAIL, IN_TOTO, jsSign, jsVerify, output, startInstance, stopInstance, waxseal,
} from './harness.mjs';

const BUNDLE_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const OCI_EMPTY = 'application/vnd.oci.empty.v1+json';
const EMPTY_DIGEST = 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a';
// distribution answers a manifest GET without these with 404 MANIFEST_UNKNOWN (FORMATS.md §1.8).
const MANIFEST_ACCEPT = [
  OCI_MANIFEST, OCI_INDEX,
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
].join(', ');
const SPDX = 'https://spdx.dev/Document';
const CYCLONEDX = 'https://cyclonedx.org/bom';
const TEST_TIMEOUT_MS = 300_000;
const STARTUP_TIMEOUT_MS = 60_000;

function sha256(bytes) {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

function hex(digest) {
  assert.match(digest, /^sha256:[0-9a-f]{64}$/);
  return digest.slice('sha256:'.length);
}

function dockerRegistryBin() {
  if (process.env.DOCKER_REGISTRY) return process.env.DOCKER_REGISTRY;
  if (existsSync('/usr/bin/docker-registry')) return '/usr/bin/docker-registry';
  const which = spawnSync('sh', ['-c', 'command -v docker-registry'], { encoding: 'utf8' });
  return which.status === 0 ? which.stdout.trim() : undefined;
}

async function freePort() {
  const server = createServer();
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

// A docker-registry on 127.0.0.1 (plain http, anonymous) over a fresh storage directory.
class Registry {
  constructor(dir, host, proc, log) {
    this.dir = dir;
    this.host = host;
    this.proc = proc;
    this.log = log;
    this.base = `http://${host}`;
  }

  static async start() {
    const bin = dockerRegistryBin();
    assert.ok(bin && existsSync(bin),
      'docker-registry not found (Debian package docker-registry, or set DOCKER_REGISTRY): the OCI interop tests need a real registry');
    const dir = mkdtempSync(path.join(tmpdir(), 'waxseal-js-registry-'));
    let lastError;
    for (let attempt = 0; attempt < 3; attempt++) {
      const port = await freePort();
      const config = path.join(dir, 'config.yml');
      writeFileSync(config, [
        'version: 0.1',
        'log:',
        '  level: warn',
        'storage:',
        '  filesystem:',
        `    rootdirectory: ${path.join(dir, 'storage')}`,
        '  delete:',
        '    enabled: true',
        'http:',
        `  addr: 127.0.0.1:${port}`,
        '',
      ].join('\n'));
      const proc = spawn(bin, ['serve', config], { stdio: ['ignore', 'pipe', 'pipe'] });
      const log = { text: '' };
      proc.stdout.on('data', (chunk) => { log.text += chunk; });
      proc.stderr.on('data', (chunk) => { log.text += chunk; });
      let exited = null;
      proc.once('exit', (code, signal) => { exited = `exit ${code ?? signal}`; });
      const host = `127.0.0.1:${port}`;
      const deadline = Date.now() + STARTUP_TIMEOUT_MS;
      while (exited === null && Date.now() < deadline) {
        try {
          const res = await fetch(`http://${host}/v2/`);
          await res.arrayBuffer();
          if (res.status === 200) return new Registry(dir, host, proc, log);
        } catch {
          // not listening yet
        }
        await sleep(100);
      }
      if (exited === null) proc.kill('SIGKILL');
      lastError = `docker-registry on ${host} never answered GET /v2/ with 200 (${exited ?? 'timed out'}); log:\n${log.text}`;
    }
    rmSync(dir, { recursive: true, force: true });
    assert.fail(lastError);
  }

  async stop() {
    if (this.proc.exitCode === null && this.proc.signalCode === null) {
      const exited = new Promise((resolve) => this.proc.once('exit', resolve));
      this.proc.kill('SIGTERM');
      const timer = setTimeout(() => this.proc.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  async request(method, urlPath, { body, headers = {} } = {}) {
    const res = await fetch(`${this.base}${urlPath}`, { method, body, headers });
    const bytes = Buffer.from(await res.arrayBuffer());
    return { status: res.status, headers: res.headers, bytes };
  }

  async pushBlob(repo, bytes) {
    const digest = sha256(bytes);
    const post = await this.request('POST', `/v2/${repo}/blobs/uploads/`);
    assert.equal(post.status, 202, `blob upload POST: ${post.status} ${post.bytes}`);
    const location = new URL(post.headers.get('location'), this.base);
    location.searchParams.set('digest', digest);
    const put = await fetch(location, {
      method: 'PUT', body: bytes, headers: { 'Content-Type': 'application/octet-stream' },
    });
    const text = await put.text();
    assert.equal(put.status, 201, `blob upload PUT: ${put.status} ${text}`);
    return { digest, size: bytes.length };
  }

  async putManifest(repo, reference, bytes, mediaType) {
    const put = await this.request('PUT', `/v2/${repo}/manifests/${reference}`, {
      body: bytes, headers: { 'Content-Type': mediaType },
    });
    assert.equal(put.status, 201, `manifest PUT ${repo}:${reference}: ${put.status} ${put.bytes}`);
    const digest = sha256(bytes);
    assert.equal(put.headers.get('docker-content-digest'), digest);
    return digest;
  }

  // An image of random config and layer blobs, tagged `tag`; returns its manifest digest.
  async pushImage(repo, tag) {
    const config = Buffer.from(JSON.stringify({
      architecture: 'amd64', os: 'linux', config: { Labels: { nonce: randomBytes(16).toString('hex') } },
      rootfs: { type: 'layers', diff_ids: [] },
    }));
    const layer = randomBytes(2048);
    const configDesc = await this.pushBlob(repo, config);
    const layerDesc = await this.pushBlob(repo, layer);
    const manifest = Buffer.from(JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...configDesc },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...layerDesc }],
    }));
    const digest = await this.putManifest(repo, tag, manifest, OCI_MANIFEST);
    return { repo, tag, digest, size: manifest.length, ref: `${this.host}/${repo}@${digest}` };
  }

  // A manifest or index by tag or digest: its exact bytes, parsed JSON and Content-Type.
  async manifest(repo, reference, accept = MANIFEST_ACCEPT) {
    const res = await this.request('GET', `/v2/${repo}/manifests/${reference}`, { headers: { Accept: accept } });
    return {
      status: res.status,
      bytes: res.bytes,
      json: res.status === 200 ? JSON.parse(res.bytes) : undefined,
      contentType: res.headers.get('content-type'),
    };
  }

  async blob(repo, digest) {
    const res = await this.request('GET', `/v2/${repo}/blobs/${digest}`);
    assert.equal(res.status, 200, `blob GET ${repo}@${digest}: ${res.status}`);
    assert.equal(sha256(res.bytes), digest, 'the registry served a blob that does not match its digest');
    return res.bytes;
  }

  // The referrers-tag fallback index of an image (FORMATS.md §1.2).
  async fallbackIndex(image) {
    const index = await this.manifest(image.repo, `sha256-${hex(image.digest)}`, OCI_INDEX);
    assert.equal(index.status, 200, `no fallback index sha256-${hex(image.digest)} in ${image.repo}`);
    assert.equal(index.json.schemaVersion, 2);
    assert.equal(index.json.mediaType, OCI_INDEX);
    assert.equal(index.contentType, OCI_INDEX);
    assert.ok(Array.isArray(index.json.manifests), 'the fallback index has no manifests array');
    return index.json;
  }
}

function statementFor(image, registry, predicateType, predicate) {
  return {
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name: `${registry.host}/${image.repo}`, digest: { sha256: hex(image.digest) } }],
    predicateType,
    predicate,
  };
}

function spdxDocument(name) {
  return {
    spdxVersion: 'SPDX-2.3', dataLicense: 'CC0-1.0', SPDXID: 'SPDXRef-DOCUMENT', name,
    documentNamespace: `https://example.com/spdx/${randomBytes(8).toString('hex')}`,
    creationInfo: { created: '2026-01-01T00:00:00Z', creators: ['Tool: waxseal-interop'] },
    packages: [{ SPDXID: 'SPDXRef-left-pad', name: 'left-pad', versionInfo: '1.3.0', downloadLocation: 'NOASSERTION' }],
  };
}

function cycloneDxDocument() {
  return {
    bomFormat: 'CycloneDX', specVersion: '1.5', version: 1,
    serialNumber: `urn:uuid:${randomUUID()}`,
    components: [{ type: 'library', name: 'left-pad', version: '1.3.0' }],
  };
}

describe('image attestations between sigstore-js (@sigstore/oci 0.6.0) and waxseal on docker-registry', () => {
  let instance;
  let registry;

  before(async () => {
    registry = await Registry.start();
    instance = await startInstance();
  }, { timeout: TEST_TIMEOUT_MS });

  after(async () => {
    await stopInstance(instance);
    if (registry) await registry.stop();
  });

  // The instance's default trust config (client_trust_config.json) for signing and verifying.
  const trust = () => ['--trust-config', instance.trustConfigPath()];

  // sigstore-js signs `statement` (DSSE) and @sigstore/oci attaches the bundle to the image as
  // the actions/attest action does: anonymous registry, so no credentials (with credentials it
  // probes for an auth challenge and throws on docker-registry's empty one).
  async function jsAttach(image, statement) {
    const bundle = await jsSign(instance, undefined, 'dsseEnvelope', Buffer.from(JSON.stringify(statement)), IN_TOTO);
    assert.equal(bundle.mediaType, BUNDLE_TYPE);
    const descriptor = await attachArtifactToImage({
      imageName: `${registry.host}/${image.repo}`,
      imageDigest: image.digest,
      artifact: Buffer.from(JSON.stringify(bundle)),
      mediaType: BUNDLE_TYPE,
      annotations: {
        'dev.sigstore.bundle.content': 'dsse-envelope',
        'dev.sigstore.bundle.predicateType': statement.predicateType,
      },
    });
    assert.equal(descriptor.mediaType, OCI_MANIFEST);
    hex(descriptor.digest);
    return { bundle, descriptor };
  }

  function waxAttest(image, predicateType, predicate) {
    const file = instance.file(`predicate-${randomBytes(4).toString('hex')}.json`, JSON.stringify(predicate));
    const result = waxseal('attest', image.ref, '--predicate', file, '--type', predicateType,
      ...trust(), '--identity-token', instance.token());
    assert.equal(result.status, 0, `waxseal attest ${image.ref} failed:\n${output(result)}`);
  }

  function waxVerifyAttestation(image, predicateType, { identity = EMAIL, issuer = instance.issuer } = {}) {
    return waxseal('verify-attestation', image.ref, '--type', predicateType,
      '--certificate-identity', identity, '--certificate-oidc-issuer', issuer, ...trust(),
      '--output', 'json');
  }

  function assertWaxVerifiesImage(image, predicateType) {
    let result = waxVerifyAttestation(image, predicateType);
    assert.equal(result.status, 0, `waxseal verify-attestation ${image.ref} --type ${predicateType}:\n${output(result)}`);
    assert.ok(result.stdout.includes(predicateType),
      `waxseal verify-attestation output does not name ${predicateType}:\n${output(result)}`);
    result = waxVerifyAttestation(image, predicateType, { identity: 'mallory@example.com' });
    assert.equal(result.status, 1, `waxseal verify-attestation with another identity:\n${output(result)}`);
  }

  // The referrer a `waxseal attest` pushed, read back through the fallback index with plain
  // fetch: cosign v3's layout (FORMATS.md §1.1); returns the bundle JSON.
  async function readWaxReferrer(image, descriptor, predicateType) {
    assert.equal(descriptor.mediaType, OCI_MANIFEST);
    assert.equal(descriptor.artifactType, BUNDLE_TYPE);
    const m = await registry.manifest(image.repo, descriptor.digest);
    assert.equal(m.status, 200, `referrer ${descriptor.digest} is not in ${image.repo}`);
    assert.equal(sha256(m.bytes), descriptor.digest);
    assert.equal(m.bytes.length, descriptor.size);
    const manifest = m.json;
    assert.equal(manifest.schemaVersion, 2);
    assert.equal(manifest.mediaType, OCI_MANIFEST);
    assert.equal(manifest.artifactType, BUNDLE_TYPE);
    assert.equal(manifest.config.mediaType, OCI_EMPTY);
    assert.equal(manifest.config.digest, EMPTY_DIGEST);
    assert.equal(manifest.config.size, 2);
    assert.equal((await registry.blob(image.repo, EMPTY_DIGEST)).toString(), '{}');
    assert.equal(manifest.layers.length, 1);
    assert.equal(manifest.layers[0].mediaType, BUNDLE_TYPE);
    assert.deepEqual(
      { mediaType: manifest.subject?.mediaType, digest: manifest.subject?.digest, size: manifest.subject?.size },
      { mediaType: OCI_MANIFEST, digest: image.digest, size: image.size });
    assert.equal(manifest.annotations?.['dev.sigstore.bundle.content'], 'dsse-envelope');
    assert.equal(manifest.annotations?.['dev.sigstore.bundle.predicateType'], predicateType);
    const layer = await registry.blob(image.repo, manifest.layers[0].digest);
    assert.equal(layer.length, manifest.layers[0].size);
    return JSON.parse(layer);
  }

  test('sigstore-js attests an image, @sigstore/oci attaches it; waxseal verify-attestation verifies it', { timeout: TEST_TIMEOUT_MS }, async () => {
    const image = await registry.pushImage('js/app', 'v1');
    assert.equal(await getImageDigest({ imageName: `${registry.host}/js/app`, imageTag: 'v1' }), image.digest);

    const statement = statementFor(image, registry, SPDX, spdxDocument('js-app'));
    const { bundle, descriptor } = await jsAttach(image, statement);
    assert.equal(jsVerify(instance, bundle, undefined).identity?.subjectAlternativeName, EMAIL);

    // docker-registry has no referrers API: @sigstore/oci wrote the fallback index itself.
    const index = await registry.fallbackIndex(image);
    assert.deepEqual(index.manifests.map((d) => d.digest), [descriptor.digest]);
    assert.equal(index.manifests[0].artifactType, BUNDLE_TYPE);
    const referrer = await registry.manifest(image.repo, descriptor.digest);
    assert.equal(referrer.json.subject.digest, image.digest);

    assertWaxVerifiesImage(image, SPDX);
    // Another predicate type is not this attestation.
    const result = waxVerifyAttestation(image, CYCLONEDX);
    assert.equal(result.status, 1, `waxseal verify-attestation --type ${CYCLONEDX} on an SPDX attestation:\n${output(result)}`);
  });

  test('waxseal attest pushes a cosign v3 referrer; sigstore-js verifies its bundle', { timeout: TEST_TIMEOUT_MS }, async () => {
    const image = await registry.pushImage('wax/app', 'v1');
    waxAttest(image, CYCLONEDX, cycloneDxDocument());

    const index = await registry.fallbackIndex(image);
    assert.equal(index.manifests.length, 1, `one attest, one referrer: ${JSON.stringify(index)}`);
    const bundle = await readWaxReferrer(image, index.manifests[0], CYCLONEDX);
    assert.equal(bundle.mediaType, BUNDLE_TYPE);
    assert.equal(bundle.dsseEnvelope?.payloadType, IN_TOTO);

    // DSSE: sigstore-js verifies the envelope; the statement must name the image digest.
    const signer = jsVerify(instance, bundle, undefined);
    assert.equal(signer.identity?.subjectAlternativeName, EMAIL);
    assert.equal(signer.identity?.extensions?.issuer, instance.issuer);
    assert.throws(() => jsVerify(instance, bundle, undefined, { identity: 'mallory@example.com' }),
      /certificate identity error/, 'sigstore-js accepted another identity');
    const statement = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64'));
    assert.equal(statement._type, 'https://in-toto.io/Statement/v1');
    assert.equal(statement.predicateType, CYCLONEDX);
    assert.ok(statement.subject.some((s) => s.digest?.sha256 === hex(image.digest)),
      `no statement subject has the image digest ${image.digest}: ${JSON.stringify(statement.subject)}`);

    assertWaxVerifiesImage(image, CYCLONEDX);
  });

  for (const order of ['@sigstore/oci first', 'waxseal first']) {
    test(`one fallback index, both writers (${order}): neither drops the other's referrer`, { timeout: TEST_TIMEOUT_MS }, async () => {
      const repo = order === 'waxseal first' ? 'shared/wax-first' : 'shared/js-first';
      const image = await registry.pushImage(repo, 'v1');
      const statement = statementFor(image, registry, SPDX, spdxDocument(repo));
      let js;
      if (order === 'waxseal first') {
        waxAttest(image, CYCLONEDX, cycloneDxDocument());
        assert.equal((await registry.fallbackIndex(image)).manifests.length, 1);
        js = await jsAttach(image, statement);
      } else {
        js = await jsAttach(image, statement);
        assert.equal((await registry.fallbackIndex(image)).manifests.length, 1);
        waxAttest(image, CYCLONEDX, cycloneDxDocument());
      }

      const index = await registry.fallbackIndex(image);
      const digests = index.manifests.map((d) => d.digest);
      assert.equal(digests.length, 2, `the fallback index should list both referrers: ${JSON.stringify(index)}`);
      assert.equal(new Set(digests).size, 2, `duplicate entries: ${JSON.stringify(index)}`);
      assert.ok(digests.includes(js.descriptor.digest),
        `the @sigstore/oci referrer ${js.descriptor.digest} was dropped: ${JSON.stringify(index)}`);
      for (const d of index.manifests) assert.equal(d.artifactType, BUNDLE_TYPE);
      const wax = index.manifests.find((d) => d.digest !== js.descriptor.digest);
      const waxBundle = await readWaxReferrer(image, wax, CYCLONEDX);
      jsVerify(instance, waxBundle, undefined);

      assertWaxVerifiesImage(image, SPDX);
      assertWaxVerifiesImage(image, CYCLONEDX);
    });
  }
});
