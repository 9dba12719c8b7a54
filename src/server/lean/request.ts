import type { IncomingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import type { ProxyRequest } from '../../proxy/exchange.js';
import type { RequestFields } from '../../proxy/route.js';
import type { RequestHead } from '../../http1/request-head.js';

/**
 * Fields whose repeats node:http drops (the first value wins); see matchKnownFields in Node's
 * lib/_http_incoming.js. Set-Cookie becomes an array, Cookie is joined with '; ', anything else
 * with ', '.
 */
const FIRST_WINS = new Set([
  'content-type', 'content-length', 'user-agent', 'referer', 'host', 'authorization', 'proxy-authorization',
  'if-modified-since', 'if-unmodified-since', 'from', 'location', 'max-forwards', 'retry-after', 'etag',
  'last-modified', 'server', 'age', 'expires',
]);

/** The `headers` object node:http builds from a flat raw-header array (joinDuplicateHeaders: false). */
export function nodeHeaders(raw: readonly string[]): IncomingHttpHeaders {
  // A plain object like node's, with the same assignment rules (so even odd names behave alike).
  const dest: Record<string, unknown> = {};
  for (let i = 0; i < raw.length; i += 2) {
    const field = raw[i]!.toLowerCase();
    const value = raw[i + 1]!;
    if (field === 'set-cookie') {
      const prev = dest['set-cookie'];
      if (prev !== undefined) (prev as string[]).push(value);
      else dest['set-cookie'] = [value];
    } else if (FIRST_WINS.has(field)) {
      if (dest[field] === undefined) dest[field] = value;
    } else {
      const prev = dest[field];
      dest[field] = typeof prev === 'string' ? prev + (field === 'cookie' ? '; ' : ', ') + value : value;
    }
  }
  return dest as IncomingHttpHeaders;
}

/** What a request needs from its connection: flow control for the body. */
export interface BodyOwner {
  /** The body queue shrank or is being discarded: the connection may read again. */
  bodyPulled(): void;
}

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

/**
 * One request on a lean connection. The connection pushes body bytes as they arrive (slices of
 * what the socket read, no copies); the handler pulls them by async iteration. It is its own
 * iterator: one body, one reader.
 */
export class LeanRequest implements ProxyRequest, AsyncIterator<Buffer, undefined> {
  readonly method: string;
  readonly url: string;
  readonly httpVersionMajor = 1;
  readonly httpVersionMinor: number;
  readonly socket: Socket;
  /** The parsed head (framing, keep-alive, expectations). */
  readonly head: RequestHead;
  /** Someone iterates the body (so an unfinished body is being read, not ignored). */
  reading = false;
  /** resume() was called: body bytes are dropped as they arrive. */
  discarding = false;
  /** Bytes queued and not yet pulled. */
  queued = 0;
  #headers: IncomingHttpHeaders | undefined;
  readonly #owner: BodyOwner;
  #queue: Buffer[] | undefined;
  #ended = false;
  #error: Error | undefined;
  #resolve: ((r: IteratorResult<Buffer, undefined>) => void) | undefined;
  #reject: ((err: Error) => void) | undefined;

  /** The client's address, kept by the connection (read once per connection, not per request). */
  readonly clientIp: string;

  constructor(owner: BodyOwner, socket: Socket, head: RequestHead, clientIp: string) {
    this.clientIp = clientIp;
    this.#owner = owner;
    this.socket = socket;
    this.head = head;
    this.method = head.method;
    this.url = head.target;
    this.httpVersionMinor = head.versionMinor;
  }

  /** Flat [name, value, ...] as received (decoded on first use). */
  get rawHeaders(): string[] {
    return this.head.headers;
  }

  /** What the handler looks at, from the parser (which refused more than one Host, or an invalid one). */
  get fields(): RequestFields {
    const h = this.head;
    const cl = h.contentLength;
    return { host: h.host, hosts: h.host === undefined ? 0 : 1, hostsValid: true, contentLength: cl < 0 ? undefined : String(cl), hasBody: h.chunked || cl > 0 };
  }

  /** Lines to pass on as received, when the request has no body. */
  get relay(): RequestHead {
    return this.head;
  }

  get headers(): IncomingHttpHeaders {
    return (this.#headers ??= nodeHeaders(this.rawHeaders));
  }

  /** The value of each of `names`, from the head without building `headers`; null when one repeats. */
  logFields(names: readonly string[]): Array<string | undefined> | null {
    return this.head.fieldValues(names);
  }

  /** The whole body has been received (or there is none). */
  get complete(): boolean {
    return this.#ended;
  }

  [Symbol.asyncIterator](): AsyncIterator<Buffer, undefined> {
    this.reading = true;
    return this;
  }

  next(): Promise<IteratorResult<Buffer, undefined>> {
    const q = this.#queue;
    if (q !== undefined && q.length > 0) {
      const value = q.length === 1 ? q.pop()! : q.shift()!;
      this.queued -= value.length;
      if (this.queued === 0) this.#owner.bodyPulled();
      return Promise.resolve({ done: false, value });
    }
    if (this.#error !== undefined) return Promise.reject(this.#error);
    if (this.#ended) return Promise.resolve(DONE);
    return new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }

  /** Stop iterating (for await ... break): the rest is discarded. */
  return(): Promise<IteratorResult<Buffer, undefined>> {
    this.resume();
    return Promise.resolve(DONE);
  }

  /** Discard whatever body remains. */
  resume(): this {
    if (!this.discarding) {
      this.discarding = true;
      this.#queue = undefined;
      this.queued = 0;
      this.#owner.bodyPulled();
    }
    return this;
  }

  /** Connection side: a run of body bytes. */
  push(chunk: Buffer): void {
    const resolve = this.#resolve;
    if (resolve !== undefined) {
      this.#resolve = this.#reject = undefined;
      resolve({ done: false, value: chunk });
    } else if (!this.discarding) {
      (this.#queue ??= []).push(chunk);
      this.queued += chunk.length;
    }
  }

  /** Connection side: the body is complete. */
  end(): void {
    this.#ended = true;
    const resolve = this.#resolve;
    if (resolve !== undefined) {
      this.#resolve = this.#reject = undefined;
      resolve(DONE);
    }
  }

  /** Connection side: the body cannot be completed (client gone, malformed framing). */
  fail(err: Error): void {
    if (this.#ended || this.#error !== undefined) return;
    this.#error = err;
    const reject = this.#reject;
    if (reject !== undefined) {
      this.#resolve = this.#reject = undefined;
      reject(err);
    }
  }
}
