import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { kBuffer } from '../../util/net-symbols.js';
import { addReader, giveBack, leave, readBufferSizes, readLarge, readSmall, removeReader, sharedReadBuffer, takeShared } from './read-buffer.js';

const { small, large, largeTakenMax } = readBufferSizes;

/** The buffer `socket`'s next read lands in. */
const target = (socket: net.Socket): Buffer => (socket as unknown as Record<symbol, Buffer>)[kBuffer!]!;

test('reads are re-pointed between the shared and the large buffer; taken ones are replaced, past a few by small ones, and large ones return as they are given back', async (t) => {
  const server = net.createServer((s) => s.on('error', () => {}));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const socket = net.connect({
    port: (server.address() as AddressInfo).port, host: '127.0.0.1',
    onread: { buffer: sharedReadBuffer(), callback: () => true },
  } as net.NetConnectOpts);
  t.after(() => { socket.destroy(); server.close(); });
  await new Promise((r) => socket.once('connect', r));
  addReader(socket);
  t.after(() => removeReader(socket));

  // The shared buffer: a take moves reads to another of the same size, given back it is a spare.
  const first = sharedReadBuffer();
  assert.equal(first.length, small);
  assert.equal(takeShared(Buffer.alloc(8)), false, 'only a read buffer can be taken');
  assert.equal(takeShared(first), true);
  assert.notEqual(sharedReadBuffer(), first);
  assert.equal(target(socket), sharedReadBuffer(), 'the socket reads into the replacement');
  giveBack(first);
  assert.equal(takeShared(sharedReadBuffer()), true);
  assert.equal(sharedReadBuffer(), first, 'the next take reuses the spare');

  // The large buffer, while a large body comes.
  assert.equal(readLarge(socket), true);
  const big = target(socket);
  assert.equal(big.length, large);
  const out = [big];
  assert.equal(takeShared(big), true);
  for (let i = 1; i < largeTakenMax; i++) {
    assert.equal(target(socket).length, large, `${i + 1} taken: still a large replacement`);
    out.push(target(socket));
    assert.equal(takeShared(target(socket)), true);
  }
  // One small and four large ones out now: past the limit, the replacement is small.
  assert.equal(target(socket).length, small, 'past the limit, a large buffer is replaced by a small one');
  leave(); // one left to its handler no longer counts
  giveBack(out.shift()!);
  assert.equal(target(socket).length, large, 'a large one given back replaces the small stand-in');
  giveBack(out.shift()!);
  const spare = target(socket);
  assert.equal(takeShared(spare), true);
  assert.equal(target(socket).length, large, 'a spare large one is reused');

  readSmall(socket);
  assert.equal(target(socket), sharedReadBuffer(), 'back on the shared buffer once the body is done');
});

test('no more than largeReadersMax connections read into the large buffer at once', async (t) => {
  const server = net.createServer((s) => s.on('error', () => {}));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const sockets = Array.from({ length: readBufferSizes.largeReadersMax + 1 }, () => {
    const s = net.connect({ port, host: '127.0.0.1', onread: { buffer: sharedReadBuffer(), callback: () => true } } as net.NetConnectOpts);
    s.on('error', () => {});
    addReader(s);
    return s;
  });
  t.after(() => { for (const s of sockets) { removeReader(s); s.destroy(); } server.close(); });
  await Promise.all(sockets.map((s) => new Promise((r) => s.once('connect', r))));
  const last = sockets.pop()!;
  for (const s of sockets) assert.equal(readLarge(s), true);
  assert.equal(readLarge(last), false, 'one more is refused');
  assert.equal(target(last), sharedReadBuffer(), 'and keeps reading into the shared buffer');
  readSmall(sockets[0]!);
  assert.equal(readLarge(last), true, 'once one is done, another may');
  assert.equal(target(last).length, large);
});
