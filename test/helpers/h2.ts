import http2 from 'node:http2';
import tls from 'node:tls';
import type { TestContext } from 'node:test';

export interface H2Reply {
  status: number;
  headers: http2.IncomingHttpHeaders;
  body: string;
  trailers: http2.IncomingHttpHeaders | undefined;
}

/** An HTTP/2 client session (h2 with `ca`, else h2c), closed when the test ends. */
export async function h2Session(t: TestContext, url: string, opts: { ca?: string; servername?: string } = {}): Promise<http2.ClientHttp2Session> {
  const s = http2.connect(url, opts.ca ? { ca: opts.ca, servername: opts.servername ?? 'localhost' } : {});
  t.after(() => s.destroy());
  await new Promise<void>((resolve, reject) => {
    s.once('connect', () => resolve());
    s.once('error', reject);
  });
  return s;
}

/** One request on a session, body read whole. */
export function h2Request(s: http2.ClientHttp2Session, headers: http2.OutgoingHttpHeaders, body?: string | Buffer): Promise<H2Reply> {
  return new Promise((resolve, reject) => {
    const st = s.request(headers, { endStream: body === undefined });
    let head: http2.IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders | undefined;
    const chunks: Buffer[] = [];
    st.on('response', (h) => (head = h));
    st.on('trailers', (h) => (trailers = h));
    st.on('data', (c: Buffer) => chunks.push(c));
    st.on('end', () => resolve({ status: Number(head[':status']), headers: head, body: Buffer.concat(chunks).toString(), trailers }));
    st.on('error', reject);
    if (body !== undefined) st.end(body);
  });
}

/** The certificate a TLS server presents for this SNI name (undefined: none sent): its subject CN. */
export function servedCertCN(port: number, ca: string, servername: string | undefined): Promise<string> {
  return new Promise((resolve, reject) => {
    const opts: tls.ConnectionOptions = { host: '127.0.0.1', port, ca, rejectUnauthorized: false };
    if (servername !== undefined) opts.servername = servername;
    const s = tls.connect(opts, () => {
      const cn = s.getPeerCertificate().subject?.CN;
      s.destroy();
      resolve(Array.isArray(cn) ? cn[0]! : (cn ?? ''));
    });
    s.on('error', reject);
  });
}
