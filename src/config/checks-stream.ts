/**
 * Cross-field rules of `protocol: tcp` listeners: `upstream` is required for tcp and names an
 * upstream; `upstream` and `idle_timeout` belong to tcp listeners only.
 */
import { childPath, entry, type RawIssue, type RawNode } from './raw.js';
import { closest } from './suggest.js';

export function streamChecks(listeners: RawNode | undefined, upstreams: RawNode | undefined): RawIssue[] {
  const issues: RawIssue[] = [];
  if (listeners?.kind !== 'seq') return issues;
  const names = upstreams?.kind === 'map' ? upstreams.entries.map((e) => e.key) : [];
  listeners.items.forEach((l, i) => {
    if (l.kind !== 'map') return;
    const path = childPath('listeners', i);
    const p = entry(l, 'protocol')?.value;
    const protocol = p === undefined ? 'http' : p.kind === 'scalar' ? p.value : undefined;
    if (protocol !== 'http' && protocol !== 'tcp') return; // the schema reports it
    const up = entry(l, 'upstream');
    if (protocol === 'http') {
      for (const key of ['upstream', 'idle_timeout']) {
        const e = entry(l, key);
        if (e) issues.push({ pos: e.keyPos ?? l.pos, path: childPath(path, key), message: `expected no "${key}" unless protocol is tcp (HTTP listeners use routes)` });
      }
      return;
    }
    if (!up) {
      issues.push({ pos: l.pos, path: childPath(path, 'upstream'), message: 'missing required key "upstream" (required when protocol is tcp)' });
      return;
    }
    const name = up.value.kind === 'scalar' && typeof up.value.value === 'string' ? up.value.value : undefined;
    if (name === undefined || names.includes(name)) return;
    const near = closest(name, names);
    const known = names.length ? ` (one of: ${names.join(', ')})` : ' (no upstreams are defined)';
    issues.push({
      pos: up.value.pos ?? up.keyPos,
      path: childPath(path, 'upstream'),
      message: `expected the name of an upstream${known}, found ${JSON.stringify(name)}${near ? `; did you mean "${near}"?` : ''}`,
    });
  });
  return issues;
}
