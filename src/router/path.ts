/**
 * Request-target handling done once, before routing, so that routing and the upstream see the
 * same path. Dot segments are resolved (NGINX does the same) so that `/api/../admin` cannot slip
 * past a `path_prefix: /api/` route and reach `/admin` on the upstream.
 */

export interface Target {
  /** Path without the query, dot segments resolved. */
  path: string;
  /** '' or '?...' */
  query: string;
  /** The authority of an absolute-form target (RFC 9112 3.2.2), which then replaces Host. */
  authority?: string;
}

const ABSOLUTE = /^https?:\/\/([^/?#]+)/i;

const DOT_SEGMENT = /(^|\/)(\.|%2e){1,2}(\/|$)/i;

/** Targets up to this length are scanned character by character (see parseTarget). */
const SCAN_MAX = 128;

/** Parse an origin-form request target. Returns undefined when it must be refused with 400. */
export function parseTarget(url: string): Target | undefined {
  if (url.length > 0 && url.charCodeAt(0) !== 47 /* / */) {
    // absolute-form: http://host[:port]/path?query — a server MUST accept it and use its host.
    const m = ABSOLUTE.exec(url);
    if (!m || m[1]!.includes('@')) return undefined;
    const rest = url.slice(m[0].length);
    const t = parseTarget(rest.length === 0 || rest.charCodeAt(0) === 63 /* ? */ ? '/' + rest : rest);
    return t && { ...t, authority: m[1]! };
  }
  if (url.length === 0) return undefined;
  // Where the query starts, and whether the path holds a '#', or a '.' or '%' (only those can start
  // a dot segment: most paths skip the regex). Short targets in one pass of the characters, where
  // four searches were four builtin calls per request; long ones by the searches.
  let q = -1;
  let hash = false;
  let dot = false;
  if (url.length <= SCAN_MAX) {
    for (let i = 0; i < url.length; i++) {
      const c = url.charCodeAt(i);
      if (c === 63 /* ? */) {
        q = i;
        break;
      }
      if (c === 35 /* # */) hash = true;
      else if (c === 46 /* . */ || c === 37 /* % */) dot = true;
    }
  } else {
    q = url.indexOf('?');
    const p = q === -1 ? url : url.slice(0, q);
    hash = p.includes('#');
    dot = p.includes('.') || p.includes('%');
  }
  if (hash) return undefined;
  let path = q === -1 ? url : url.slice(0, q);
  const query = q === -1 ? '' : url.slice(q);
  if (dot && DOT_SEGMENT.test(path)) {
    const resolved = resolveDotSegments(path);
    if (resolved === undefined) return undefined;
    path = resolved;
  }
  return { path, query };
}

/** RFC 3986 5.2.4, treating %2e as '.'; undefined when the path climbs above the root. */
export function resolveDotSegments(path: string): string | undefined {
  const parts = path.split('/');
  const out: string[] = [];
  for (let i = 1; i < parts.length; i++) {
    const seg = parts[i]!.toLowerCase().replaceAll('%2e', '.');
    if (seg === '.') {
      if (i === parts.length - 1) out.push('');
      continue;
    }
    if (seg === '..') {
      if (out.length === 0) return undefined;
      out.pop();
      if (i === parts.length - 1) out.push('');
      continue;
    }
    out.push(parts[i]!);
  }
  return '/' + out.join('/');
}

/** Remove a matched prefix, keeping an absolute path: /api/users - /api/ -> /users. */
export function stripPrefix(path: string, prefix: string): string {
  if (!path.startsWith(prefix)) return path;
  const rest = path.slice(prefix.length);
  if (rest.length === 0) return '/';
  return rest.charCodeAt(0) === 47 ? rest : '/' + rest;
}
