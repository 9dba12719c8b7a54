/**
 * A tiny schema language. Each schema validates a raw node, converts it (durations to ms, sizes to
 * bytes, ...) and carries the doc text, default and allowed values that docs/config-reference.md is
 * generated from — so validation and documentation can never disagree.
 *
 * Defaults are written in the user's vocabulary ('10s', '1MiB', {}) and go through the same parser.
 */
import { childPath, describeFound, fromValue, type RawIssue, type RawNode } from './raw.js';
import { closest } from './suggest.js';
import { own } from '../util/own.js';

export const INVALID: unique symbol = Symbol('invalid');
export type Invalid = typeof INVALID;

export interface ParseContext {
  issues: RawIssue[];
}

export type Kind = 'string' | 'integer' | 'boolean' | 'enum' | 'duration' | 'size' | 'percent' | 'address' | 'list' | 'object' | 'map';

export interface Schema<T> {
  readonly kind: Kind;
  /** Short type for the docs, e.g. "integer >= 1". */
  readonly type: string;
  /** Phrase for messages: "expected <expected>, found ...". */
  readonly expected: string;
  /** Why and when to use this setting (the user's reference text). */
  readonly doc: string;
  /** Default in the user's vocabulary, applied when the key is absent. */
  readonly default?: unknown;
  /** Shown instead of `default` in the docs (computed or conditional defaults). */
  readonly defaultText?: string;
  readonly optional?: boolean;
  /** Allowed values (enums), for the docs. */
  readonly values?: readonly string[];
  /** Element schema of a list or map. */
  readonly item?: Schema<unknown>;
  /** What a map's keys are, for doc paths like `upstreams.<name>`. */
  readonly keyName?: string;
  /** Fields of an object. */
  readonly fields?: Readonly<Record<string, Schema<unknown>>>;
  parse(node: RawNode, cx: ParseContext, path: string): T | Invalid;
}

export type Infer<S> = S extends Schema<infer T> ? T : never;

export interface Opts<D = unknown> {
  doc: string;
  default?: D;
  defaultText?: string;
}

/** Records an issue at the node and returns INVALID. */
export function fail(cx: ParseContext, node: RawNode, path: string, message: string): Invalid {
  cx.issues.push({ pos: node.pos, path, message });
  return INVALID;
}

/** Returned by a scalar converter to reject a value with a full message. */
export class Problem {
  constructor(readonly message: string) {}
}

type Meta = Omit<Schema<unknown>, 'parse'>;

/** A scalar schema from a converter; the converter returns the value or a Problem. */
export function scalar<T>(meta: Meta, convert: (v: unknown) => T | Problem): Schema<T> {
  return {
    ...meta,
    parse(node, cx, path) {
      if (node.kind !== 'scalar') return fail(cx, node, path, `expected ${meta.expected}, found ${describeFound(node)}`);
      const out = convert(node.value);
      return out instanceof Problem ? fail(cx, node, path, out.message) : out;
    },
  };
}

function base(o: Opts, kind: Kind, type: string, expected: string): Meta {
  return { kind, type, expected, doc: o.doc, default: o.default, defaultText: o.defaultText };
}

export interface StringOpts extends Opts<string> {
  /** Type text for the docs and messages; default "string" / "a non-empty string". */
  type?: string;
  expected?: string;
  allowEmpty?: boolean;
  /** Accept numbers and booleans too (converted to their text), e.g. header values. */
  coerce?: boolean;
  /** Returns an error message (after "expected ..., found ...") or undefined when fine. */
  check?: (s: string) => string | undefined;
  normalize?: (s: string) => string;
}

export function string(o: StringOpts): Schema<string> {
  const expected = o.expected ?? (o.allowEmpty ? 'a string' : 'a non-empty string');
  return scalar(base(o, 'string', o.type ?? 'string', expected), (v) => {
    const s = o.coerce && (typeof v === 'number' || typeof v === 'boolean') ? String(v) : v;
    if (typeof s !== 'string' || (!o.allowEmpty && s === '')) {
      return new Problem(`expected ${expected}, found ${describeFound({ kind: 'scalar', pos: undefined, value: v })}`);
    }
    const err = o.check?.(s);
    if (err !== undefined) return new Problem(`expected ${expected}, found ${JSON.stringify(s)}${err ? ` (${err})` : ''}`);
    return o.normalize ? o.normalize(s) : s;
  });
}

export function int(o: Opts<number> & { min?: number; max?: number }): Schema<number> {
  const min = o.min ?? 0;
  const range = o.max === undefined ? `>= ${min}` : `${min}-${o.max}`;
  const expected = `an integer ${range}`;
  return scalar(base(o, 'integer', `integer ${range}`, expected), (v) => {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || (o.max !== undefined && v > o.max)) {
      return new Problem(`expected ${expected}, found ${describeFound({ kind: 'scalar', pos: undefined, value: v })}`);
    }
    return v;
  });
}

export function bool(o: Opts<boolean>): Schema<boolean> {
  return scalar(base(o, 'boolean', 'boolean', 'true or false'), (v) =>
    typeof v === 'boolean' ? v : new Problem(`expected true or false, found ${describeFound({ kind: 'scalar', pos: undefined, value: v })}`),
  );
}

