/**
 * Rules that span several fields. They run on the raw tree, next to the schema pass, so a config
 * with a bad duration somewhere still gets its unknown-upstream errors reported in the same run.
 * Values the schema already rejects are skipped here (one issue per mistake).
 */
import { isIP } from 'node:net';
import { parseAddress } from './address.js';
import { isFullSrvName } from './normalize.js';
import { childPath, entry, type RawIssue, type RawNode } from './raw.js';
import { closest } from './suggest.js';
import { streamChecks } from './checks-stream.js';

const str = (n: RawNode | undefined): string | undefined =>
  n?.kind === 'scalar' && typeof n.value === 'string' && n.value !== '' ? n.value : undefined;

const items = (n: RawNode | undefined): RawNode[] => (n?.kind === 'seq' ? n.items : []);

/** Reports a second use of a name or address within a list. */
function unique(
  issues: RawIssue[],
  list: RawNode | undefined,
  section: string,
  key: string,
  valueOf: (item: RawNode, i: number) => string | undefined,
  what: string,
): void {
  const seen = new Map<string, number>();
  items(list).forEach((item, i) => {
    const v = valueOf(item, i);
    if (v === undefined) return;
    const first = seen.get(v);
    if (first === undefined) {
      seen.set(v, i);
      return;
    }
    const at = entry(item, key);
    issues.push({
      pos: at?.value.pos ?? item.pos,
      path: childPath(childPath(section, i), key),
      message: `expected a unique ${what}, found ${JSON.stringify(v)} again (already used by ${section}[${first}])`,
    });
  });
}

/** Checks `field` is present exactly when `other` has the value `when`. */
function requiredWhen(
  issues: RawIssue[],
  up: RawNode,
  path: string,
  field: string,
  other: string,
  otherDefault: string,
  when: string,
): void {
  const o = entry(up, other);
  const otherValue = o ? str(o.value) : otherDefault;
  if (otherValue === undefined) return; // wrong type: the schema reports it
  const f = entry(up, field);
  if (otherValue === when && !f) {
    issues.push({ pos: up.pos, path: childPath(path, field), message: `missing required key "${field}" (required when ${other} is ${when})` });
  } else if (otherValue !== when && f) {
    issues.push({
      pos: f.keyPos ?? up.pos,
      path: childPath(path, field),
      message: `expected no "${field}" unless ${other} is ${when}, found ${other} ${JSON.stringify(otherValue)}`,
    });
  }
}

/**
 * A server needs an address unless `service` is a full SRV name, and a port unless SRV records
 * give it; `resolve` needs a host name to resolve.
 */
function serverAddress(issues: RawIssue[], srv: RawNode, path: string): void {
  if (srv.kind !== 'map') return;
  const addr = entry(srv, 'address');
  const service = str(entry(srv, 'service')?.value);
  const text = str(addr?.value)?.trim();
  if (!addr) {
    if (service === undefined || !isFullSrvName(service)) {
      const why = service === undefined ? '' : ` (service ${JSON.stringify(service)} is not a full SRV name such as _http._tcp.api.internal)`;
      issues.push({ pos: srv.pos, path: childPath(path, 'address'), message: `missing required key "address"${why}` });
    }
    return;
  }
  if (text === undefined) return; // wrong type: the schema reports it
  const hp = parseAddress(text, 1);
  const bare = !text.includes(':');
  const where = { pos: addr.value.pos ?? addr.keyPos, path: childPath(path, 'address') };
  if (bare && service === undefined && typeof hp === 'string') {
    issues.push({ ...where, message: `expected an address host:port with port 1-65535 (e.g. 127.0.0.1:8080 or [::1]:8080), found ${JSON.stringify(text)} (${hp}; only a \`service\` server may leave it out)` });
    return;
  }
  const r = entry(srv, 'resolve')?.value;
  const host = typeof hp === 'string' ? text : hp.host;
  if (r?.kind === 'scalar' && r.value === true && isIP(host)) {
    issues.push({ ...where, message: `expected a host name to resolve, found the IP address ${JSON.stringify(host)} (drop \`resolve\` or name a host)` });
  }
}

export function crossChecks(root: RawNode): RawIssue[] {
  const issues: RawIssue[] = [];
  const listeners = entry(root, 'listeners')?.value;
  const routes = entry(root, 'routes')?.value;
  const upstreams = entry(root, 'upstreams')?.value;

  unique(issues, listeners, 'listeners', 'name', (l, i) => (entry(l, 'name') ? str(entry(l, 'name')?.value) : `listener-${i}`), 'listener name');
  unique(issues, listeners, 'listeners', 'address', (l) => {
    const a = str(entry(l, 'address')?.value);
    const hp = a === undefined ? undefined : parseAddress(a.trim(), 0);
    // Port 0 asks the OS for a free port each time, so it never clashes.
    if (hp === undefined || typeof hp === 'string' || hp.port === 0) return undefined;
    return `${hp.host.toLowerCase()}:${hp.port}`;
  }, 'listener address');
  unique(issues, routes, 'routes', 'name', (r, i) => (entry(r, 'name') ? str(entry(r, 'name')?.value) : `route-${i}`), 'route name');

  if (upstreams?.kind === 'map') {
    for (const e of upstreams.entries) {
      if (e.value.kind !== 'map') continue;
      const path = childPath('upstreams', e.key);
      requiredWhen(issues, e.value, path, 'hash', 'balance', 'round_robin', 'hash');
      requiredWhen(issues, e.value, path, 'host', 'pass_host', 'pass', 'rewrite');
      items(entry(e.value, 'servers')?.value).forEach((srv, i) => serverAddress(issues, srv, childPath(childPath(path, 'servers'), i)));
    }
  }

  const names = upstreams?.kind === 'map' ? upstreams.entries.map((e) => e.key) : undefined;
  items(routes).forEach((r, i) => {
    const up = entry(r, 'upstream');
    const name = str(up?.value);
    if (!up || name === undefined || names === undefined || names.includes(name)) return;
    const near = closest(name, names);
    const known = names.length ? ` (one of: ${names.join(', ')})` : '';
    const none = names.length ? '' : ' (no upstreams are defined)';
    issues.push({
      pos: up.value.pos ?? up.keyPos,
      path: childPath(childPath('routes', i), 'upstream'),
      message: `expected the name of an upstream${known}, found ${JSON.stringify(name)}${none}${near ? `; did you mean "${near}"?` : ''}`,
    });
  });
  issues.push(...streamChecks(listeners, upstreams));
  return issues;
}
