import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { readFileSync } from 'node:fs';
import { once } from 'node:events';
import { createHash } from 'node:crypto';
import { writeCopying, writeDirect } from '../src/util/direct-write.js';
import { makePki } from './helpers/certs.js';

/** A connected pair on 127.0.0.1: `a` is ours, `b` the peer (paused until told). */
async function pair(t: import('node:test').TestContext, opts: Partial<net.NetConnectOpts> = {}): Promise<{ a: net.Socket; b: net.Socket }> {
  const server = net.createServer({ pauseOnConnect: true });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  const accepted = once(server, 'connection');
  const a = net.connect({ ...opts, port, host: '127.0.0.1' } as net.NetConnectOpts);
  await once(a, 'connect');
  const [b] = (await accepted) as [net.Socket];
  t.after(() => {
    a.destroy();
    b.destroy();
    server.close();
  });
  return { a, b };
}

/** Everything the (paused) peer receives until the other side ends. */
async function received(b: net.Socket): Promise<Buffer[]> {
  const got: Buffer[] = [];
  b.on('data', (c: Buffer) => got.push(c));
  b.resume();
  await once(b, 'end');
  return got;
}

function sha(bufs: Buffer[]): string {
  const h = createHash('sha256');
  for (const b of bufs) h.update(b);
  return h.digest('hex');
}

test('direct writes arrive in order with socket.write and end, and drain once the kernel takes a pending one', async (t) => {
  const { a, b } = await pair(t);
  const sent: Buffer[] = [];
  assert.equal(writeDirect(a, 'head '), true);
  sent.push(Buffer.from('head ', 'latin1'));
  // Fill the kernel buffers while the peer reads nothing: a write goes pending.
  let pending = false;
  let drains = 0;
  a.on('drain', () => drains++);
  for (let i = 0; i < 2000 && !pending; i++) {
    const chunk = Buffer.alloc(64 * 1024, i % 251);
    const r = writeDirect(a, chunk);
    assert.notEqual(r, undefined, 'nothing queued in the stream: direct');
    sent.push(chunk);
    pending = r === false;
  }
  assert.ok(pending, 'a write went pending once the kernel buffers were full');
  // Still direct while one is pending (the stream itself has nothing queued), and in order.
  const more = Buffer.from('more');
  assert.notEqual(writeDirect(a, more), undefined);
  sent.push(more);
  a.write('tail');
  sent.push(Buffer.from('tail'));
  a.end();
  assert.equal(sha(await received(b)), sha(sent));
  assert.ok(drains >= 1, "'drain' after the pending write completed");
});

test('writeCopying: head, chunk and tail in one call, in order, with what the kernel did not take copied (the caller reuses its buffers at once)', async (t) => {
  const { a, b } = await pair(t);
  const sent: Buffer[] = [];
  // One head and one body buffer, rewritten before every call, as a shared read buffer is.
  const head = new Uint8Array(64);
  const body = Buffer.alloc(96 * 1024);
  const tail = Buffer.alloc(5);
  let pending = 0;
  let drains = 0;
  a.on('drain', () => drains++);
  for (let i = 0; i < 4000 && pending < 3; i++) {
    const h = Buffer.from(`HTTP/1.1 200 OK\r\nx-n: ${i} \u00e9\r\n\r\n`, 'latin1');
    head.fill(0).set(h);
    body.fill(i % 251);
    // A head on some calls, none on others; once one is pending, later ones queue behind it.
    const withHead = i % 2 === 0;
    const withTail = i % 3 === 0;
    tail.fill(i % 251);
    const r = writeCopying(a, withHead ? head.subarray(0, h.length) : null, body, withTail ? tail : null);
    assert.notEqual(r, undefined, 'nothing queued in the stream: direct');
    if (withHead) sent.push(Buffer.from(h));
    sent.push(Buffer.from(body));
    if (withTail) sent.push(Buffer.from(tail));
    if (r === false) pending++;
  }
  assert.equal(pending, 3, 'writes went pending once the kernel buffers were full');
  // Overwritten after the last call too: the copies, not these buffers, are what goes out.
  body.fill(0xee);
  head.fill(0xee);
  tail.fill(0xee);
  a.end('tail');
  sent.push(Buffer.from('tail'));
  assert.equal(sha(await received(b)), sha(sent));
  assert.ok(drains >= 1, "'drain' after the pending writes completed");
});

