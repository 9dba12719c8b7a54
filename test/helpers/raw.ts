import net from 'node:net';
import type { TestContext } from 'node:test';
import type { Channel } from 'node:diagnostics_channel';
import { channels, type AccessRecord } from '../../src/observability/events.js';

/** Anything with an async close (origins, gateways). */
export interface Closable {
  close(graceMs?: number): Promise<void>;
}

/**
 * Register things to close when the test ends (in reverse order). Gateways get a short grace so
 * a test that leaves a request in flight never waits for shutdown_timeout.
 */
export function closer(t: TestContext): <T extends Closable>(x: T) => T {
  const list: Closable[] = [];
  t.after(async () => {
    for (const x of list.reverse()) await x.close(100);
  });
  return (x) => {
    list.push(x);
    return x;
  };
}

/** One parsed HTTP/1.1 response from raw bytes. */
export interface RawResponse {
  status: number;
  statusLine: string;
  /** Lower-case names; repeated headers joined as an array. */
  headers: Record<string, string | string[]>;
  body: Buffer;
}

/**
 * Parse every complete response in `raw` (latin1 string or Buffer), e.g. `100 Continue` followed by
 * the final response. Bodies are framed by content-length or chunked; responses that carry
 * neither (and are not 1xx/204/304 or to HEAD) take the rest of the data.
 */
export function parseResponses(raw: string | Buffer, opts: { head?: boolean } = {}): RawResponse[] {
  const buf = typeof raw === 'string' ? Buffer.from(raw, 'latin1') : raw;
  const out: RawResponse[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const end = buf.indexOf('\r\n\r\n', pos);
    if (end === -1) break;
    const lines = buf.subarray(pos, end).toString('latin1').split('\r\n');
    const statusLine = lines[0]!;
    const status = Number(statusLine.split(' ')[1]);
    const headers: Record<string, string | string[]> = {};
    for (const l of lines.slice(1)) {
      const i = l.indexOf(':');
      const k = l.slice(0, i).trim().toLowerCase();
      const v = l.slice(i + 1).trim();
      const prev = headers[k];
      headers[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
    }
    pos = end + 4;
    let body: Buffer = Buffer.alloc(0);
    const noBody = status < 200 || status === 204 || status === 304 || opts.head;
    if (!noBody) {
      if (headers['content-length'] !== undefined) {
        const n = Number(headers['content-length']);
        body = buf.subarray(pos, pos + n);
        pos += n;
      } else if (String(headers['transfer-encoding'] ?? '').toLowerCase().includes('chunked')) {
        const parts: Buffer[] = [];
        for (;;) {
          const le = buf.indexOf('\r\n', pos);
          if (le === -1) break;
          const size = parseInt(buf.subarray(pos, le).toString('latin1'), 16);
          pos = le + 2;
          if (size === 0) {
            const te = buf.indexOf('\r\n', pos);
            pos = te === -1 ? buf.length : te + 2;
            break;
          }
          parts.push(buf.subarray(pos, pos + size));
          pos += size + 2;
        }
        body = Buffer.concat(parts);
      } else {
        body = buf.subarray(pos);
        pos = buf.length;
      }
    }
    out.push({ status, statusLine, headers, body });
  }
  return out;
}

/** An interactive raw connection: write, wait for bytes, read what arrived. */
export class RawConn {
  readonly socket: net.Socket;
  #data: Buffer[] = [];
  #waiters: Array<() => void> = [];
  closed = false;
  readonly ended: Promise<void>;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (c: Buffer) => {
      this.#data.push(c);
      this.#wake();
    });
    socket.on('error', () => {});
    this.ended = new Promise((r) =>
      socket.on('close', () => {
        this.closed = true;
        this.#wake();
        r();
      }),
    );
  }

  static open(port: number): Promise<RawConn> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => resolve(new RawConn(s)));
      s.once('error', reject);
    });
  }

  #wake(): void {
    for (const w of this.#waiters.splice(0)) w();
  }

  /** Everything received so far, as latin1. */
  text(): string {
    return Buffer.concat(this.#data).toString('latin1');
  }

  write(data: string | Buffer): Promise<void> {
    return new Promise((r) => this.socket.write(data, () => r()));
  }

  /** Wait until the received text satisfies `pred` (or the socket closes, or `ms` pass). Returns the text. */
  async waitFor(pred: (text: string) => boolean, ms = 2000): Promise<string> {
    const deadline = Date.now() + ms;
    while (!pred(this.text()) && !this.closed && Date.now() < deadline) {
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.max(1, deadline - Date.now()));
        this.#waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
    return this.text();
  }

  /** Wait for the server to close the connection (or `ms`), then return everything received. */
  async untilClosed(ms = 2000): Promise<string> {
    await this.waitFor(() => false, ms);
    return this.text();
  }

  destroy(): void {
    this.socket.destroy();
  }

  close(): Promise<void> {
    this.socket.destroy();
    return this.ended;
  }
}

/** Collect what a channel publishes while the test runs. */
export function record<T>(t: TestContext, ch: Channel): T[] {
  const recs: T[] = [];
  const fn = (m: unknown) => recs.push(m as T);
  ch.subscribe(fn);
  t.after(() => ch.unsubscribe(fn));
  return recs;
}

/** Collect access records published while the test runs. */
export function recordAccess(t: TestContext): AccessRecord[] {
  return record<AccessRecord>(t, channels.request);
}

/** Poll until `cond` holds or `ms` pass; returns whether it held. */
export async function eventually(cond: () => boolean, ms = 2000, step = 10): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, step));
  }
  return true;
}

/** Values of a header in a flat raw-headers array, matched case-insensitively. */
export function rawValues(rawHeaders: readonly string[], name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) if (rawHeaders[i]!.toLowerCase() === name) out.push(rawHeaders[i + 1]!);
  return out;
}
