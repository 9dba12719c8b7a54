import { REASONS, closingResponse } from '../../http1/reasons.js';
import { errorBody } from '../../errors.js';
import { channels } from '../../observability/events.js';

const cache = new Map<number, string>();

/**
 * The whole response refusing a request the lean engine will not pass on (malformed, too large a
 * head, unknown method, unsupported version, head timeout), always closing the connection.
 */
export function refusal(status: number): string {
  let r = cache.get(status);
  if (r === undefined) {
    const body =
      status === 400 ? errorBody('HW_ERR_BAD_REQUEST') : status === 505 ? errorBody('HW_ERR_HTTP_VERSION') : `${status} ${REASONS[status] ?? 'unknown'}\n`;
    r = closingResponse(status, body);
    cache.set(status, r);
  }
  return r;
}

/** Tell the lifecycle channel, as the node engine's clientError does. */
export function publishRefusal(status: number, reason: string): void {
  if (channels.lifecycle.hasSubscribers) channels.lifecycle.publish({ level: 'info', msg: 'malformed request refused', reason, status });
}

const HTTP20 = Buffer.from(' HTTP/2.0\r', 'latin1');

/**
 * The status node:http (llhttp) answers for what the head parser refused, so both engines look
 * the same to clients: an unknown method is 400 (not 501), and a version other than 1.x is 400
 * except HTTP/2.0, which llhttp lets through and the gateway answers with 505.
 */
export function nodeStatus(status: number, buf: Buffer, start: number, end: number): number {
  if (status === 501) return 400;
  if (status !== 505) return status;
  const lf = buf.indexOf(10, start);
  const cr = lf > start && lf <= end ? lf - 1 : -1;
  return cr >= start + HTTP20.length - 1 && buf.compare(HTTP20, 0, HTTP20.length, cr - HTTP20.length + 1, cr + 1) === 0 ? 505 : 400;
}
