// Shared by the interop/js tests: a `waxseal serve` on a fresh data directory (startInstance /
// stopInstance), or a cluster (PostgreSQL and two `waxseal serve --database` front ends, the
// client pointed at the follower; interop/pgcluster.py), tokens from `waxseal token`, and
// signing and verifying with sigstore-js against the instance's signing config and trusted root.

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { bundleFromJSON, bundleToJSON } from '@sigstore/bundle';
import { SigningConfig, TrustedRoot } from '@sigstore/protobuf-specs';
import { bundleBuilderFromSigningConfig } from '@sigstore/sign';
import { Verifier, toSignedEntity, toTrustMaterial } from '@sigstore/verify';

export const WAXSEAL_BIN = process.env.WAXSEAL_BIN;
export const EMAIL = 'alice@example.com';
export const STARTUP_TIMEOUT_MS = 30_000;
export const IN_TOTO = 'application/vnd.in-toto+json';
// `single`: one `waxseal serve` on SQLite; `cluster`: interop/pgcluster.py.
export const TOPOLOGIES = ['single', 'cluster'];
const PYTHON = process.env.SIGSTORE_PYTHON || 'python3';
const PGCLUSTER = path.join(path.dirname(new URL(import.meta.url).pathname), '..', 'pgcluster.py');

export function waxseal(...args) {
  const result = spawnSync(WAXSEAL_BIN, args, { encoding: 'utf8', timeout: 120_000 });
  if (result.error) throw result.error;
  return result;
}

export function output(result) {
  return `exit ${result.status}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`;
}

export function anchored(literal) {
  // sigstore-js matches the policy identity as a regular expression.
  return `^${literal.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`;
}

export class Instance {
  constructor(dir, data, base, proc) {
    this.dir = dir;
    this.data = data;
    this.base = base;
    this.proc = proc;
    this.issuer = readFileSync(path.join(data, 'oidc-issuer'), 'utf8').trim();
    const root = readFileSync(path.join(data, 'trust', 'trusted_root.json'), 'utf8');
    this.trustedRoot = TrustedRoot.fromJSON(JSON.parse(root));
  }

  // `mode` rekor-v1 / rekor-v2; without one, the instance's default client_trust_config.json.
  trustConfigPath(mode) {
    const name = mode === undefined ? 'client_trust_config.json' : `client_trust_config.${mode}.json`;
    return path.join(this.data, 'trust', name);
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

// The first stdout line of `proc` (rejects on exit or after the startup timeout).
function firstLine(proc, what, log) {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${what} printed nothing; log:\n${log()}`)), 2 * STARTUP_TIMEOUT_MS);
    proc.stdout.on('data', (chunk) => {
      out += chunk;
      const nl = out.indexOf('\n');
      if (nl >= 0) { clearTimeout(timer); resolve(out.slice(0, nl)); }
    });
    proc.on('exit', (code) => { clearTimeout(timer); reject(new Error(`${what} exited ${code}; log:\n${log()}`)); });
  });
}

// A cluster from interop/pgcluster.py, which prints its JSON description once ready and tears
// down on SIGTERM; `base` is the follower front end's URL.
async function startCluster(dir) {
  const proc = spawn(PYTHON, [PGCLUSTER, WAXSEAL_BIN, dir], { stdio: ['pipe', 'pipe', 'pipe'] });
  let log = '';
  proc.stderr.on('data', (chunk) => { log += chunk; });
  const line = await firstLine(proc, 'interop/pgcluster.py', () => log);
  const cluster = JSON.parse(line);
  return new Instance(dir, cluster.data, cluster.base, proc);
}

export async function startInstance(topology = 'single') {
  assert.ok(WAXSEAL_BIN && existsSync(WAXSEAL_BIN), `no waxseal binary at WAXSEAL_BIN=${WAXSEAL_BIN}`);
  const dir = mkdtempSync(path.join(tmpdir(), 'waxseal-js-'));
  if (topology === 'cluster') return startCluster(dir);
  const data = path.join(dir, 'data');
  const proc = spawn(WAXSEAL_BIN, ['serve', '--data-dir', data, '--listen', '127.0.0.1:0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  proc.stderr.on('data', (chunk) => { log += chunk; });
  const first = await firstLine(proc, 'waxseal serve', () => log);
  const m = /at (http:\/\/\S+)/.exec(first);
  assert.ok(m, `waxseal serve printed ${JSON.stringify(first)}; log:\n${log}`);
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
export async function jsSign(instance, mode, bundleType, data, payloadType) {
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

export function jsVerify(instance, bundleJSON, data, { identity = EMAIL, issuer = instance.issuer } = {}) {
  const verifier = new Verifier(toTrustMaterial(instance.trustedRoot));
  const entity = toSignedEntity(bundleFromJSON(bundleJSON), data);
  return verifier.verify(entity, {
    subjectAlternativeName: anchored(identity),
    extensions: { issuer },
  });
}

// Stops `waxseal serve` (SIGTERM, SIGKILL after 10 s) and removes its directory.
export async function stopInstance(instance) {
  if (!instance) return;
  const exited = new Promise((resolve) => instance.proc.once('exit', resolve));
  instance.proc.kill('SIGTERM');
  const timeout = new AbortController();
  await Promise.race([
    exited.then(() => timeout.abort()),
    sleep(10_000, undefined, { signal: timeout.signal }).then(() => instance.proc.kill('SIGKILL')),
  ]).catch((e) => { if (e.name !== 'AbortError') throw e; });
  rmSync(instance.dir, { recursive: true, force: true });
}
