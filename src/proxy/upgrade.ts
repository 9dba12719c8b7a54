import type { Socket } from 'node:net';
import type { ProxyRequest } from './exchange.js';
import type { Runtime } from './handler.js';
import type { ErrorCode } from '../errors.js';
import type { UpstreamGroup } from '../upstream/group.js';
import { stripPrefix } from '../router/path.js';
import { parseResponseHead, type ResponseHead } from '../http1/response-head.js';
import { reportAttempt } from '../health/report.js';
import { channels, type AccessRecord } from '../observability/events.js';
import { protocolOf, requestLogFields } from './log-fields.js';
import { isoNow } from '../observability/access-line.js';
import { proxyEnds } from '../server/proxy-protocol.js';
import { Dialer } from '../stream/dial.js';
import { Splice, type SpliceStats } from '../stream/splice.js';
import { clientAddress, malformed, requestHeader, routeFor, scanFields } from './route.js';
import { upstreamRequestHeaders } from './headers.js';
import { refuseRaw, relayResponse, switchingHead } from './upgrade-wire.js';

const HEAD_LIMITS = { maxHeadSize: 64 * 1024, maxHeaders: 200 };
const WEBSOCKET = /(?:^|,)\s*websocket\s*(?:,|$)/i;

/**
 * An HTTP/1.1 Upgrade request (WebSocket and any other protocol), on either engine: the route
 * and upstream as for any request, a dedicated connection from the upstream's balancer (with
 * connect failover), the request head rewritten as usual but keeping Upgrade and Connection, then
 * the upstream's answer: a 101 (with Sec-WebSocket-Accept for a WebSocket) is passed on and the
 * two sockets are spliced byte for byte; anything else is relayed as a normal response and the
 * connection closed. `head` is what the client sent after its request head. Never throws.
 */
export function serveUpgrade(rt: Runtime, req: ProxyRequest, client: Socket, head: Buffer, proto: 'http' | 'https' = 'http'): void {
  new Upgrade(rt, req, client, head, proto).run();
}

class Upgrade {
  readonly #rt: Runtime;
  readonly #req: ProxyRequest;
  readonly #client: Socket;
  readonly #head: Buffer;
  readonly #proto: 'http' | 'https';
  readonly #start: number;
  readonly #rec: AccessRecord;
  #group: UpstreamGroup | undefined;
  #dialer: Dialer | undefined;

