import type { Socket } from 'node:net';
import { closingResponse } from '../http1/reasons.js';
import { ERROR_CATALOGUE, errorBody, type ErrorCode } from '../errors.js';
import type { ResponseHead } from '../http1/response-head.js';
import { ChunkedDecoder } from '../http1/chunked.js';
import { downstreamResponseHeaders } from './headers.js';

/** Answer an upgrade request with the gateway's own error and close. Returns the status. */
export function refuseRaw(socket: Socket, code: ErrorCode): number {
  const status = ERROR_CATALOGUE[code].status;
  const body = errorBody(code);
  if (socket.writable) {
    socket.end(closingResponse(status, body), 'latin1');
  }
  linger(socket);
  return status;
}

/**
 * After the gateway's last byte: read (and drop) what the client still sends so its FIN is seen
 * and the socket closes, but never wait on it for more than a few seconds.
 */
export function linger(socket: Socket): void {
  socket.resume();
  socket.setTimeout(5000, () => socket.destroy());
}

/** The upstream's 101 head as the client gets it: every field as received (Upgrade and Connection included). */
export function switchingHead(h: ResponseHead): string {
  let s = `HTTP/1.1 101 ${h.reason || 'Switching Protocols'}\r\n`;
  for (let i = 0; i < h.headers.length; i += 2) s += `${h.headers[i]}: ${h.headers[i + 1]}\r\n`;
  return s + '\r\n';
}

/**
 * A non-101 answer to an upgrade request goes to the client as a normal response on a closing
 * connection: hop-by-hop fields dropped, `connection: close` added, the body passed through
 * with its own framing, which is read strictly to know where it ends. `done` gets the body bytes
 * sent and whether the body ended cleanly.
 */
export function relayResponse(client: Socket, upstream: Socket, h: ResponseHead, rest: Buffer, done: (bytes: number, ok: boolean) => void): void {
  const fields = downstreamResponseHeaders(h.headers);
  let head = `HTTP/1.1 ${h.status} ${h.reason}\r\n`;
  for (let i = 0; i < fields.length; i += 2) head += `${fields[i]}: ${fields[i + 1]}\r\n`;
  if (h.chunked) head += 'transfer-encoding: chunked\r\n';
  client.write(head + 'connection: close\r\n\r\n', 'latin1');
  let bytes = 0;
  let finished = false;
  const finish = (ok: boolean) => {
    if (finished) return;
    finished = true;
    upstream.destroy();
    if (ok) {
      client.end();
      linger(client);
    } else client.destroy();
    done(bytes, ok);
  };
  let remaining = h.noBody ? 0 : h.contentLength;
  const decoder = h.chunked ? new ChunkedDecoder() : undefined;
  decoder?.reset();
  const take = (buf: Buffer) => {
    if (finished || buf.length === 0) return;
    let n = buf.length;
    let end = false;
    if (decoder) {
      const r = decoder.push(buf, 0, buf.length, noop);
      if ('error' in r) return finish(false);
      if (r.done) (n = r.consumed), (end = true);
    } else if (!h.closeDelimited) {
      n = Math.min(n, remaining);
      remaining -= n;
      end = remaining === 0;
    }
    bytes += n;
    if (!client.write(buf.subarray(0, n))) {
      upstream.pause();
      client.once('drain', () => upstream.resume());
    }
    if (end) finish(true);
  };
  if (!h.closeDelimited && !decoder && remaining === 0) return finish(true);
  upstream.on('data', take);
  upstream.on('end', () => finish(h.closeDelimited));
  upstream.on('close', () => finish(h.closeDelimited));
  client.on('close', () => finish(false));
  take(rest);
  upstream.resume();
}

function noop(): void {}
