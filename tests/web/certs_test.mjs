// Thumbprints in the page (web/dashboard/certs.mjs) against openssl's, for
// a certificate made here by openssl.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { webcrypto } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { pemToDer, thumbprints } from '../../web/dashboard/certs.mjs';

function opensslFingerprint(file, digest) {
  const out = execFileSync('openssl', ['x509', '-in', file, '-noout', '-fingerprint', `-${digest}`]).toString();
  return out.trim().split('=')[1].replaceAll(':', '').toUpperCase();
}

test("thumbprints of a real certificate are openssl's, key or no key in the file", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'certs-test-'));
  try {
    const cert = join(dir, 'worker.crt');
    const key = join(dir, 'worker.key');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256',
      '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=worker'], { stdio: 'ignore' });
    const expected = { sha256: opensslFingerprint(cert, 'sha256'), sha1: opensslFingerprint(cert, 'sha1') };
    assert.match(expected.sha256, /^[0-9A-F]{64}$/);
    const pem = readFileSync(cert, 'utf8');
    assert.deepEqual(await thumbprints(pem, webcrypto.subtle), expected);
    // A bundle with the key first, and Windows line ends.
    const bundle = `${readFileSync(key, 'utf8')}${pem}`.replaceAll('\n', '\r\n');
    assert.deepEqual(await thumbprints(bundle, webcrypto.subtle), expected);
    // The key alone is refused, saying what to pick.
    await assert.rejects(thumbprints(readFileSync(key, 'utf8'), webcrypto.subtle), /pick the worker's \.crt file/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('damaged input and a missing WebCrypto are clear errors', async () => {
  assert.throws(() => pemToDer('-----BEGIN CERTIFICATE-----\n@@@\n-----END CERTIFICATE-----'),
    /not valid base64/);
  assert.throws(() => pemToDer(''), /no PEM certificate/);
  assert.deepEqual([...pemToDer('-----BEGIN CERTIFICATE-----\nAQID\n-----END CERTIFICATE-----')], [1, 2, 3]);
  await assert.rejects(thumbprints('x', null), /paste the thumbprint/);
});
