import type { ProxyResponse } from './exchange.js';
import { ERROR_CATALOGUE, errorBody, type ErrorCode } from '../errors.js';

/**
 * Send the gateway's own error response, if the client can still get one. The body is short
 * plain text naming the code; the same code goes to the access log.
 */
export function sendError(res: ProxyResponse, code: ErrorCode, close = false): number {
  const status = ERROR_CATALOGUE[code].status;
  if (res.headersSent || res.destroyed) return status;
  const body = errorBody(code);
  const headers: string[] = ['content-type', 'text/plain; charset=utf-8', 'content-length', String(Buffer.byteLength(body))];
  if (close) headers.push('connection', 'close');
  res.writeHead(status, headers);
  res.end(body);
  return status;
}
