/**
 * Renders docs/config-reference.md from the schema. `npm run docs` writes it; a test checks the
 * committed file matches, so the reference always describes exactly what the loader accepts.
 */
import { configSchema } from './schema.js';
import type { Schema } from './schema-dsl.js';

/** The example at the top of the reference (a test checks it loads). */
export const CONFIG_EXAMPLE = `listeners:
  - name: public
    address: 0.0.0.0:8080
routes:
  - name: api
    match: { path_prefix: /api/ }
    upstream: api
    strip_prefix: true
  - name: default
    upstream: web
upstreams:
  web:
    servers:
      - address: 127.0.0.1:9001
      - address: 127.0.0.1:9002
  api:
    balance: least_conn
    retry: { on: [error, timeout, http_502, http_503] }
    servers:
      - { address: 10.0.0.5:9101, weight: 2 }
      - { address: 10.0.0.6:9101 }
`;

interface Row {
  path: string;
  schema: Schema<unknown>;
}

/** Every documented key path under `schema`, depth first, in schema order. */
function rows(schema: Schema<unknown>, path: string, out: Row[]): Row[] {
  if (schema.kind === 'object' && schema.fields) {
    for (const [k, s] of Object.entries(schema.fields)) {
      const p = path === '' ? k : `${path}.${k}`;
      out.push({ path: p, schema: s });
      rows(s, p, out);
    }
  } else if (schema.kind === 'list' && schema.item) {
    rows(schema.item, `${path}[]`, out);
  } else if (schema.kind === 'map' && schema.item) {
    rows(schema.item, `${path}.<${schema.keyName ?? 'name'}>`, out);
  }
  return out;
}

function yamlish(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(yamlish).join(', ')}]`;
  if (typeof v === 'object' && v !== null) return '{}';
  return String(v);
}

function defaultOf(s: Schema<unknown>): string {
  if (s.defaultText !== undefined) return s.defaultText;
  if (s.default === undefined) return s.optional ? '(none)' : '**required**';
  if (s.kind === 'object') return '(fields below)';
  return `\`${yamlish(s.default)}\``;
}

function allowedOf(s: Schema<unknown>): string {
  const values = s.values ?? s.item?.values;
  return values ? values.map((v) => `\`${v}\``).join(', ') : '';
}

/** GitHub's heading anchor for a key path heading. */
const anchor = (path: string): string => path.toLowerCase().replace(/[^a-z0-9_\- ]/g, '').replace(/ /g, '-');

const cell = (s: string): string => s.replace(/\|/g, '\\|');

function detail(r: Row): string {
  const lines = [`### \`${r.path}\``, '', `- Type: ${r.schema.type}`, `- Default: ${defaultOf(r.schema)}`];
  const allowed = allowedOf(r.schema);
  if (allowed) lines.push(`- Allowed values: ${allowed}`);
  lines.push('', r.schema.doc, '');
  return lines.join('\n');
}

function table(list: Row[]): string {
  const head = ['| Key | Type | Default | Allowed values |', '| --- | --- | --- | --- |'];
  const row = (r: Row): string =>
    `| [\`${cell(r.path)}\`](#${anchor(r.path)}) | ${cell(r.schema.type)} | ${cell(defaultOf(r.schema))} | ${cell(allowedOf(r.schema))} |`;
  return [...head, ...list.map(row)].join('\n');
}

/** The full Markdown reference. */
export function renderConfigDocs(): string {
  const all = rows(configSchema, '', []);
  const top = Object.entries(configSchema.fields ?? {});
  const general = top.filter(([, s]) => !s.fields && !s.item).map(([k]) => k);
  const sections: Array<[string, Row[]]> = [
    ['General', all.filter((r) => general.includes(r.path))],
    ...top
      .filter(([k]) => !general.includes(k))
      .map(([k]): [string, Row[]] => [k, all.filter((r) => r.path === k || r.path.startsWith(`${k}.`) || r.path.startsWith(`${k}[`))]),
  ];
  const out = [
    '# Configuration reference',
    '',
    '<!-- Generated from src/config/schema.ts by `npm run docs`. Do not edit by hand. -->',
    '',
    'Headwater reads one YAML file (or JSON, when the name ends in `.json`). A small but complete example:',
    '',
    '```yaml',
    CONFIG_EXAMPLE.trimEnd(),
    '```',
    '',
    'Conventions:',
    '',
    '- Durations are written `500ms`, `10s`, `2m`, `1h`, `1d` or compound `1m30s` (largest unit first); `0` means zero.',
    '- Sizes are plain byte counts or `64KiB`, `1MiB`, `1GiB`, NGINX-style `64k`, `1m`, `1g` (all 1024-based), or `100KB`, `1MB`, `1GB` (1000-based).',
    '- Addresses are `host:port`; write IPv6 in brackets: `[::1]:8080`. The host may be an IPv4 address, an IPv6 address or a host name.',
    '- Unknown keys are errors, so a misspelt key is never silently ignored. `headwater check` lists every problem with its line and column.',
    '- In key paths below, `[]` stands for each item of a list and `<name>` for a name you choose.',
    '',
    '## Overview',
    '',
    table(all),
    '',
  ];
  for (const [title, list] of sections) {
    out.push(`## ${title === 'General' ? 'General' : `\`${title}\``}`, '');
    for (const r of list) out.push(detail(r));
  }
  return `${out.join('\n').trimEnd()}\n`;
}