/** The process's write system calls so far (/proc/self/io syscw: write, writev and the like), or undefined off Linux. */
function writeCalls(): number | undefined {
  try {
    const m = /^syscw: (\d+)$/m.exec(readFileSync('/proc/self/io', 'latin1'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

test('writeCopying taken whole is one system call, with or without a head or tail', async (t) => {
  if (writeCalls() === undefined) return t.skip('no /proc/self/io here');
  const { a, b } = await pair(t);
  b.resume();
  const head = Buffer.from('HTTP/1.1 200 OK\r\ncontent-length: 4096\r\n\r\n');
  const body = Buffer.alloc(4096, 7);
  const crlf = Buffer.from('\r\n');
  for (const [h, tl] of [[head, null], [null, crlf], [head, crlf], [null, null], [Buffer.alloc(0), Buffer.alloc(0)]] as const) {
    const before = writeCalls()!;
    assert.equal(writeCopying(a, h, body, tl), true);
    // libuv's write loop went on to an empty last part with write(fd, NULL, 0): two calls.
    assert.equal(writeCalls()! - before, 1, `head ${h?.length ?? 'none'}, tail ${tl?.length ?? 'none'}`);
  }
});

test('direct writes step aside while the stream has bytes queued or is corked', async (t) => {
  const { a, b } = await pair(t);
  a.cork();
  assert.equal(writeDirect(a, 'x'), undefined);
  a.uncork();
  // Node queues what the kernel does not take at once: fill until it does.
  const big = Buffer.alloc(8 * 1024 * 1024, 1);
  a.write(big);
  assert.ok(a.writableLength > 0);
  assert.equal(writeDirect(a, 'y'), undefined);
  b.resume();
  await once(a, 'drain');
  assert.equal(writeDirect(a, 'z'), true);
});

const writers: Array<[string, (s: net.Socket) => boolean | undefined]> = [
  ['writeDirect', (s) => writeDirect(s, Buffer.alloc(1024))],
  ['writeCopying', (s) => writeCopying(s, null, Buffer.alloc(1024))],
];
for (const [name, write] of writers) {
  test(`${name} on a closed peer destroys the socket with an errno-coded error`, async (t) => {
    // Reading into a user buffer, so pause() stops reading: only a write can notice the reset.
    const { a, b } = await pair(t, { onread: { buffer: Buffer.alloc(1024), callback: () => true } } as Partial<net.NetConnectOpts>);
    const errors: NodeJS.ErrnoException[] = [];
    a.on('error', (e) => errors.push(e));
    a.pause();
    b.resetAndDestroy();
    await new Promise((r) => setTimeout(r, 20));
    // The first write after the reset may still be taken; a later one fails (EPIPE/ECONNRESET).
    let last: boolean | undefined = true;
    for (let i = 0; i < 50 && !a.destroyed; i++) {
      last = write(a);
      await new Promise((r) => setTimeout(r, 5));
    }
    assert.ok(a.destroyed);
    assert.equal(last, false);
    assert.ok(errors.length > 0 && errors.every((e) => /^E[A-Z]+$/.test(String(e.code)) && e.syscall === 'write'), JSON.stringify(errors));
  });
}

test('TLS sockets are left to socket.write (their handle takes one write at a time)', async (t) => {
  const pki = makePki();
  t.after(() => pki.remove());
  const files = pki.leaf('localhost', ['IP:127.0.0.1']);
  const server = tls.createServer({ cert: readFileSync(files.cert), key: readFileSync(files.key) }, (s) => s.end('ok'));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => server.close());
  const c = tls.connect({ port: (server.address() as net.AddressInfo).port, host: '127.0.0.1', ca: pki.ca });
  await once(c, 'secureConnect');
  assert.equal(writeDirect(c, 'x'), undefined);
  c.destroy();
});
