/**
 * Incremental chunked transfer-coding (RFC 9112 7.1) decoder and re-framing helpers. The proxy
 * moves chunk data straight from socket reads to the other side (onData gets slices of the same
 * buffer, no copies), while the framing is checked as strictly as llhttp checks it, with bounds on
 * every part of unbounded size (chunk-size digits, extensions, trailer section), so a body can
 * never be read with other boundaries than Node, or a downstream server, would read it.
 */
import {
  F_CONTENT_LENGTH, F_TRANSFER_ENCODING, FIELD_VALUE, MAX_LENGTH, SCAN_BAD, SCAN_INCOMPLETE, SCAN_TOO_MANY, TOKEN, fieldKind, scan, scanFields,
} from './fields.js';
import { latin1 } from './field-text.js';

/** Bounds for one chunked body; each has a default. */
export interface ChunkedLimits {
  /** Bytes of chunk extensions (after the size, before CRLF) on one chunk line. Default 4096. */
  maxExtensionLength?: number;
  /** Bytes of the trailer section, including its final CRLF. Default 16384. */
  maxTrailerSize?: number;
  /** Trailer field lines. Default 64. */
  maxTrailers?: number;
}

/** Called with each run of chunk data: a view of the pushed buffer, valid only during the call. */
export type ChunkDataSink = (buf: Buffer, start: number, end: number) => void;

export type ChunkedPushResult = { done: boolean; consumed: number } | { error: string };

const HEX = new Int8Array(256).fill(-1);
for (let c = 0; c < 10; c++) HEX[48 + c] = c;
for (let c = 0; c < 6; c++) HEX[65 + c] = HEX[97 + c] = 10 + c;
/** quoted-string text (RFC 9110 5.6.4 qdtext) and quoted-pair second bytes. */
const QDTEXT = FIELD_VALUE.slice();
QDTEXT[0x22] = QDTEXT[0x5c] = 0;

const S_SIZE = 0, S_SIZE_MORE = 1, S_EXT_START = 2, S_EXT_NAME = 3, S_EXT_VALUE = 4, S_EXT_TOKEN = 5, S_EXT_QUOTED = 6,
  S_EXT_QPAIR = 7, S_EXT_QDONE = 8, S_SIZE_LF = 9, S_DATA = 10, S_DATA_CR = 11, S_DATA_LF = 12, S_TRAILERS = 13,
  S_FINAL_LF = 14, S_DONE = 15, S_ERROR = 16;

/**
 * One chunked body. push() each run of bytes after the head; it reports data through onData and
 * returns how many bytes belonged to the body, so bytes after the final CRLF (a pipelined message)
 * stay with the caller. After `done`, {@link trailers} holds the trailer fields, if any.
 * Errors are sticky; reset() makes the decoder reusable for the next message.
 */
export class ChunkedDecoder {
  /** Trailer fields after the last chunk, flat [name, value, ...] like head headers. */
  trailers: string[] = [];
  private state = S_SIZE;
  private size = 0;
  private digits = 0;
  private extLen = 0;
  private trailerBuf: Buffer | undefined;
  private trailerLen = 0;
  private err = '';
  private readonly maxExt: number;
  private readonly maxTrailerSize: number;
  private readonly maxTrailers: number;

  constructor(limits: ChunkedLimits = {}) {
    this.maxExt = limits.maxExtensionLength ?? 4096;
    this.maxTrailerSize = limits.maxTrailerSize ?? 16384;
    this.maxTrailers = limits.maxTrailers ?? 64;
  }

  /** Ready for a new body (keeps the limits). */
  reset(): void {
    this.state = S_SIZE;
    this.size = this.digits = this.extLen = this.trailerLen = 0;
    this.trailers = [];
    this.err = '';
  }

  /** Whether the whole body, trailer section included, has been read. */
  get done(): boolean {
    return this.state === S_DONE;
  }

  private fail(reason: string): { error: string } {
    this.state = S_ERROR;
    this.err = reason;
    return { error: reason };
  }

