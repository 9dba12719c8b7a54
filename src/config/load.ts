/**
 * Loading and validating configuration. Every problem is reported (not just the first), each with
 * the file position and key path it concerns, sorted by line:
 *
 *   headwater.yaml:12:9  upstreams.api.servers[0].max_fails  expected an integer >= 0, found "three"
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { tlsChecks } from './checks-tls.js';
import { crossChecks } from './checks.js';
import { normalize } from './normalize.js';
import { fromDocument, fromValue, type RawIssue, type RawNode } from './raw.js';
import { yamlLib } from './yaml-lib.js';
import { configSchema } from './schema.js';
import { INVALID, type ParseContext } from './schema-dsl.js';
import type { Config } from './types.js';

export interface ConfigIssue {
  file: string;
  /** 1-based; 0 when unknown (configs given as objects). */
  line: number;
  /** 1-based; 0 when unknown. */
  col: number;
  /** Key path, e.g. `upstreams.api.servers[0].max_fails`; empty for the file as a whole. */
  path: string;
  message: string;
}

export type LoadResult = { ok: true; config: Config } | { ok: false; issues: ConfigIssue[] };

/**
 * `FILE:LINE:COL  key.path  message`. The position is left out when unknown (line 0: configs
 * given as objects, unreadable files); an issue about the file as a whole has the path `-`.
 */
export function formatIssue(i: ConfigIssue): string {
  const where = i.line > 0 ? `${i.file}:${i.line}:${i.col}` : i.file;
  return `${where}  ${i.path === '' ? '-' : i.path}  ${i.message}`;
}

function toIssues(file: string, raw: RawIssue[]): ConfigIssue[] {
  return raw
    .map((r) => ({ file, line: r.pos?.line ?? 0, col: r.pos?.col ?? 0, path: r.path, message: r.message }))
    .sort((a, b) => a.line - b.line || a.col - b.col);
}

function validateRaw(root: RawNode, file: string, early: RawIssue[] = []): LoadResult {
  const cx: ParseContext = { issues: [...early] };
  const parsed = configSchema.parse(root, cx, '');
  cx.issues.push(...crossChecks(root));
  // Relative certificate paths start at the config file's directory (the working directory for objects).
  const baseDir = file.startsWith('<') ? process.cwd() : dirname(resolve(file));
  cx.issues.push(...tlsChecks(root, baseDir));
  if (parsed === INVALID || cx.issues.length > 0) return { ok: false, issues: toIssues(file, cx.issues) };
  return { ok: true, config: normalize(parsed, baseDir) };
}

/** Validates a configuration given as a plain object (same vocabulary and rules as the file). */
export function validateConfig(obj: unknown, file = '<config>'): LoadResult {
  return validateRaw(fromValue(obj), file);
}

/** Where JSON.parse stopped, from its message ("... at position 12"), if it says. */
function jsonErrorOffset(message: string, text: string): number {
  const m = /at position (\d+)/.exec(message);
  if (m) return Number(m[1]);
  return /end of JSON input/.test(message) ? text.length : 0;
}

/** Parses YAML text, or JSON when `file` ends in `.json`, and validates it. */
export function parseConfig(text: string, file: string): LoadResult {
  const { LineCounter, parseDocument } = yamlLib.get();
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true, merge: true });
  const at = (offset: number): RawIssue['pos'] => lc.linePos(offset);
  if (file.toLowerCase().endsWith('.json')) {
    try {
      JSON.parse(text);
    } catch (e) {
      const msg = (e as Error).message;
      const detail = msg.replace(/\s*(in JSON )?at position \d+.*$/s, '');
      return { ok: false, issues: toIssues(file, [{ pos: at(jsonErrorOffset(msg, text)), path: '', message: `invalid JSON: ${detail}` }]) };
    }
  }
  if (doc.errors.length > 0) {
    const issues = doc.errors.map((e) => ({ pos: at(e.pos[0]), path: '', message: `invalid YAML: ${e.message}` }));
    return { ok: false, issues: toIssues(file, issues) };
  }
  const early: RawIssue[] = [];
  const root = fromDocument(doc, lc, early);
  if (root.kind === 'scalar' && root.value === null) {
    return { ok: false, issues: toIssues(file, [{ pos: { line: 1, col: 1 }, path: '', message: 'expected a mapping with at least "listeners", found an empty document' }]) };
  }
  return validateRaw(root, file, early);
}

/** Reads and validates a configuration file; a missing or unreadable file is reported as an issue. */
export async function loadConfigFile(path: string): Promise<LoadResult> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'ENOENT' ? 'the file does not exist' : err.code === 'EISDIR' ? 'it is a directory' : err.message;
    return { ok: false, issues: [{ file: path, line: 0, col: 0, path: '', message: `cannot read the configuration file: ${why}` }] };
  }
  try {
    return parseConfig(text, path);
  } finally {
    // A file is read at start and on reload: the YAML parser is let go in between.
    yamlLib.release();
  }
}
