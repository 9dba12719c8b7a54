import net from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import { http2Module, httpModule, httpsModule, tlsModule } from '../../util/builtins.js';
import type { Readable } from 'node:stream';
import { tlsConnectOptions } from '../../transport/tls-options.js';
import type { HealthCheckConfig } from '../../config/types.js';
import type { Host } from '../../upstream/host.js';

/** What one probe found: passed or not, and why (for the transition log). */
export interface ProbeResult {
  ok: boolean;
  reason: string;
}

/** Bytes of a probe response body read for `expect.body`. */
const BODY_LIMIT = 64 * 1024;

/** A compiled expect.body: substring, or `/regex/flags`. */
export function bodyMatcher(body: string | undefined): ((text: string) => boolean) | undefined {
  if (body === undefined) return undefined;
  const m = /^\/(.*)\/([a-z]*)$/s.exec(body);
  if (!m) return (text) => text.includes(body);
  const re = new RegExp(m[1]!, m[2]);
  return (text) => re.test(text);
}

/**
 * One active probe of one server, on its own short-lived connection (node:http / node:net, or
 * node:https / node:tls / node:http2 as the upstream's `tls` and `protocol` say, with the same
 * verification as requests; not the request path's pools), bounded by `timeout`. `signal` aborts
 * it (server removed, gateway closing). Never rejects.
 */
export function probe(host: Host, hc: HealthCheckConfig, signal: AbortSignal): Promise<ProbeResult> {
  return hc.type === 'tcp' ? probeTcp(host, hc, signal) : probeHttp(host, hc, signal);
}

function probeTcp(host: Host, hc: HealthCheckConfig, signal: AbortSignal): Promise<ProbeResult> {
  // An upstream with tls: the probe passes once the TLS handshake (and certificate check) succeeds.
  const secure = tlsConnectOptions({ tls: hc.tls, protocol: hc.protocol }, host.tlsName);
  return new Promise((resolve) => {
    const sock = secure
      ? tlsModule().connect({ ...secure, host: host.hostname, port: host.port, timeout: hc.timeout })
      : net.connect({ host: host.hostname, port: host.port, timeout: hc.timeout, signal });
    if (secure) signal.addEventListener('abort', () => sock.destroy(new Error('probe aborted')), { once: true });
    sock.once(secure ? 'secureConnect' : 'connect', () => {
      sock.destroy();
      resolve({ ok: true, reason: secure ? 'tls handshake succeeded' : 'tcp connect succeeded' });
    });
    sock.once('timeout', () => {
      sock.destroy();
      resolve({ ok: false, reason: `tcp connect timed out after ${hc.timeout}ms` });
    });
    sock.once('error', (err) => resolve({ ok: false, reason: `tcp connect failed: ${err.message}` }));
  });
}

function probeHttp(host: Host, hc: HealthCheckConfig, signal: AbortSignal): Promise<ProbeResult> {
  const matches = bodyMatcher(hc.expect.body);
  const secure = tlsConnectOptions({ tls: hc.tls, protocol: hc.protocol }, host.tlsName);
  return new Promise((resolve) => {
    let done = false;
    let cancel = () => {};
    const finish = (r: ProbeResult) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      cancel();
      resolve(r);
    };
    const headers: Record<string, string> = { host: hc.host ?? host.address, 'user-agent': 'headwater-health-check', ...hc.headers };
    const timer = setTimeout(() => finish({ ok: false, reason: `no complete response within ${hc.timeout}ms` }), hc.timeout);
    const onError = (err: Error) => finish({ ok: false, reason: `probe failed: ${err.message}` });
    const onResponse = (status: number, res: Readable) => judge(status, res, hc, matches, finish);
    if (hc.protocol === 'h2' || hc.protocol === 'h2c') {
      try {
        cancel = probeOverH2(host, hc, headers, secure, signal, onResponse, onError);
      } catch (err) {
        onError(err as Error); // e.g. a configured header HTTP/2 cannot carry
      }
    } else {
      const opts = { host: host.hostname, port: host.port, method: hc.method, path: hc.path, headers: { ...headers, connection: 'close' }, agent: false, signal };
      const req = secure ? httpsModule().request({ ...opts, ...secure }) : httpModule().request(opts);
      cancel = () => req.destroy();
      req.once('error', onError);
      req.once('response', (res) => onResponse(res.statusCode ?? 0, res));
      req.end();
    }
  });
}

/** An HTTP/2 probe (upstreams with protocol h2 / h2c) on its own session, closed after one stream. */
function probeOverH2(
  host: Host,
  hc: HealthCheckConfig,
  headers: Record<string, string>,
  secure: ConnectionOptions | undefined,
  signal: AbortSignal,
  onResponse: (status: number, res: Readable) => void,
  onError: (err: Error) => void,
): () => void {
  const authority = `${secure ? 'https' : 'http'}://${host.hostname.includes(':') ? `[${host.hostname}]` : host.hostname}:${host.port}`;
  const session = http2Module().connect(authority, {
    createConnection: () => (secure ? tlsModule().connect({ ...secure, host: host.hostname, port: host.port }) : net.connect({ host: host.hostname, port: host.port })),
  });
  session.on('error', onError);
  const { host: authorityHeader, ...rest } = headers;
  const stream = session.request({ ...rest, ':method': hc.method, ':path': hc.path, ':authority': authorityHeader }, { signal });
  stream.on('error', onError);
  stream.once('response', (h) => onResponse(Number(h[':status']), stream));
  return () => session.destroy();
}

/** Judge a probe response: expected status, then (when asked) the body. */
function judge(status: number, res: Readable, hc: HealthCheckConfig, matches: ((text: string) => boolean) | undefined, finish: (r: ProbeResult) => void): void {
  if (!hc.expect.status.some(([lo, hi]) => status >= lo && status <= hi)) {
    return finish({ ok: false, reason: `status ${status} is not expected` });
  }
  if (matches === undefined) {
    res.resume();
    return finish({ ok: true, reason: `status ${status}` });
  }
  const chunks: Buffer[] = [];
  let size = 0;
  const verdict = () => {
    const text = Buffer.concat(chunks).subarray(0, BODY_LIMIT).toString('utf8');
    finish(matches(text) ? { ok: true, reason: `status ${status}, body matches` } : { ok: false, reason: `status ${status}, body does not match ${JSON.stringify(hc.expect.body)}` });
  };
  res.on('data', (c: Buffer) => {
    chunks.push(c);
    size += c.length;
    if (size >= BODY_LIMIT) verdict();
  });
  res.once('end', verdict);
  res.once('error', (err) => finish({ ok: false, reason: `probe response failed: ${err.message}` }));
}
