import type { ProxyRequest } from './exchange.js';
import { HeadwaterError } from '../errors.js';

/**
 * The request body as the attempt loop sees it. Small bodies are read whole into memory (up to
 * the upstream's retry buffer) so they can be replayed on another server; larger ones stream
 * from the client with backpressure and can be sent once only. The size limit
 * (client_max_body_size) is enforced while reading, whatever the framing.
 */
export interface RequestBody {
  /** A body for undici's dispatch: null, a Buffer, or a one-shot async iterable. */
  take(): Buffer | AsyncIterable<Buffer> | null;
  /** Can `take()` be called again (for a retry)? */
  readonly replayable: boolean;
}

/** The body of a request that has none. */
export const NO_BODY: RequestBody = { take: () => null, replayable: true };

/**
 * Read a request that has a body (the caller checks: scanFields().hasBody) up to `bufferLimit` bytes. Resolves with a replayable body when the whole body fits, else
 * with a streaming body that yields what was read and then the rest. Rejects with
 * HW_ERR_BODY_TOO_LARGE past `maxSize` (0 = unlimited) and HW_ERR_CLIENT_ABORT if the client goes.
 */
export async function readBody(req: ProxyRequest, bufferLimit: number, maxSize: number): Promise<RequestBody> {
  const it = req[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const chunks: Buffer[] = [];
  let size = 0;
  const tooBig = (n: number) => maxSize > 0 && n > maxSize;
  for (;;) {
    const r = await nextChunk(it);
    if (r.done) {
      const whole = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
      return { take: () => whole, replayable: true };
    }
    size += r.value.length;
    if (tooBig(size)) throw new HeadwaterError('HW_ERR_BODY_TOO_LARGE');
    chunks.push(r.value);
    if (size > bufferLimit) break;
  }
  return streamFrom(it, chunks, size, maxSize);
}

/**
 * A body that streams from the client at once, without waiting for a first byte: for exchanges
 * where the client waits on the server before sending more (gRPC client and bidi streaming).
 */
export function streamingBody(req: ProxyRequest, maxSize: number): RequestBody {
  return streamFrom(req[Symbol.asyncIterator]() as AsyncIterator<Buffer>, [], 0, maxSize);
}

/** The rest of a body as a one-shot stream: the chunks already read, then what `it` yields. */
function streamFrom(it: AsyncIterator<Buffer>, chunks: Buffer[], size: number, maxSize: number): RequestBody {
  const tooBig = (n: number) => maxSize > 0 && n > maxSize;
  // A streaming body may be handed to several attempts as long as none has started reading it
  // (a connect failure reads nothing), so retries stay possible until the first byte is sent.
  let pulled = false;
  async function* stream(): AsyncGenerator<Buffer> {
    pulled = true;
    for (const c of chunks.splice(0)) yield c;
    for (;;) {
      const r = await nextChunk(it);
      if (r.done) return;
      size += r.value.length;
      if (tooBig(size)) throw new HeadwaterError('HW_ERR_BODY_TOO_LARGE');
      yield r.value;
    }
  }
  return {
    take() {
      if (pulled) throw new HeadwaterError('HW_ERR_INTERNAL', 'request body already sent');
      return stream();
    },
    get replayable() {
      return !pulled;
    },
  };
}

async function nextChunk(it: AsyncIterator<Buffer>): Promise<IteratorResult<Buffer>> {
  try {
    return await it.next();
  } catch (err) {
    throw new HeadwaterError('HW_ERR_CLIENT_ABORT', undefined, { cause: err });
  }
}
