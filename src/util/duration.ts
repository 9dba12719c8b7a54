import { own } from './own.js';

/**
 * Human-friendly durations and sizes, as written in the configuration file.
 *
 *   parseDuration('1m30s') === 90_000        // milliseconds
 *   parseSize('64KiB') === 65_536            // bytes
 *
 * Both throw a {@link UnitParseError} whose message reads "expected ..., found ..." so callers can
 * show it to the user unchanged.
 */

/** Thrown by parseDuration / parseSize; the message is meant for the user. */
export class UnitParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnitParseError';
  }
}

/** Duration units, largest first (compound durations must be written in this order). */
const DURATION_UNITS: ReadonlyArray<readonly [string, number]> = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1_000],
  ['ms', 1],
];

const DURATION_EXPECTED = 'expected a duration such as 500ms, 10s, 2m, 1h or 1m30s (units ms, s, m, h, d)';
const SIZE_EXPECTED =
  'expected a size such as 512, 64KiB, 1MiB, 1GiB, 64k, 1m, 1g (1024-based) or 100KB, 1MB (1000-based)';

/** How a bad value is quoted in messages: strings in double quotes, anything else as is. */
export function showValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? `${v.slice(0, 57)}...` : v);
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return String(v);
}

/**
 * Parses a duration into milliseconds: `500ms`, `10s`, `2m`, `1h`, `1d`, compound `1h30m` /
 * `1m30s500ms` (largest unit first, each at most once), decimals (`1.5s`). The number 0 (or "0")
 * means zero; any other bare number is rejected because its unit would be a guess.
 */
export function parseDuration(input: string | number): number {
  if (typeof input === 'number') {
    if (input === 0) return 0;
    throw new UnitParseError(`${DURATION_EXPECTED}, found ${showValue(input)} (a number needs a unit, e.g. "${input}s")`);
  }
  if (typeof input !== 'string') throw new UnitParseError(`${DURATION_EXPECTED}, found ${showValue(input)}`);
  const s = input.trim();
  if (s === '0') return 0;
  if (/^\d+(\.\d+)?$/.test(s)) {
    throw new UnitParseError(`${DURATION_EXPECTED}, found ${showValue(input)} (a number needs a unit, e.g. "${s}s")`);
  }
  const part = /(\d+(?:\.\d+)?)(ms|d|h|m|s)/y;
  let pos = 0;
  let total = 0;
  let lastUnit = -1;
  while (pos < s.length) {
    part.lastIndex = pos;
    const m = part.exec(s);
    if (!m) throw new UnitParseError(`${DURATION_EXPECTED}, found ${showValue(input)}`);
    const unit = DURATION_UNITS.findIndex(([u]) => u === m[2]);
    if (unit <= lastUnit) {
      throw new UnitParseError(
        `${DURATION_EXPECTED}, found ${showValue(input)} (write compound units largest first, each once)`,
      );
    }
    lastUnit = unit;
    total += Number(m[1]) * DURATION_UNITS[unit]![1];
    pos = part.lastIndex;
  }
  if (s.length === 0) throw new UnitParseError(`${DURATION_EXPECTED}, found ${showValue(input)}`);
  const ms = Math.round(total);
  if (!Number.isSafeInteger(ms)) throw new UnitParseError(`${DURATION_EXPECTED}, found ${showValue(input)} (too large)`);
  return ms;
}

const SIZE_UNITS: Readonly<Record<string, number>> = {
  '': 1,
  b: 1,
  k: 1024,
  m: 1024 ** 2,
  g: 1024 ** 3,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  kb: 1000,
  mb: 1000 ** 2,
  gb: 1000 ** 3,
};

/**
 * Parses a size into bytes: a plain non-negative integer (bytes), `64KiB` / `1MiB` / `1GiB`,
 * NGINX-style `64k` / `1m` / `1g` (1024-based), or `100KB` / `1MB` / `1GB` (1000-based).
 * Units are case-insensitive; decimals are allowed with a unit (`1.5MiB`) and rounded to a byte.
 */
export function parseSize(input: string | number): number {
  if (typeof input === 'number') {
    if (Number.isSafeInteger(input) && input >= 0) return input;
    throw new UnitParseError(`${SIZE_EXPECTED}, found ${showValue(input)}`);
  }
  if (typeof input !== 'string') throw new UnitParseError(`${SIZE_EXPECTED}, found ${showValue(input)}`);
  const m = /^(\d+(?:\.\d+)?)\s*([a-zA-Z]*)$/.exec(input.trim());
  const factor = m ? own(SIZE_UNITS, m[2]!.toLowerCase()) : undefined;
  if (!m || factor === undefined || (m[2] === '' && m[1]!.includes('.'))) {
    throw new UnitParseError(`${SIZE_EXPECTED}, found ${showValue(input)}`);
  }
  const bytes = Math.round(Number(m[1]) * factor);
  if (!Number.isSafeInteger(bytes)) throw new UnitParseError(`${SIZE_EXPECTED}, found ${showValue(input)} (too large)`);
  return bytes;
}

/** Formats milliseconds the way a user would write them (90000 -> "1m30s"); for messages and docs. */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0';
  let rest = ms;
  let out = '';
  for (const [unit, size] of DURATION_UNITS) {
    const n = Math.floor(rest / size);
    if (n > 0) {
      out += `${n}${unit}`;
      rest -= n * size;
    }
  }
  return out;
}
