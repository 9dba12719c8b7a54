import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { filePki } from './helpers/certs.js';
import { gatewayFor, simpleConfig } from './helpers/gateway.js';
import { grpcServer, grpcClient, unary, collect, converse } from './helpers/grpc.js';

const certs = filePki({ a: ['DNS:localhost', 'IP:127.0.0.1'] });

for (const mode of ['h2c', 'tls'] as const) {
  test(`gRPC passes through end to end (${mode} listener, h2c upstream): unary, streaming both ways, status errors`, async (t) => {
    const server = await grpcServer(t);
    const listener = mode === 'h2c' ? { address: '127.0.0.1:0', h2c: true } : { address: '127.0.0.1:0', http2: true, tls: { certificates: [certs.pairs['a']!] } };
    const url = await gatewayFor(t, { ...simpleConfig([server], { protocol: 'h2c' }), listeners: [listener] });
    const c = grpcClient(t, new URL(url).host, mode === 'tls' ? certs.pki.ca : undefined);
    assert.equal(await unary(c, 'hi'), 'echo:hi');
    const s = await collect(c, 'n');
    assert.deepEqual(s.messages, ['n-0', 'n-1', 'n-2']);
    assert.deepEqual(s.trailers.get('x-done'), ['yes'], 'trailing metadata arrives');
    assert.deepEqual(await converse(c, ['a', 'b', 'c']), ['a!', 'b!', 'c!'], 'bidi: each answer before the next message');
    await assert.rejects(unary(c, 'missing'), (err: grpc.ServiceError) => {
      assert.equal(err.code, grpc.status.NOT_FOUND);
      assert.equal(err.details, 'no such thing: missing');
      return true;
    });
  });
}

test('gRPC to a server that is down: UNAVAILABLE from the gateway\'s 502', async (t) => {
  const url = await gatewayFor(t, { ...simpleConfig(['127.0.0.1:1'], { protocol: 'h2c' }), listeners: [{ address: '127.0.0.1:0', h2c: true }] });
  const c = grpcClient(t, new URL(url).host);
  await assert.rejects(unary(c, 'x'), (err: grpc.ServiceError) => {
    assert.equal(err.code, grpc.status.UNAVAILABLE);
    return true;
  });
});