  /** Decodes buf[start, end); see the class comment. */
  push(buf: Buffer, start: number, end: number, onData: ChunkDataSink): ChunkedPushResult {
    let p = start;
    let st = this.state;
    if (st === S_DONE) return { done: true, consumed: 0 };
    if (st === S_ERROR) return { error: this.err };
    while (p < end) {
      if (st === S_DATA) {
        const n = Math.min(this.size, end - p);
        this.size -= n;
        if (this.size === 0) st = S_DATA_CR;
        this.state = st;
        onData(buf, p, p + n);
        p += n;
        continue;
      }
      if (st === S_TRAILERS && !(this.trailerLen === 0 && buf[p] === 13)) {
        this.state = st;
        const used = this.pushTrailers(buf, p, end);
        if (used < 0) return { error: this.err };
        if (this.state !== S_DONE) return { done: false, consumed: end - start };
        return { done: true, consumed: p + used - start };
      }
      const c = buf[p++]!;
      switch (st) {
        case S_SIZE:
        case S_SIZE_MORE: {
          const d = HEX[c]!;
          if (d >= 0) {
            if (++this.digits > 16) return this.fail('chunk size has more than 16 hex digits');
            this.size = this.size * 16 + d;
            if (this.size > MAX_LENGTH) return this.fail('chunk size too large');
            st = S_SIZE_MORE;
          } else if (st === S_SIZE) return this.fail('invalid chunk size');
          else if (c === 59) st = S_EXT_START;
          else if (c === 13) st = S_SIZE_LF;
          else return this.fail(c === 10 ? 'bare LF after chunk size' : 'invalid character after chunk size');
          break;
        }
        case S_EXT_START:
        case S_EXT_NAME:
        case S_EXT_VALUE:
        case S_EXT_TOKEN:
        case S_EXT_QUOTED:
        case S_EXT_QPAIR:
        case S_EXT_QDONE:
          if (++this.extLen > this.maxExt) return this.fail('chunk extensions too long');
          if ((st = extension(st, c)) < 0) return this.fail('invalid chunk extension');
          break;
        case S_SIZE_LF:
          if (c !== 10) return this.fail('CR without LF after chunk size');
          st = this.size === 0 ? S_TRAILERS : S_DATA;
          this.digits = this.extLen = 0;
          break;
        case S_DATA_CR:
          if (c !== 13) return this.fail('chunk data not followed by CRLF');
          st = S_DATA_LF;
          break;
        case S_DATA_LF:
          if (c !== 10) return this.fail('chunk data not followed by CRLF');
          st = S_SIZE;
          break;
        case S_TRAILERS:
          st = S_FINAL_LF;
          break;
        case S_FINAL_LF:
          if (c !== 10) return this.fail('CR without LF at the end of the chunked body');
          this.state = S_DONE;
          return { done: true, consumed: p - start };
      }
    }
    this.state = st;
    return { done: false, consumed: end - start };
  }

  private failTrailers(reason: string): number {
    this.fail(reason);
    return -1;
  }

  /**
   * Trailer section bytes from buf[p, end): gathered (bounded) and checked like head fields.
   * Returns how many of them belong to the body (state S_DONE when the section ended), or -1.
   */
  private pushTrailers(buf: Buffer, p: number, end: number): number {
    const prev = this.trailerLen;
    const take = Math.min(end - p, this.maxTrailerSize - prev);
    if (this.trailerBuf === undefined || this.trailerBuf.length < this.maxTrailerSize) this.trailerBuf = Buffer.allocUnsafe(this.maxTrailerSize);
    const tb = this.trailerBuf;
    buf.copy(tb, prev, p, p + take);
    this.trailerLen = prev + take;
    const q = scanFields(tb, 0, this.trailerLen, this.maxTrailers);
    const offs = scan.offs;
    // Framing fields are refused as soon as their line is complete, as llhttp does, and before
    // a fault further on, so the error does not depend on how the bytes were split.
    for (let i = 0, k = 0; i < scan.count; i++, k += 5) {
      const kind = fieldKind(tb, offs[k]!, offs[k + 1]!);
      if (kind === F_CONTENT_LENGTH || kind === F_TRANSFER_ENCODING) return this.failTrailers('framing field in trailer section');
    }
    if (q === SCAN_BAD) return this.failTrailers(scan.reason);
    if (q === SCAN_TOO_MANY) return this.failTrailers('too many trailer fields');
    if (q === SCAN_INCOMPLETE) {
      if (take < end - p || this.trailerLen >= this.maxTrailerSize) return this.failTrailers('trailer section too large');
      return end - p;
    }
    const text = latin1(tb, 0, q);
    const out: string[] = [];
    for (let i = 0, k = 0; i < scan.count; i++, k += 5) {
      out.push(text.slice(offs[k]!, offs[k + 1]!), text.slice(offs[k + 2]!, offs[k + 3]!));
    }
    this.trailers = out;
    this.state = S_DONE;
    this.trailerLen = 0;
    return q - prev;
  }
}

/** One byte of a chunk extension (`;name[=token|quoted-string]`, no whitespace, as llhttp). */
function extension(st: number, c: number): number {
  switch (st) {
    case S_EXT_START: return TOKEN[c] === 1 ? S_EXT_NAME : -1;
    case S_EXT_NAME:
      if (TOKEN[c] === 1) return S_EXT_NAME;
      return c === 61 ? S_EXT_VALUE : c === 59 ? S_EXT_START : c === 13 ? S_SIZE_LF : -1;
    case S_EXT_VALUE: return c === 34 ? S_EXT_QUOTED : TOKEN[c] === 1 ? S_EXT_TOKEN : -1;
    case S_EXT_TOKEN:
      if (TOKEN[c] === 1) return S_EXT_TOKEN;
      return c === 59 ? S_EXT_START : c === 13 ? S_SIZE_LF : -1;
    case S_EXT_QUOTED: return c === 34 ? S_EXT_QDONE : c === 92 ? S_EXT_QPAIR : QDTEXT[c] === 1 ? S_EXT_QUOTED : -1;
    case S_EXT_QPAIR: return FIELD_VALUE[c] === 1 ? S_EXT_QUOTED : -1;
    default: return c === 59 ? S_EXT_START : c === 13 ? S_SIZE_LF : -1;
  }
}

/** CRLF, ending a chunk's data when re-framing. */
export const CRLF: Buffer = Buffer.from('\r\n', 'latin1');
/** Last chunk with an empty trailer section: the end of a re-framed chunked body. */
export const LAST_CHUNK: Buffer = Buffer.from('0\r\n\r\n', 'latin1');

/** The size line for a chunk of `n` (> 0) bytes when re-framing a body as chunked. */
export function chunkHeader(n: number): Buffer {
  return Buffer.from(n.toString(16) + '\r\n', 'latin1');
}
