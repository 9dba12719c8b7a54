import http from 'node:http';

/** A small sample origin for the demo: answers with its name; a flaky one fails some requests. */
export interface DemoOrigin {
  name: string;
  port: number;
  close(): Promise<void>;
}

/**
 * Start an origin on 127.0.0.1 (port 0 = any free port). With `failEvery: n`, every n-th request
 * gets a 503 and the one after it has its connection reset, so both kinds of failover show.
 */
export function startDemoOrigin(name: string, opts: { port?: number; failEvery?: number } = {}): Promise<DemoOrigin> {
  let count = 0;
  const server = http.createServer((req, res) => {
    count++;
    const n = opts.failEvery;
    if (n && count % n === 0) {
      res.writeHead(503, { 'content-type': 'text/plain' });
      res.end(`${name} is having a bad moment (503)\n`);
      return;
    }
    if (n && count % n === 1 && count > 1) {
      req.socket.destroy();
      return;
    }
    req.resume();
    const body = `hello from ${name}: ${req.method} ${req.url}\n`;
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body), 'x-origin': name });
    res.end(body);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => {
      const a = server.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      resolve({
        name,
        port,
        close: () =>
          new Promise<void>((r) => {
            server.close(() => r());
            server.closeAllConnections();
          }),
      });
    });
  });
}
