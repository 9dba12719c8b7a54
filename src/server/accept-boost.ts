import { monotonicMs } from '../util/clock.js';
import net from 'node:net';
import { fork } from 'node:child_process';
import { channels } from '../observability/events.js';

/** A listener that accepts this many connections within WINDOW_MS gets the extra handles. */
const BUSY = 64;
const WINDOW_MS = 1000;
/**
 * Extra handles: with the server's own, up to 64 connections are accepted per loop iteration, so a
 * burst of 500 new connections is in after a few iterations (8 handles took ~200 ms at c500; the
 * last connections' first requests waited that long). An idle handle costs nothing; when a
 * connection arrives, the handles that find the queue empty make one failed accept() each. Under
 * connection-per-request load (wrk -c50, `Connection: close`) that was 2.3 accept() calls per
 * connection instead of 1.4 with 8 handles, but half the epoll waits: CPU per request measured the
 * same (84-85 us) with 8 and 64.
 */
export const EXTRA_HANDLES = 63;
const HELPER = new URL('./handle-echo.js', import.meta.url);
const SOCKET_OPTIONS = ['allowHalfOpen', 'pauseOnConnect', 'noDelay', 'keepAlive', 'keepAliveInitialDelay', 'highWaterMark'];

/**
 * Faster accepting under load. Since libuv 1.45 (Node 20), a listening handle accepts one
 * connection per event-loop iteration (libuv#3696; nodejs/node#57364). A busy loop iteration
 * takes milliseconds, so a burst of new connections (500 clients arriving together, an HTTP/2 or
 * non-keep-alive client storm) waits in the kernel's accept queue for seconds: NGINX's
 * `multi_accept` problem. Each extra handle on the same listening socket accepts one more per
 * iteration. Handles on the same socket come from duplicated file descriptors, made by sending
 * the server to a short-lived helper process and back (child_process's documented handle
 * passing). Only listeners that turn out to be busy pay for it, once; their new sockets get the
 * server's own options and go through its 'connection' event as if it had accepted them.
 */
export class AcceptBoost {
  readonly #server: net.Server;
  readonly #extra: net.Server[] = [];
  /** Lets the helper go while it is still sending handles (close() during start()). */
  #stop: AbortController | undefined;
  #state: 'watching' | 'starting' | 'on' | 'off' = 'watching';
  #since = 0;
  #count = 0;
  /** Connections the extra handles accepted (tests). */
  accepted = 0;

  constructor(server: net.Server) {
    this.#server = server;
    server.on('connection', this.#seen);
  }

  /** Extra handles in use (tests). */
  get handles(): number {
    return this.#extra.length;
  }

  readonly #seen = (): void => {
    if (this.#state !== 'watching') return;
    const now = monotonicMs();
    if (now - this.#since > WINDOW_MS) {
      this.#since = now;
      this.#count = 0;
    }
    if (++this.#count >= BUSY) void this.start();
  };

  /** Add the extra handles now (the listener calls it when busy; tests call it directly). */
  async start(): Promise<void> {
    if (this.#state === 'on' || this.#state === 'starting' || !this.#server.listening) return;
    this.#state = 'starting';
    this.#server.off('connection', this.#seen);
    let got: net.Server[] = [];
    const stop = (this.#stop = new AbortController());
    try {
      got = await duplicate(this.#server, EXTRA_HANDLES, () => this.accepted++, stop.signal);
    } catch (err) {
      channels.lifecycle.publish({ level: 'warn', msg: 'could not add accept handles; accepting one connection per loop iteration', error: (err as Error).message });
    } finally {
      this.#stop = undefined;
    }
    if (this.#state !== 'starting' || !this.#server.listening) {
      for (const s of got) s.close();
      return;
    }
    this.#extra.push(...got);
    this.#state = got.length > 0 ? 'on' : 'off';
  }

  close(): void {
    this.#state = 'off';
    // The handles adopted so far are closed when start() resumes, before any of them can accept again.
    this.#stop?.abort();
    this.#server.off('connection', this.#seen);
    for (const s of this.#extra.splice(0)) s.close();
  }
}

/**
 * `n` more net.Servers on the same listening socket as `main`, or fewer if the helper fails. Each
 * starts accepting as soon as it arrives, with `main`'s socket options, and hands its connections
 * to `main`'s 'connection' event (calling `onAccept` first).
 *
 * The helper is sent the server's raw handle (node passes a TCP handle as it is), not the
 * net.Server: a net.Server arrives listening, so the helper itself would accept connections from
 * the shared queue for as long as it lives, and they would be closed unanswered when it exits.
 */
function duplicate(main: net.Server, n: number, onAccept: () => void, signal: AbortSignal): Promise<net.Server[]> {
  const raw = (main as unknown as { _handle?: object | null })._handle;
  if (!raw) return Promise.reject(new Error('the listener has no handle'));
  return new Promise((resolve, reject) => {
    const got: net.Server[] = [];
    const child = fork(HELPER, { stdio: ['ignore', 'ignore', 'ignore', 'ipc'], execArgv: [] });
    const done = (err?: Error) => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      child.removeAllListeners();
      child.on('error', () => {});
      // A handle still on its way (the listener closed mid-way, a send failed) arrives after this:
      // close it. With no 'message' listener node would queue it on the channel, which disconnect()
      // removes: a TypeError thrown from a tick, as an uncaught exception.
      child.on('message', (_m, handle) => closeRaw(handle));
      if (child.connected) child.disconnect();
      child.kill();
      if (err && got.length === 0) reject(err);
      else resolve(got);
    };
    const timer = setTimeout(() => done(new Error('the helper process did not answer in 5 s')), 5000);
    timer.unref();
    // Let go of the helper at once: it holds copies of the socket, which keep the port open.
    const onAbort = () => done();
    signal.addEventListener('abort', onAbort, { once: true });
    child.on('error', done);
    child.on('exit', () => done(new Error('the helper process exited')));
    child.on('message', (_m, handle) => {
      // The listener closed meanwhile: an adopted handle would keep its port accepting.
      if (!main.listening) {
        closeRaw(handle);
        return done();
      }
      if (handle && typeof handle === 'object') got.push(adopt(main, handle, onAccept));
      if (got.length === n) done();
    });
    // Typed as a net.Server only because @types/node has no type for a raw handle.
    for (let i = 0; i < n; i++) child.send('h', raw as net.Server);
  });
}

/** Close a raw handle that arrived too late to be used. */
function closeRaw(handle: unknown): void {
  if (handle !== null && typeof handle === 'object' && typeof (handle as { close?: unknown }).close === 'function') (handle as { close(): void }).close();
}

/** A net.Server accepting on `handle` (a listening socket's TCP handle) for `main`. */
function adopt(main: net.Server, handle: object, onAccept: () => void): net.Server {
  const s = new net.Server();
  // The socket options net.Server applies when it accepts (public fields of Node's net.Server).
  const o = s as unknown as Record<string, unknown>;
  const m = main as unknown as Record<string, unknown>;
  for (const k of SOCKET_OPTIONS) o[k] = m[k];
  s.on('connection', (socket: net.Socket) => {
    onAccept();
    main.emit('connection', socket);
  });
  s.on('error', () => {});
  // listen() adopts a TCP handle (node's net.Server takes a handle object).
  s.listen(handle as net.ListenOptions);
  return s;
}
