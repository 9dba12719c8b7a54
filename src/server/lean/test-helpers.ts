import net from 'node:net';
import type { TestContext } from 'node:test';
import { LeanListener, type LeanListenerOptions } from './listener.js';
import type { Runtime } from '../../proxy/handler.js';
import type { LeanRequest } from './request.js';
import type { LeanResponse } from './response.js';

export type Handler = (req: LeanRequest, res: LeanResponse) => void;

/** A lean listener on 127.0.0.1:0 with a test handler instead of the proxy; closed after the test. */
export async function listen(t: TestContext, handle: Handler, opts: Omit<LeanListenerOptions, 'handle'> = {}): Promise<{ l: LeanListener; port: number }> {
  const l = new LeanListener({ name: 't', address: '127.0.0.1:0', host: '127.0.0.1', port: 0, protocol: 'http', idle_timeout: 0 }, () => ({}) as Runtime, {
    continueOk: () => true,
    ...opts,
    handle,
  });
  const port = await l.listen();
  t.after(() => l.close(0));
  return { l, port };
}

/** Read the whole body by async iteration. */
export async function readAll(req: LeanRequest): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of req) parts.push(c);
  return Buffer.concat(parts);
}

/** Answers `<method> <url> <body length>` with a content-length. */
export const echo: Handler = (req, res) => {
  readAll(req).then(
    (body) => {
      const text = `${req.method} ${req.url} ${body.length}`;
      res.writeHead(200, ['content-type', 'text/plain', 'content-length', String(text.length)]);
      res.end(text);
    },
    () => res.destroy(),
  );
};

/** A raw client connection: write bytes, wait for text, see whether the server closed. */
export class Client {
  readonly socket: net.Socket;
  #data = '';
  #waiters: Array<() => void> = [];
  closed = false;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.setEncoding('latin1');
    socket.on('data', (c: string) => {
      this.#data += c;
      this.#wake();
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
      this.#wake();
    });
  }

  static open(t: TestContext, port: number): Promise<Client> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => resolve(new Client(s)));
      s.once('error', reject);
      t.after(() => s.destroy());
    });
  }

  #wake(): void {
    for (const w of this.#waiters.splice(0)) w();
  }

  get text(): string {
    return this.#data;
  }

  write(data: string | Buffer): Promise<void> {
    return new Promise((r) => this.socket.write(data, () => r()));
  }

  /** Wait until `pred(text)` holds, the socket closes, or `ms` pass; returns the text. */
  async until(pred: (text: string) => boolean, ms = 2000): Promise<string> {
    const deadline = Date.now() + ms;
    while (!pred(this.#data) && !this.closed && Date.now() < deadline) {
      await new Promise<void>((r) => {
        const timer = setTimeout(r, Math.max(1, deadline - Date.now()));
        this.#waiters.push(() => {
          clearTimeout(timer);
          r();
        });
      });
    }
    return this.#data;
  }

  /** Wait for the server to close (or `ms`); returns everything received. */
  closedText(ms = 2000): Promise<string> {
    return this.until(() => false, ms);
  }
}

/** How many complete `HTTP/1.1 ` status lines are in `text`. */
export function count(text: string): number {
  return text.split('HTTP/1.1 ').length - 1;
}
