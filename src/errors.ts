/**
 * One catalogue of every error Headwater reports. Each code maps to the HTTP status a client sees
 * and a short body, so the access log, the client and the docs always agree.
 */
export const ERROR_CATALOGUE = {
  HW_ERR_NO_ROUTE: { status: 404, message: 'no route matches this request' },
  HW_ERR_NO_HEALTHY_UPSTREAM: { status: 503, message: 'no upstream server is available' },
  HW_ERR_QUEUE_FULL: { status: 503, message: 'every upstream server is busy and the queue is full' },
  HW_ERR_QUEUE_TIMEOUT: { status: 503, message: 'no upstream server became free in time' },
  HW_ERR_UPSTREAM_CONNECT: { status: 502, message: 'could not connect to the upstream server' },
  HW_ERR_UPSTREAM_RESET: { status: 502, message: 'the upstream server closed the connection' },
  HW_ERR_UPSTREAM_MALFORMED: { status: 502, message: 'the upstream server sent an invalid response' },
  HW_ERR_UPSTREAM_TLS: { status: 502, message: 'TLS with the upstream server failed' },
  HW_ERR_UPSTREAM_TIMEOUT: { status: 504, message: 'the upstream server timed out' },
  HW_ERR_BODY_TOO_LARGE: { status: 413, message: 'request body too large' },
  HW_ERR_BAD_REQUEST: { status: 400, message: 'bad request' },
  HW_ERR_HTTP_VERSION: { status: 505, message: 'HTTP version not supported' },
  HW_ERR_CLIENT_ABORT: { status: 499, message: 'client closed the request' },
  HW_ERR_SHUTTING_DOWN: { status: 503, message: 'the gateway is shutting down' },
  HW_ERR_INTERNAL: { status: 500, message: 'internal gateway error' },
  HW_ERR_CONFIG: { status: 500, message: 'invalid configuration' },
} as const;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

/** An error with a stable code; the code decides the client status and what the log says. */
export class HeadwaterError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  constructor(code: ErrorCode, message?: string, options?: { cause?: unknown }) {
    super(message ?? ERROR_CATALOGUE[code].message, options);
    this.name = 'HeadwaterError';
    this.code = code;
    this.status = ERROR_CATALOGUE[code].status;
  }
}

/** The short plain-text body a client gets for an error code. */
export function errorBody(code: ErrorCode): string {
  return `${ERROR_CATALOGUE[code].status} ${ERROR_CATALOGUE[code].message} (${code})\n`;
}
