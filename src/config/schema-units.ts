/** Schema combinators for values with units or structure: durations, sizes, addresses. */
import { parseDuration, parseSize, UnitParseError } from '../util/duration.js';
import { hostProblem, parseAddress, type HostPort } from './address.js';
import { describeFound } from './raw.js';
import { Problem, scalar, type Opts, type Schema } from './schema-dsl.js';

function unit(parse: (v: string | number) => number, v: unknown): number | Problem {
  try {
    // The parsers check the runtime type themselves and say what they found.
    return parse(v as string | number);
  } catch (e) {
    if (e instanceof UnitParseError) return new Problem(e.message);
    throw e;
  }
}

/** A duration ('500ms', '10s', '1m30s', or 0), converted to milliseconds. */
export function duration(o: Opts<string | number>): Schema<number> {
  const meta = { kind: 'duration', type: 'duration', expected: 'a duration such as 500ms, 10s, 2m, 1h or 1m30s' } as const;
  return scalar({ ...meta, doc: o.doc, default: o.default, defaultText: o.defaultText }, (v) => unit(parseDuration, v));
}

/** A size ('64KiB', '1MiB', '64k', '100KB', or a number of bytes), converted to bytes. */
export function size(o: Opts<string | number>): Schema<number> {
  const meta = { kind: 'size', type: 'size', expected: 'a size such as 1024, 64KiB, 1MiB, 64k or 1MB' } as const;
  return scalar({ ...meta, doc: o.doc, default: o.default, defaultText: o.defaultText }, (v) => unit(parseSize, v));
}

/**
 * `host:port` or `[v6]:port`; `minPort` 0 for listeners, 1 for servers. With `portOptional` a bare
 * host is accepted too (port 0): servers found by DNS SRV take their ports from the records.
 */
export function address(o: Opts<string> & { minPort: number; portOptional?: boolean }): Schema<HostPort> {
  const expected = `an address host:port with port ${o.minPort}-65535 (e.g. 127.0.0.1:8080 or [::1]:8080)`;
  const meta = { kind: 'address', type: 'address (host:port)', expected } as const;
  return scalar({ ...meta, doc: o.doc, default: o.default, defaultText: o.defaultText }, (v) => {
    const found = describeFound({ kind: 'scalar', pos: undefined, value: v });
    if (typeof v !== 'string') return new Problem(`expected ${expected}, found ${found}`);
    const r = o.portOptional && !v.includes(':') && hostProblem(v.trim()) === undefined ? { address: v.trim(), host: v.trim(), port: 0 } : parseAddress(v.trim(), o.minPort);
    return typeof r === 'string' ? new Problem(`expected ${expected}, found ${found} (${r})`) : r;
  });
}

/** A percentage 0-100, written `10%` or `10` (decimals allowed), kept as the number of percent. */
export function percent(o: Opts<string | number>): Schema<number> {
  const expected = 'a percentage from 0% to 100% (e.g. 10% or 10)';
  const meta = { kind: 'percent', type: 'percentage', expected } as const;
  return scalar({ ...meta, doc: o.doc, default: o.default, defaultText: o.defaultText }, (v) => {
    const m = typeof v === 'string' ? /^\s*(\d+(?:\.\d+)?)\s*%?\s*$/.exec(v) : null;
    const n = typeof v === 'number' ? v : m ? Number(m[1]) : NaN;
    if (Number.isFinite(n) && n >= 0 && n <= 100) return n;
    return new Problem(`expected ${expected}, found ${describeFound({ kind: 'scalar', pos: undefined, value: v })}`);
  });
}
