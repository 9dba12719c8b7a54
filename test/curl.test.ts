import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { makePki, type TestPki } from './helpers/certs.js';
import { originFor } from './helpers/origin.js';
import { gatewayFor, simpleConfig, portOf } from './helpers/gateway.js';

/** curl with HTTP/2 (nghttp2): .ci/run installs it; in CI its absence is a failure, locally a skip. */
function curlH2(): boolean {
  try {
    return /HTTP2/.test(execFileSync('curl', ['-V'], { encoding: 'utf8' }));
  } catch {
    return false;
  }
}
const hasCurl = curlH2();
if (!hasCurl && process.env.CI) throw new Error('curl with HTTP/2 support is required in CI (.ci/run installs it)');
const skip = hasCurl ? false : 'curl with HTTP/2 is not installed';

function curl(args: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile('curl', ['-sS', '--max-time', '10', '-o', '-', '-w', '\n%{http_version} %{http_code}', ...args], (err, out) => (err ? reject(err) : resolve(out))),
  );
}

let pki: TestPki;
let a: { cert: string; key: string };
before(() => {
  pki = makePki();
  a = pki.leaf('a', ['DNS:localhost']);
});
after(() => pki.remove());

test('curl --http2 negotiates h2 by ALPN; --http1.1 gets HTTP/1.1 on the same listener', { skip }, async (t) => {
  const o = await originFor(t, 'o');
  const url = await gatewayFor(t, { ...simpleConfig([o.address]), listeners: [{ address: '127.0.0.1:0', http2: true, tls: { certificates: [a] } }] });
  const port = portOf(url);
  const base = ['--cacert', pki.caPath, '--resolve', `localhost:${port}:127.0.0.1`, `https://localhost:${port}/c`];
  assert.equal(await curl(['--http2', ...base]), 'o\n2 200');
  assert.equal(await curl(['--http1.1', ...base]), 'o\n1.1 200');
});

test('curl --http2-prior-knowledge on an h2c listener', { skip }, async (t) => {
  const o = await originFor(t, 'o');
  const url = await gatewayFor(t, { ...simpleConfig([o.address]), listeners: [{ address: '127.0.0.1:0', h2c: true }] });
  assert.equal(await curl(['--http2-prior-knowledge', `${url}/c`]), 'o\n2 200');
});
