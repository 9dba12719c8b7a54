/**
 * Reason phrases of the status codes, as the lean engine writes them in status lines and error
 * bodies: the same table as node:http (so both engines answer alike; reasons.test.ts compares
 * them), kept here so that the lean engine does not load node:http (see util/builtins.ts). Also
 * the status line made of them, and the whole closing response the raw-socket refusals send.
 */
export const REASONS: Readonly<Record<number, string>> = {
  100: 'Continue', 101: 'Switching Protocols', 102: 'Processing', 103: 'Early Hints', 200: 'OK',
  201: 'Created', 202: 'Accepted', 203: 'Non-Authoritative Information', 204: 'No Content',
  205: 'Reset Content', 206: 'Partial Content', 207: 'Multi-Status', 208: 'Already Reported',
  226: 'IM Used', 300: 'Multiple Choices', 301: 'Moved Permanently', 302: 'Found', 303: 'See Other',
  304: 'Not Modified', 305: 'Use Proxy', 307: 'Temporary Redirect', 308: 'Permanent Redirect',
  400: 'Bad Request', 401: 'Unauthorized', 402: 'Payment Required', 403: 'Forbidden',
  404: 'Not Found', 405: 'Method Not Allowed', 406: 'Not Acceptable',
  407: 'Proxy Authentication Required', 408: 'Request Timeout', 409: 'Conflict', 410: 'Gone',
  411: 'Length Required', 412: 'Precondition Failed', 413: 'Payload Too Large', 414: 'URI Too Long',
  415: 'Unsupported Media Type', 416: 'Range Not Satisfiable', 417: 'Expectation Failed',
  418: "I'm a Teapot", 421: 'Misdirected Request', 422: 'Unprocessable Entity', 423: 'Locked',
  424: 'Failed Dependency', 425: 'Too Early', 426: 'Upgrade Required', 428: 'Precondition Required',
  429: 'Too Many Requests', 431: 'Request Header Fields Too Large',
  451: 'Unavailable For Legal Reasons', 500: 'Internal Server Error', 501: 'Not Implemented',
  502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout',
  505: 'HTTP Version Not Supported', 506: 'Variant Also Negotiates', 507: 'Insufficient Storage',
  508: 'Loop Detected', 509: 'Bandwidth Limit Exceeded', 510: 'Not Extended',
  511: 'Network Authentication Required',
};

const STATUS_LINES: string[] = [];
for (let s = 100; s < 600; s++) STATUS_LINES.push(`HTTP/1.1 ${s} ${REASONS[s] ?? 'unknown'}\r\n`);

/** `HTTP/1.1 <status> <reason>\r\n`, with node's reason phrases ('unknown' for a code without one). */
export function statusLine(status: number): string {
  return status >= 100 && status < 600 ? STATUS_LINES[status - 100]! : `HTTP/1.1 ${status} ${REASONS[status] ?? 'unknown'}\r\n`;
}

/** A whole plain-text response that closes the connection: the gateway's refusals on a raw socket. */
export function closingResponse(status: number, body: string): string {
  return `${statusLine(status)}content-type: text/plain; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`;
}
