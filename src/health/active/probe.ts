import http from 'node:http';
import net from 'node:net';
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
 * One active probe of one server, on its own short-lived connection (plain node:http / node:net,
 * not the request path's pools), bounded by `timeout`. `signal` aborts it (server removed, gateway
 * closing). Never rejects.
 */
export function probe(host: Host, hc: HealthCheckConfig, signal: AbortSignal): Promise<ProbeResult> {
  return hc.type === 'tcp' ? probeTcp(host, hc, signal) : probeHttp(host, hc, signal);
}

function probeTcp(host: Host, hc: HealthCheckConfig, signal: AbortSignal): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: host.hostname, port: host.port, timeout: hc.timeout, signal });
    sock.once('connect', () => {
      sock.destroy();
      resolve({ ok: true, reason: 'tcp connect succeeded' });
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
  return new Promise((resolve) => {
    let done = false;
    const finish = (r: ProbeResult) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      req.destroy();
      resolve(r);
    };
    const headers: Record<string, string> = { host: hc.host ?? host.address, 'user-agent': 'headwater-health-check', ...hc.headers, connection: 'close' };
    const req = http.request({ host: host.hostname, port: host.port, method: hc.method, path: hc.path, headers, agent: false, signal });
    const timer = setTimeout(() => finish({ ok: false, reason: `no complete response within ${hc.timeout}ms` }), hc.timeout);
    req.once('error', (err) => finish({ ok: false, reason: `probe failed: ${err.message}` }));
    req.once('response', (res) => {
      const status = res.statusCode ?? 0;
      if (!hc.expect.status.some(([lo, hi]) => status >= lo && status <= hi)) {
        return finish({ ok: false, reason: `status ${status} is not expected` });
      }
      if (matches === undefined) {
        res.resume();
        return finish({ ok: true, reason: `status ${status}` });
      }
      const chunks: Buffer[] = [];
      let size = 0;
      const judge = () => {
        const text = Buffer.concat(chunks).subarray(0, BODY_LIMIT).toString('utf8');
        finish(matches(text) ? { ok: true, reason: `status ${status}, body matches` } : { ok: false, reason: `status ${status}, body does not match ${JSON.stringify(hc.expect.body)}` });
      };
      res.on('data', (c: Buffer) => {
        chunks.push(c);
        size += c.length;
        if (size >= BODY_LIMIT) judge();
      });
      res.once('end', judge);
      res.once('error', (err) => finish({ ok: false, reason: `probe response failed: ${err.message}` }));
    });
    req.end();
  });
}