export function oneOf<const V extends readonly string[]>(values: V, o: Opts<V[number]>): Schema<V[number]> {
  const expected = `one of ${values.join(', ')}`;
  const meta = { ...base(o, 'enum', 'enum', expected), values };
  return scalar(meta, (v) => {
    const hit = values.find((x) => x === v);
    if (hit !== undefined) return hit as V[number];
    const near = typeof v === 'string' ? closest(v, values) : undefined;
    const found = describeFound({ kind: 'scalar', pos: undefined, value: v });
    return new Problem(`expected ${expected}, found ${found}${near ? `; did you mean "${near}"?` : ''}`);
  });
}

/** Marks a field as optional without a default: absent keys are left out of the result. */
export function optional<T>(s: Schema<T>): Schema<T> & { readonly optional: true } {
  return { ...s, optional: true };
}

export function list<T>(item: Schema<T>, o: Opts<unknown[]> & { min?: number; type?: string }): Schema<T[]> {
  const min = o.min ?? 0;
  const what = o.type ?? `list of ${item.type}`;
  const expected = `a ${what}${min > 0 ? ` with at least ${min} item${min > 1 ? 's' : ''}` : ''}`;
  return {
    ...base(o, 'list', what, expected),
    item,
    parse(node, cx, path) {
      if (node.kind !== 'seq') return fail(cx, node, path, `expected ${expected}, found ${describeFound(node)}`);
      if (node.items.length < min) return fail(cx, node, path, `expected ${expected}, found an empty list`);
      const out: T[] = [];
      let ok = true;
      node.items.forEach((it, i) => {
        const v = item.parse(it, cx, childPath(path, i));
        if (v === INVALID) ok = false;
        else out.push(v);
      });
      return ok ? out : INVALID;
    },
  };
}

export interface MapOpts extends Opts<Record<string, unknown>> {
  type?: string;
  /** Names what a key is, for the docs path (`upstreams.<name>`). */
  keyName?: string;
  /** Returns an error message for a bad key, or undefined. */
  checkKey?: (k: string) => string | undefined;
  normalizeKey?: (k: string) => string;
}

/** A mapping from user-chosen names to values of one schema. */
export function record<T>(item: Schema<T>, o: MapOpts): Schema<Record<string, T>> {
  const what = o.type ?? `mapping of name to ${item.type}`;
  return {
    ...base(o, 'map', what, `a ${what}`),
    item,
    keyName: o.keyName ?? 'name',
    parse(node, cx, path) {
      if (node.kind !== 'map') return fail(cx, node, path, `expected a ${what}, found ${describeFound(node)}`);
      const out: Record<string, T> = {};
      let ok = true;
      for (const e of node.entries) {
        const p = childPath(path, e.key);
        const key = o.normalizeKey ? o.normalizeKey(e.key) : e.key;
        // A '__proto__' key would set the object's prototype instead of adding an entry: the name
        // vanished and what referred to it failed at run time (500 for every request).
        const err = e.key === '' ? 'expected a non-empty name' : key === '__proto__' ? 'the name "__proto__" cannot be used' : o.checkKey?.(e.key);
        if (err !== undefined) {
          cx.issues.push({ pos: e.keyPos, path: p, message: err });
          ok = false;
          continue;
        }
        const v = item.parse(e.value, cx, p);
        if (v === INVALID) ok = false;
        else out[key] = v;
      }
      return ok ? out : INVALID;
    },
  };
}

type Fields = Record<string, Schema<unknown>>;
type OptKeys<F> = { [K in keyof F]: F[K] extends { readonly optional: true } ? K : never }[keyof F];
type Simplify<T> = { [K in keyof T]: T[K] } & {};
export type ObjectOf<F extends Fields> = Simplify<
  { [K in Exclude<keyof F, OptKeys<F>>]: Infer<F[K]> } & { [K in OptKeys<F>]?: Infer<F[K]> }
>;

/** A mapping with a fixed set of keys; unknown keys are errors (with a "did you mean" hint). */
export function object<F extends Fields>(fields: F, o: Opts<Record<string, unknown>> & { type?: string }): Schema<ObjectOf<F>> {
  const what = o.type ?? 'mapping';
  const names = Object.keys(fields);
  return {
    ...base(o, 'object', what, `a ${what}`),
    fields,
    parse(node, cx, path) {
      if (node.kind !== 'map') return fail(cx, node, path, `expected a ${what}, found ${describeFound(node)}`);
      const out: Record<string, unknown> = {};
      let ok = true;
      for (const e of node.entries) {
        const s = own(fields, e.key);
        if (!s) {
          const near = closest(e.key, names);
          const hint = near ? `did you mean "${near}"?` : `expected one of: ${names.join(', ')}`;
          cx.issues.push({ pos: e.keyPos, path: childPath(path, e.key), message: `unknown key ${JSON.stringify(e.key)}, ${hint}` });
          ok = false;
          continue;
        }
        const v = s.parse(e.value, cx, childPath(path, e.key));
        if (v === INVALID) ok = false;
        else out[e.key] = v;
      }
      for (const [k, s] of Object.entries(fields)) {
        if (node.entries.some((e) => e.key === k)) continue;
        if (s.default !== undefined) {
          const v = s.parse(fromValue(s.default), cx, childPath(path, k));
          if (v === INVALID) ok = false;
          else out[k] = v;
        } else if (!s.optional) {
          cx.issues.push({ pos: node.pos, path: childPath(path, k), message: `missing required key "${k}" (expected ${s.expected})` });
          ok = false;
        }
      }
      return ok ? (out as ObjectOf<F>) : INVALID;
    },
  };
}
