import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { AcceptBoost, EXTRA_HANDLES } from '../src/server/accept-boost.js';

/** A server on 127.0.0.1 with its accept boost (not started), both closed after the test. */
async function boosted(t: TestContext, onConnection: (s: net.Socket) => void, options: net.ServerOpts = {}): Promise<{ boost: AcceptBoost; port: number }> {
  const server = net.createServer(options, onConnection);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const boost = new AcceptBoost(server);
  t.after(() => {
    boost.close();
    server.close();
  });
  return { boost, port: (server.address() as net.AddressInfo).port };
}

/** Connects to `port` and reads to the end: what the server sent, or `error: CODE`. */
function reply(port: number): Promise<string> {
  return new Promise((resolve) => {
    const c = net.connect(port, '127.0.0.1');
    let got = '';
    c.on('data', (d) => (got += d));
    c.on('end', () => resolve(got));
    c.on('error', (err) => resolve(`error: ${(err as NodeJS.ErrnoException).code}`));
  });
}

test('accept boost: extra handles on the same socket accept a burst, with the server\'s socket options', async (t) => {
  const seen: net.Socket[] = [];
  const { boost, port } = await boosted(t, (s) => {
    seen.push(s);
    // A busy loop iteration per connection, so the burst queues up in the kernel.
    const until = performance.now() + 2;
    while (performance.now() < until);
    s.end('hi');
  }, { allowHalfOpen: true, noDelay: true });
  await boost.start();
  assert.equal(boost.handles, EXTRA_HANDLES);
  const replies = await Promise.all(Array.from({ length: 40 }, () => reply(port)));
  assert.deepEqual(new Set(replies), new Set(['hi']));
  assert.equal(seen.length, 40, 'every connection reached the server\'s own connection listener');
  assert.ok(boost.accepted > 0, 'some were accepted by the extra handles');
  assert.ok(seen.every((s) => s.allowHalfOpen), 'sockets from extra handles keep allowHalfOpen');
  // Closing the boost stops the extra handles; the server keeps accepting on its own.
  boost.close();
  assert.equal(boost.handles, 0);
  const again = await reply(port);
  assert.equal(again, 'hi');
});

test('accept boost: a listener that is not busy never starts the helper', async (t) => {
  const { boost, port } = await boosted(t, (s) => s.end());
  for (let i = 0; i < 10; i++) await reply(port);
  assert.equal(boost.handles, 0);
});

test('accept boost: connections that arrive while the handles are being added all reach the server', { timeout: 30_000 }, async (t) => {
  const { boost, port } = await boosted(t, (s) => s.end('hi'));
  // Keep 20 connections arriving for as long as the helper process lives, and a little after.
  let starting = true;
  const started = boost.start().then(() => (starting = false));
  const replies: string[] = [];
  const client = async (): Promise<void> => {
    while (starting) replies.push(await reply(port));
    for (let i = 0; i < 5; i++) replies.push(await reply(port));
  };
  await Promise.all([started, ...Array.from({ length: 20 }, client)]);
  assert.equal(boost.handles, EXTRA_HANDLES);
  assert.ok(replies.length > 100, `enough connections during the start (${replies.length})`);
  assert.deepEqual(replies.filter((r) => r !== 'hi'), [], 'no connection was accepted elsewhere and lost');
});

/** A boosted server whose boost and server are closed `waitMs` after start(), while the helper is still at work. */
async function closedMidway(waitMs: number): Promise<{ boost: AcceptBoost; started: Promise<void> }> {
  const server = net.createServer((s) => s.end());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const boost = new AcceptBoost(server);
  const started = boost.start();
  await new Promise((r) => setTimeout(r, waitMs));
  boost.close();
  server.close();
  return { boost, started };
}

test('accept boost: a listener closed while the helper sends handles back leaves nothing to throw later', async () => {
  // The handles still on their way arrive after the helper is let go; node queued them on the
  // channel disconnect() had removed: an uncaught TypeError (kPendingMessages) from a tick.
  const uncaught: Error[] = [];
  const onUncaught = (e: Error) => uncaught.push(e);
  process.on('uncaughtException', onUncaught);
  try {
    for (let i = 0; i < 8; i++) {
      const { boost, started } = await closedMidway(50 + i * 15);
      await started;
      assert.equal(boost.handles, 0);
    }
    await new Promise((r) => setTimeout(r, 300));
  } finally {
    process.off('uncaughtException', onUncaught);
  }
  assert.deepEqual(uncaught.map((e) => e.message), []);
});

test('accept boost: close() lets the helper go at once (its copies of the socket keep the port open)', async () => {
  for (const wait of [5, 60]) {
    const { boost, started } = await closedMidway(wait);
    // start() finishes within the current turn of the event loop, not at the next handle's arrival.
    const order: string[] = [];
    setImmediate(() => order.push('next turn'));
    await started;
    order.push('started');
    assert.deepEqual(order, ['started'], `closed after ${wait} ms`);
    assert.equal(boost.handles, 0);
  }
});
