import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { filePki } from './helpers/certs.js';
import { gatewayFor, simpleConfig, portOf, rawRequest } from './helpers/gateway.js';

const certs = filePki({ ws: ['DNS:localhost', 'IP:127.0.0.1'] });

/** A ws echo server (`name:text`), over TLS when `secure`. */
async function echo(t: TestContext, name: string, secure: boolean): Promise<string> {
  const server = secure ? https.createServer({ cert: readFileSync(certs.pairs['ws']!.cert), key: readFileSync(certs.pairs['ws']!.key) }) : undefined;
  const wss = server ? new WebSocketServer({ server }) : new WebSocketServer({ port: 0, host: '127.0.0.1' });
  wss.on('connection', (ws) => ws.on('message', (d: RawData) => ws.send(`${name}:${d.toString()}`)));
  if (server) await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  else await new Promise<void>((r) => wss.once('listening', () => r()));
  t.after(() => {
    for (const c of wss.clients) c.terminate();
    wss.close();
    server?.close();
  });
  return `127.0.0.1:${((server ?? wss).address() as AddressInfo).port}`;
}

async function roundTrip(url: string, ca?: string): Promise<string> {
  const ws = new WebSocket(url, ca ? { ca } : {});
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
    ws.once('unexpected-response', (_q, res) => reject(new Error(`status ${res.statusCode}`)));
  });
  ws.send('hi');
  const reply = await new Promise<string>((r) => ws.once('message', (d: RawData) => r(d.toString())));
  ws.close();
  return reply;
}

for (const http2 of [false, true]) {
  test(`wss: WebSocket through a TLS listener${http2 ? ' with http2 (HTTP/1.1 fallback)' : ''}`, async (t) => {
    const o = await echo(t, 'plain', false);
    const url = await gatewayFor(t, { ...simpleConfig([o]), listeners: [{ address: '127.0.0.1:0', tls: { certificates: [certs.pairs['ws']!] }, http2 }] });
    assert.equal(await roundTrip(`wss://localhost:${portOf(url)}/ws`, certs.pki.ca), 'plain:hi');
  });
}

test('WebSocket to an upstream with tls: the tunnel is TLS, verified with the upstream\'s CA', async (t) => {
  const o = await echo(t, 'secure', true);
  const url = await gatewayFor(t, simpleConfig([o], { tls: { ca: certs.pki.caPath } }));
  assert.equal(await roundTrip(url.replace('http:', 'ws:') + '/ws'), 'secure:hi');
  const untrusted = await gatewayFor(t, simpleConfig([o], { tls: {} }));
  await assert.rejects(roundTrip(untrusted.replace('http:', 'ws:') + '/ws'), /status 502/);
});

test('a tcp listener to an upstream with tls originates TLS (cleartext in, TLS out)', async (t) => {
  const server = https.createServer({ cert: readFileSync(certs.pairs['ws']!.cert), key: readFileSync(certs.pairs['ws']!.key) }, (_req, res) => res.end('over tls'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  const addr = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  const url = await gatewayFor(t, {
    listeners: [{ address: '127.0.0.1:0', protocol: 'tcp', upstream: 'web' }],
    upstreams: { web: { tls: { ca: certs.pki.caPath }, servers: [{ address: addr }] } },
  });
  const reply = await rawRequest(portOf(url), 'GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n');
  assert.match(reply, /^HTTP\/1\.1 200[\s\S]*over tls$/);
});
