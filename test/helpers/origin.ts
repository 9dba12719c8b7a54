import http from 'node:http';
import type { TestContext } from 'node:test';
import type { AddressInfo, Socket } from 'node:net';

/** What an origin saw of one request. */
export interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  rawHeaders: string[];
  body: Buffer;
}

export type OriginHandler = (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer) => void;

/** A real upstream server on 127.0.0.1:0 that records what it receives. */
export interface Origin {
  name: string;
  port: number;
  address: string;
  seen: Seen[];
  /** Connections currently open to this origin. */
  connections(): number;
  close(): Promise<void>;
}

/** Default behaviour: 200 with `name` as body and an `x-origin` header. */
export const answerName =
  (name: string): OriginHandler =>
  (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'x-origin': name });
    res.end(name);
  };

/** Where and how an origin listens: `host`/`port` (default 127.0.0.1:0; any 127.x.y.z works on Linux). */
export interface OriginOptions {
  streaming?: boolean;
  host?: string;
  port?: number;
}

/**
 * Start an origin. The handler runs after the whole request body has been read (use
 * `streaming: true` to get the request before its body, e.g. to hang or reset early).
 */
export function startOrigin(name: string, handler: OriginHandler = answerName(name), opts: OriginOptions = {}): Promise<Origin> {
  const seen: Seen[] = [];
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    if (opts.streaming) {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, rawHeaders: req.rawHeaders, body: Buffer.alloc(0) });
      handler(req, res, Buffer.alloc(0));
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, rawHeaders: req.rawHeaders, body });
      handler(req, res, body);
    });
  });
  server.keepAliveTimeout = 30_000;
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    const host = opts.host ?? '127.0.0.1';
    server.listen(opts.port ?? 0, host, () => {
      const port = (server.address() as AddressInfo).port;
      resolve({
        name,
        port,
        address: `${host}:${port}`,
        seen,
        connections: () => sockets.size,
        close: () =>
          new Promise<void>((r) => {
            for (const s of sockets) s.destroy();
            server.close(() => r());
          }),
      });
    });
  });
}

/**
 * An address where nothing listens: connecting is refused at once. Port 1 on a loopback address
 * other than 127.0.0.1 (all of 127/8 is loopback on Linux); a port freed after a bind could be
 * taken meanwhile by a server of a test running in parallel.
 */
let deadHost = 1;
export async function deadAddress(): Promise<string> {
  deadHost = deadHost >= 250 ? 2 : deadHost + 1;
  return `127.0.0.${deadHost}:1`;
}

/** An origin for one test, closed when the test ends. */
export async function originFor(t: TestContext, name: string, handler?: OriginHandler, opts: OriginOptions = {}): Promise<Origin> {
  const o = await startOrigin(name, handler, opts);
  t.after(() => o.close());
  return o;
}
