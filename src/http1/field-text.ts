/**
 * The text side of a scanned head: its field lines as strings, from the one latin1 decode the
 * head parsers make once `scanFields` (fields.ts) has checked the bytes. Nothing here
 * validates: every function assumes a head the scanner accepted.
 */
import { scan } from './fields.js';

/**
 * The field lines of the head just scanned, as received (CRLF-ended), less those whose kind (in
 * scan.kinds, recorded by the parser) is in the `drop` mask: runs of kept lines sliced from `text`,
 * the head decoded from buffer offset `base`; `end` is the buffer offset of the blank line.
 */
export function keptLines(text: string, base: number, end: number, drop: number): string {
  const offs = scan.offs;
  const kinds = scan.kinds;
  let out = '';
  let run = -1;
  for (let i = 0, n = scan.count; i < n; i++) {
    const line = offs[5 * i]! - base;
    if (((drop >>> kinds[i]!) & 1) === 0) {
      if (run < 0) run = line;
    } else if (run >= 0) {
      out += text.slice(run, line);
      run = -1;
    }
  }
  return run < 0 ? out : out + text.slice(run, end - base);
}

/**
 * Flat [name, value, ...] from a head's text, from offset `p` (the first field line) to its blank
 * line: for a head the scanner has already checked (no bare CR/LF, token names, OWS trimmed here).
 */
export function splitFields(text: string, p: number): string[] {
  const out: string[] = [];
  for (;;) {
    const eol = text.indexOf('\n', p) - 1; // lines end in CRLF (scanned): a single-char search is cheaper
    if (eol <= p) return out;
    const colon = text.indexOf(':', p);
    out.push(text.slice(p, colon), trimmed(text, colon + 1, eol));
    p = eol + 2;
  }
}

/**
 * For each of `names` (lower-case tokens), the value (OWS trimmed) of the field of that name
 * among the field lines of `text` from `p` (a head the scanner accepted), in one pass; null
 * when one of them occurs more than once (the caller joins repeats its own way).
 */
export function fieldValues(text: string, p: number, names: readonly string[]): Array<string | undefined> | null {
  const out: Array<string | undefined> = [];
  for (let k = 0; k < names.length; k++) out.push(undefined);
  for (;;) {
    const eol = text.indexOf('\n', p) - 1; // lines end in CRLF (scanned): a single-char search is cheaper
    if (eol <= p) return out;
    for (let k = 0; k < names.length; k++) {
      const name = names[k]!;
      const n = name.length;
      if (text.charCodeAt(p + n) !== 58 || !sameName(text, p, name)) continue;
      if (out[k] !== undefined) return null;
      out[k] = trimmed(text, p + n + 1, eol);
      break;
    }
    p = eol + 2;
  }
}

/** text[vs, ve) less leading and trailing OWS (SP, HTAB): a field value. */
function trimmed(text: string, vs: number, ve: number): string {
  while (vs < ve && (text.charCodeAt(vs) === 32 || text.charCodeAt(vs) === 9)) vs++;
  while (ve > vs && (text.charCodeAt(ve - 1) === 32 || text.charCodeAt(ve - 1) === 9)) ve--;
  return text.slice(vs, ve);
}

/** text[p, p + lower.length) is `lower` ignoring case (token characters: `| 0x20` folds only letters onto letters). */
function sameName(text: string, p: number, lower: string): boolean {
  for (let i = 0; i < lower.length; i++) if ((text.charCodeAt(p + i) | 0x20) !== lower.charCodeAt(i)) return false;
  return true;
}

interface Latin1Buffer extends Buffer {
  latin1Slice(start: number, end: number): string;
}

/**
 * Buffer's native latin1 decoder, called through this constant: looked up on each buffer it was a
 * generic property load (a LoadIC call, ~70 instructions) twice per head.
 */
const latin1Slice = (Buffer.prototype as Latin1Buffer).latin1Slice as Latin1Buffer['latin1Slice'] | undefined;

/** The latin1 text of buf[s, e): one native call (latin1Slice when present). */
export function latin1(buf: Buffer, s: number, e: number): string {
  return latin1Slice !== undefined ? latin1Slice.call(buf, s, e) : buf.toString('latin1', s, e);
}