  constructor(rt: Runtime, req: ProxyRequest, client: Socket, head: Buffer, proto: 'http' | 'https') {
    this.#rt = rt;
    this.#req = req;
    this.#client = client;
    this.#head = head;
    this.#proto = proto;
    this.#start = rt.now();
    this.#rec = {
      time: '', client: clientAddress(req), method: req.method ?? 'GET', path: req.url ?? '', host: undefined,
      status: 0, bytes: 0, duration_ms: 0, route: undefined, upstream: undefined, tries: [], protocol: protocolOf(req), fields: undefined,
    };
  }

  run(): void {
    const client = this.#client;
    client.on('error', noop);
    client.pause();
    try {
      const rt = this.#rt;
      const req = this.#req;
      const fields = scanFields(req.rawHeaders);
      this.#rec.host = fields.host;
      const found = routeFor(rt, req, fields.host);
      const bad = !found ? 'HW_ERR_BAD_REQUEST' : malformed(req, fields);
      if (bad) return this.#refuse(bad);
      const route = found!.route;
      if (!route) return this.#refuse('HW_ERR_NO_ROUTE');
      this.#rec.route = route.name;
      this.#rec.upstream = route.upstream;
      const upgrade = String(req.headers.upgrade ?? '');
      const websocket = WEBSOCKET.test(upgrade);
      // A body before the switch, HTTP/1.0, a WebSocket handshake that is not a GET or has no key: 400.
      if (fields.hasBody || req.httpVersionMinor !== 1 || (websocket && (req.method !== 'GET' || !req.headers['sec-websocket-key']))) {
        return this.#refuse('HW_ERR_BAD_REQUEST');
      }
      const group = (this.#group = rt.groups.get(route.upstream)!);
      const up = group.config;
      const path = (route.strip_prefix && route.match.path_prefix ? stripPrefix(found!.path, route.match.path_prefix) : found!.path) + found!.query;
      const dialer = (this.#dialer = new Dialer(
        { method: this.#rec.method, path: req.url ?? '/', clientIp: this.#rec.client, header: (n) => requestHeader(req, n), ends: proxyEnds(req.socket) },
        group, rt.retry.get(group.name)!, rt.now,
      ));
      const onGone = () => {
        dialer.cancel();
        this.#log(499, 'HW_ERR_CLIENT_ABORT');
      };
      client.once('close', onGone);
      dialer.dial((r) => {
        client.off('close', onGone);
        if (!r.ok) return this.#refuse(r.code);
        const host = r.host.address;
        const upstreamHost = up.pass_host === 'pass' ? (found!.host ?? host) : up.pass_host === 'node' ? host : up.host!;
        const headers = upstreamRequestHeaders(req.rawHeaders, { clientIp: this.#rec.client, proto: this.#proto, host: found!.host, upstreamHost, rfc7239: rt.config.forwarded === 'rfc7239' });
        let text = `${this.#rec.method} ${path} HTTP/1.1\r\n`;
        for (let i = 0; i < headers.length; i += 2) text += `${headers[i]}: ${headers[i + 1]}\r\n`;
        r.socket.write(`${text}connection: upgrade\r\nupgrade: ${upgrade}\r\n\r\n`, 'latin1');
        this.#awaitHead(r.socket, websocket);
      });
    } catch (err) {
      channels.lifecycle.publish({ level: 'error', msg: 'upgrade handler failed', err: String(err) });
      this.#refuse('HW_ERR_INTERNAL');
    }
  }

  /** Read the upstream's response head strictly; 1xx other than 101 are skipped. */
  #awaitHead(upstream: Socket, websocket: boolean): void {
    const up = this.#group!.config;
    let buf: Buffer = Buffer.alloc(0);
    let over = false;
    const stop = () => {
      over = true;
      upstream.removeAllListeners('data');
      upstream.removeAllListeners('timeout');
      upstream.removeAllListeners('close');
      this.#client.off('close', clientGone);
      upstream.setTimeout(0);
    };
    const failed = (code: ErrorCode, outcome: 'error' | 'timeout' | 'invalid_header') => {
      if (over) return;
      stop();
      upstream.destroy();
      this.#attemptFailed(outcome);
      this.#refuse(code);
    };
    const clientGone = () => {
      if (over) return;
      stop();
      upstream.destroy();
      this.#log(499, 'HW_ERR_CLIENT_ABORT');
    };
    this.#client.once('close', clientGone);
    if (up.timeouts.response_header > 0) upstream.setTimeout(up.timeouts.response_header, () => failed('HW_ERR_UPSTREAM_TIMEOUT', 'timeout'));
    upstream.on('close', () => failed('HW_ERR_UPSTREAM_RESET', 'error'));
    upstream.on('data', (chunk: Buffer) => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      for (;;) {
        const r = parseResponseHead(buf, 0, buf.length, HEAD_LIMITS, this.#rec.method);
        if (r.kind === 'incomplete') return;
        if (r.kind === 'error') return failed('HW_ERR_UPSTREAM_MALFORMED', 'invalid_header');
        const h = r.head;
        if (h.status < 200 && h.status !== 101) {
          buf = buf.subarray(r.next);
          continue;
        }
        if (h.status === 101 && websocket && !has(h.headers, 'sec-websocket-accept')) return failed('HW_ERR_UPSTREAM_MALFORMED', 'invalid_header');
        stop();
        upstream.pause();
        return h.status === 101 ? this.#tunnel(upstream, h, buf.subarray(r.next)) : this.#relay(upstream, h, buf.subarray(r.next));
      }
    });
    upstream.resume();
  }

  #tunnel(upstream: Socket, h: ResponseHead, rest: Buffer): void {
    const rt = this.#rt;
    this.#client.write(switchingHead(h), 'latin1');
    const splice = new Splice(this.#client, upstream, this.#group!.config.timeouts.tunnel, { client: this.#head, upstream: rest }, (s: SpliceStats) => {
      rt.splices.delete(splice);
      this.#dialer!.release();
      this.#rec.bytes_in = s.bytesIn;
      this.#rec.outcome = s.outcome;
      this.#log(101, undefined, s.bytesOut);
    });
    rt.splices.add(splice);
  }

  #relay(upstream: Socket, h: ResponseHead, rest: Buffer): void {
    const group = this.#group!;
    const outcome = `http_${h.status}` as const;
    reportAttempt(group, this.#dialer!.hostNow!, outcome, h.status, this.#rt.now());
    relayResponse(this.#client, upstream, h, rest, (bytes) => {
      this.#dialer!.release();
      this.#log(h.status, undefined, bytes);
    });
  }

  /** The connection was made but the exchange failed: passive health hears of it. */
  #attemptFailed(outcome: 'error' | 'timeout' | 'invalid_header'): void {
    const d = this.#dialer!;
    const group = this.#group!;
    const host = d.hostNow!;
    d.release();
    reportAttempt(group, host, outcome, undefined, this.#rt.now());
    const last = d.tries[d.tries.length - 1];
    if (last) last.outcome = outcome;
  }

  #refuse(code: ErrorCode): void {
    this.#log(refuseRaw(this.#client, code), code);
  }

  #log(status: number, code?: ErrorCode, bytes = 0): void {
    const rec = this.#rec;
    if (rec.status !== 0) return;
    rec.status = status;
    if (!channels.request.hasSubscribers) return;
    rec.time = isoNow();
    rec.bytes = bytes;
    rec.duration_ms = Math.round((this.#rt.now() - this.#start) * 1000) / 1000;
    rec.tries = this.#dialer?.tries ?? [];
    rec.fields = requestLogFields(this.#req);
    if (code) rec.code = code;
    channels.request.publish(rec);
  }
}

function has(raw: readonly string[], name: string): boolean {
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.length === name.length && raw[i]!.toLowerCase() === name) return true;
  return false;
}

function noop(): void {}
