import { logFields } from '../observability/events.js';
import type { ProxyRequest } from './exchange.js';
import { own } from '../util/own.js';

/** A header value as one string: node:http's array (Set-Cookie) joined with ", ". */
export function joined(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v.join(', ') : v;
}

/** The request fields the access log's format prints (AccessRecord.fields), or undefined when it prints none. */
export function requestLogFields(req: ProxyRequest): Array<string | undefined> | undefined {
  const names = logFields.names;
  if (names.length === 0) return undefined;
  return req.logFields?.(names) ?? names.map((n) => joined(own(req.headers, n)));
}

/** The request's protocol as NGINX's $server_protocol prints it. */
export function protocolOf(req: ProxyRequest): string {
  return req.protocol ?? (req.httpVersionMajor === 2 ? 'HTTP/2.0' : req.httpVersionMinor === 0 ? 'HTTP/1.0' : 'HTTP/1.1');
}
