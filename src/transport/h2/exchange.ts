import type { ClientHttp2Session, ClientHttp2Stream, IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http2';
import { http2Module } from '../../util/builtins.js';
import type { UpstreamHandler, UpstreamRequest } from '../../proxy/exchange.js';
import { transportError } from '../lean/wire.js';

/** Connection-specific fields (RFC 9113 8.2.2): never sent on HTTP/2. The proxy already drops most. */
const NOT_ON_H2 = new Set(['host', 'connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te']);

/** Time limits of one exchange, in ms (0 = none). */
export interface ExchangeTimeouts {
  headersTimeout: number;
  bodyTimeout: number;
}

/** The proxy's request head as HTTP/2 headers: Host becomes :authority; gRPC requests say `te: trailers`. */
export function h2RequestHeaders(req: UpstreamRequest, scheme: 'http' | 'https'): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = { ':method': req.method, ':scheme': scheme, ':path': req.path };
  const h = req.headers;
  for (let i = 0; i < h.length; i += 2) {
    const name = h[i]!.toLowerCase();
    const value = h[i + 1]!;
    if (name === 'host') out[':authority'] ??= value;
    if (NOT_ON_H2.has(name)) continue;
    const prev = out[name];
    if (prev === undefined) out[name] = value;
    else out[name] = Array.isArray(prev) ? [...prev, value] : [String(prev), value];
  }
  const ct = out['content-type'];
  if (typeof ct === 'string' && ct.startsWith('application/grpc')) out['te'] = 'trailers';
  return out;
}

/** HTTP/2 response headers or trailers as a flat raw list, pseudo-headers left out. */
export function flatHeaders(h: IncomingHttpHeaders): string[] {
  const out: string[] = [];
  for (const name of Object.keys(h)) {
    if (name.charCodeAt(0) === 58 /* : */) continue;
    const v = h[name];
    if (Array.isArray(v)) for (const x of v) out.push(name, x);
    else if (v !== undefined) out.push(name, String(v));
  }
  return out;
}

/**
 * One request on a multiplexed session, driving the proxy's handler like the HTTP/1.1 transports:
 * headers, body with backpressure (a paused handler pauses the stream, and HTTP/2 flow control
 * holds the server), trailers to onComplete. A stream the server refuses (REFUSED_STREAM, or past
 * a GOAWAY) was never processed and fails as a connect error, so it may be retried anywhere.
 */
export function runExchange(session: ClientHttp2Session, scheme: 'http' | 'https', req: UpstreamRequest, handler: UpstreamHandler, t: ExchangeTimeouts): void {
  const body = req.body;
  const noBody = body === null || (Buffer.isBuffer(body) && body.length === 0);
  let done = false;
  let trailers: string[] | null = null;
  let responded = false;
  let stream: ClientHttp2Stream;
  const fail = (err: Error) => {
    if (done) return;
    done = true;
    if (stream !== undefined && !stream.destroyed) stream.close(http2Module().constants.NGHTTP2_CANCEL);
    handler.onError(err);
  };
  try {
    stream = session.request(h2RequestHeaders(req, scheme), { endStream: noBody });
  } catch (err) {
    fail(streamError(undefined, err as NodeJS.ErrnoException));
    return;
  }
  handler.onConnect((err) => fail(err ?? transportError('request aborted', 'UND_ERR_ABORTED')));
  if (done) return;
  if (t.headersTimeout > 0) stream.setTimeout(t.headersTimeout);
  stream.on('timeout', () =>
    fail(responded ? transportError(`response body idle for ${t.bodyTimeout}ms`, 'UND_ERR_BODY_TIMEOUT') : transportError(`no response headers within ${t.headersTimeout}ms`, 'UND_ERR_HEADERS_TIMEOUT')),
  );
  stream.on('response', (h) => {
    if (done) return;
    responded = true;
    stream.setTimeout(t.bodyTimeout);
    if (handler.onHeaders(Number(h[':status']), flatHeaders(h), () => stream.resume(), '') === false) stream.pause();
  });
  stream.on('data', (c: Buffer) => {
    if (!done && handler.onData(c) === false) stream.pause();
  });
  stream.on('trailers', (h) => (trailers = flatHeaders(h)));
  stream.on('end', () => {
    if (done) return;
    done = true;
    handler.onComplete(trailers);
  });
  stream.on('error', (err: NodeJS.ErrnoException) => fail(streamError(stream, err)));
  stream.on('close', () => fail(streamError(stream)));
  if (noBody) handler.onRequestSent?.();
  else if (Buffer.isBuffer(body)) stream.end(body, () => handler.onRequestSent?.());
  else void pump(stream, body!, () => done).then(
    () => handler.onRequestSent?.(),
    (err: Error) => fail(err),
  );
}

/** Session states in which a new stream never reached the server. */
const NOT_SENT = new Set(['ERR_HTTP2_GOAWAY_SESSION', 'ERR_HTTP2_INVALID_SESSION']);

function streamError(stream: ClientHttp2Stream | undefined, err?: NodeJS.ErrnoException): Error {
  if (stream?.rstCode === http2Module().constants.NGHTTP2_REFUSED_STREAM || NOT_SENT.has(err?.code ?? '')) {
    return transportError(`the upstream server refused the stream${err ? ` (${err.message})` : ''}`, 'ECONNREFUSED');
  }
  if (err?.code && err.code !== 'ERR_HTTP2_STREAM_ERROR') return err;
  return transportError(`the upstream server reset the stream (HTTP/2 error ${stream?.rstCode ?? 'none'})`, 'UND_ERR_SOCKET');
}

async function pump(stream: ClientHttp2Stream, body: AsyncIterable<Buffer>, over: () => boolean): Promise<void> {
  for await (const chunk of body) {
    if (over()) return;
    if (!stream.write(chunk)) await new Promise<void>((r) => stream.once('drain', r).once('close', r));
  }
  if (!over()) await new Promise<void>((r) => stream.end(r));
}
