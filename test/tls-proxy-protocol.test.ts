import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import http2 from 'node:http2';
import { filePki } from './helpers/certs.js';
import { originFor } from './helpers/origin.js';
import { gatewayFor, simpleConfig, portOf } from './helpers/gateway.js';
import { h2Request } from './helpers/h2.js';

const certs = filePki({ pp: ['DNS:localhost'] });
const HEADER = 'PROXY TCP4 203.0.113.7 198.51.100.1 40000 443\r\n';

/** A raw connection that sends the PROXY header first, then speaks TLS (or plain) over it. */
function proxied(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => {
      s.write(HEADER);
      resolve(s);
    });
    s.on('error', reject);
  });
}

function h1OverTls(raw: net.Socket, alpn: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ socket: raw, servername: 'localhost', ca: certs.pki.ca, ALPNProtocols: alpn }, () => {
      s.write('GET /pp HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n');
    });
    const chunks: Buffer[] = [];
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('end', () => resolve(Buffer.concat(chunks).toString()));
    s.on('error', reject);
  });
}

for (const http2On of [false, true]) {
  test(`PROXY protocol on a TLS listener${http2On ? ' with http2' : ''}: read before the handshake, the client address is the proxied one`, async (t) => {
    const o = await originFor(t, 'o');
    const url = await gatewayFor(t, {
      ...simpleConfig([o.address]),
      listeners: [{ address: '127.0.0.1:0', tls: { certificates: [certs.pairs['pp']!] }, http2: http2On, proxy_protocol: { trusted: ['127.0.0.1/32'] } }],
    });
    const reply = await h1OverTls(await proxied(portOf(url)), ['http/1.1']);
    assert.match(reply, /^HTTP\/1\.1 200/);
    assert.equal(o.seen[0]!.headers['x-forwarded-for'], '203.0.113.7');
    if (http2On) {
      const raw = await proxied(portOf(url));
      const s = http2.connect(`https://localhost:${portOf(url)}`, { createConnection: () => tls.connect({ socket: raw, servername: 'localhost', ca: certs.pki.ca, ALPNProtocols: ['h2'] }) });
      t.after(() => s.destroy());
      await h2Request(s, { ':path': '/h2' });
      assert.equal(o.seen[1]!.headers['x-forwarded-for'], '203.0.113.7');
    }
  });
}

test('PROXY protocol on an h2c listener; a connection without the header is refused', async (t) => {
  const o = await originFor(t, 'o');
  const url = await gatewayFor(t, { ...simpleConfig([o.address]), listeners: [{ address: '127.0.0.1:0', h2c: true, proxy_protocol: { trusted: ['127.0.0.1/32'] } }] });
  const raw = await proxied(portOf(url));
  const s = http2.connect(url, { createConnection: () => raw });
  t.after(() => s.destroy());
  await h2Request(s, { ':path': '/h2c' });
  assert.equal(o.seen[0]!.headers['x-forwarded-for'], '203.0.113.7');
  const bare = http2.connect(url);
  bare.on('error', () => {});
  await new Promise<void>((r) => bare.on('close', () => r()));
  assert.equal(o.seen.length, 1);
});
