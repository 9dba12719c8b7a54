/**
 * A position-carrying tree of what the user wrote, built either from a YAML/JSON document or from
 * a plain JavaScript value. Validation runs on this tree, so both entry points share every rule.
 */
import type { Document, LineCounter, Node } from 'yaml';
import { yamlLib } from './yaml-lib.js';
import { showValue } from '../util/duration.js';

/** 1-based line and column. */
export interface Pos {
  line: number;
  col: number;
}

export interface RawEntry {
  key: string;
  keyPos: Pos | undefined;
  value: RawNode;
}

export type RawNode =
  | { kind: 'map'; pos: Pos | undefined; entries: RawEntry[] }
  | { kind: 'seq'; pos: Pos | undefined; items: RawNode[] }
  | { kind: 'scalar'; pos: Pos | undefined; value: unknown };

/** An issue before it is tied to a file. */
export interface RawIssue {
  pos: Pos | undefined;
  path: string;
  message: string;
}

/** Describes what was found, for "expected X, found Y" messages. */
export function describeFound(node: RawNode): string {
  if (node.kind === 'map') return 'a mapping';
  if (node.kind === 'seq') return 'a list';
  const v = node.value;
  if (v === undefined || typeof v === 'function' || typeof v === 'symbol' || typeof v === 'bigint') {
    return `a value of type ${typeof v}`;
  }
  if (typeof v === 'object' && v !== null) return `an object of type ${v.constructor?.name ?? 'unknown'}`;
  return showValue(v);
}

/** `a.b`, `a[0]`, `upstreams["my api"]`. */
export function childPath(parent: string, key: string | number): string {
  if (typeof key === 'number') return `${parent}[${key}]`;
  const k = /^[A-Za-z0-9_-]+$/.test(key) ? key : JSON.stringify(key);
  if (k !== key) return `${parent}[${k}]`;
  return parent === '' ? key : `${parent}.${key}`;
}

/** Looks up a key in a raw mapping. */
export function entry(node: RawNode | undefined, key: string): RawEntry | undefined {
  return node?.kind === 'map' ? node.entries.find((e) => e.key === key) : undefined;
}

/** Builds the raw tree from a plain value (library use); positions are absent. */
export function fromValue(v: unknown): RawNode {
  if (Array.isArray(v)) return { kind: 'seq', pos: undefined, items: v.map(fromValue) };
  if (typeof v === 'object' && v !== null && (Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null)) {
    const entries: RawEntry[] = [];
    for (const [key, value] of Object.entries(v)) {
      if (value !== undefined) entries.push({ key, keyPos: undefined, value: fromValue(value) });
    }
    return { kind: 'map', pos: undefined, entries };
  }
  return { kind: 'scalar', pos: undefined, value: v };
}

/** Builds the raw tree from a parsed YAML document; reports complex keys into `issues`. */
export function fromDocument(doc: Document, lc: LineCounter, issues: RawIssue[]): RawNode {
  const { isAlias, isMap, isPair, isScalar, isSeq } = yamlLib.get();
  const posOf = (n: Node | null | undefined): Pos | undefined => {
    const off = n?.range?.[0];
    return off === undefined ? undefined : lc.linePos(off);
  };
  const seen = new Set<Node>();
  const walk = (n: unknown, path: string, fallback: Pos | undefined): RawNode => {
    if (isAlias(n)) {
      const target = n.resolve(doc);
      if (!target || seen.has(target)) return { kind: 'scalar', pos: posOf(n), value: null };
      seen.add(target);
      const out = walk(target, path, posOf(n));
      seen.delete(target);
      return out;
    }
    if (isMap(n)) {
      const entries: RawEntry[] = [];
      const merges: Array<{ source: unknown; pos: Pos | undefined }> = [];
      for (const item of n.items) {
        if (!isPair(item)) continue;
        const k = item.key;
        const keyPos = isScalar(k) || isMap(k) || isSeq(k) ? posOf(k) : posOf(n);
        if (k !== null && !isScalar(k)) {
          issues.push({ pos: keyPos, path, message: 'expected a plain key, found a complex key (mapping or list)' });
          continue;
        }
        if (k !== null && typeof k.value === 'symbol') {
          merges.push({ source: item.value, pos: keyPos });
          continue;
        }
        const key = k === null || k.value === null ? '' : String(k.value);
        entries.push({ key, keyPos, value: walk(item.value, childPath(path, key), keyPos) });
      }
      // `<<: *anchor` (or a list of anchors): copy keys not set explicitly; the first merge wins.
      for (const m of merges) {
        const sources = isSeq(m.source) ? m.source.items : [m.source];
        for (const src of sources) {
          const merged = walk(src, path, m.pos);
          if (merged.kind !== 'map') {
            issues.push({ pos: m.pos, path: childPath(path, '<<'), message: `expected a mapping to merge, found ${describeFound(merged)}` });
            continue;
          }
          for (const e of merged.entries) if (!entries.some((x) => x.key === e.key)) entries.push(e);
        }
      }
      return { kind: 'map', pos: posOf(n) ?? fallback, entries };
    }
    if (isSeq(n)) {
      return { kind: 'seq', pos: posOf(n) ?? fallback, items: n.items.map((it, i) => walk(it, childPath(path, i), posOf(n))) };
    }
    if (isScalar(n)) {
      // An empty value (`key:` with nothing after it) has a zero-length range: point at the key.
      const empty = n.range && n.range[0] === n.range[1];
      return { kind: 'scalar', pos: empty ? fallback ?? posOf(n) : posOf(n) ?? fallback, value: n.value };
    }
    return { kind: 'scalar', pos: fallback, value: null };
  };
  return walk(doc.contents, '', { line: 1, col: 1 });
}
