import { HeadwaterError, type ErrorCode } from '../errors.js';
import type { AttemptOutcome } from '../health/passive/outcomes.js';
import { isTlsError } from '../transport/tls-options.js';

/** An attempt's failure as the retry policy, passive health and the client response see it. */
export interface Failure {
  outcome: AttemptOutcome;
  code: ErrorCode;
  error: Error;
  /** The request never left the gateway (connect failed): safe to retry even a POST. */
  beforeSend: boolean;
}

const TIMEOUTS = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);
const CONNECT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'EADDRNOTAVAIL']);
const MALFORMED = new Set(['UND_ERR_RES_CONTENT_LENGTH_MISMATCH', 'UND_ERR_HEADERS_OVERFLOW', 'UND_ERR_INFO']);

/** Map an error from undici (or one we aborted with) to an outcome and an error code. */
export function classify(err: unknown): Failure {
  const error = err instanceof Error ? err : new Error(String(err));
  if (err instanceof HeadwaterError) {
    const outcome: AttemptOutcome = err.code === 'HW_ERR_CLIENT_ABORT' ? 'client_abort' : err.code === 'HW_ERR_UPSTREAM_TIMEOUT' ? 'timeout' : 'error';
    return { outcome, code: err.code, error, beforeSend: false };
  }
  const code = (err as { code?: string } | undefined)?.code ?? '';
  if (code === 'UND_ERR_CONNECT_TIMEOUT') return { outcome: 'timeout', code: 'HW_ERR_UPSTREAM_TIMEOUT', error, beforeSend: true };
  if (TIMEOUTS.has(code)) return { outcome: 'timeout', code: 'HW_ERR_UPSTREAM_TIMEOUT', error, beforeSend: false };
  if (isTlsError(code)) return { outcome: 'error', code: 'HW_ERR_UPSTREAM_TLS', error, beforeSend: true };
  if (CONNECT.has(code)) return { outcome: 'error', code: 'HW_ERR_UPSTREAM_CONNECT', error, beforeSend: true };
  if (code.startsWith('HPE_') || MALFORMED.has(code)) return { outcome: 'invalid_header', code: 'HW_ERR_UPSTREAM_MALFORMED', error, beforeSend: false };
  if (code === 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH') return { outcome: 'client_abort', code: 'HW_ERR_CLIENT_ABORT', error, beforeSend: false };
  return { outcome: 'error', code: 'HW_ERR_UPSTREAM_RESET', error, beforeSend: false };
}
