/**
 * Drops an IPv4-mapped IPv6 prefix (`::ffff:10.0.0.7` -> `10.0.0.7`) so a client keeps one
 * address in logs, X-Forwarded-For and hashing whether it came in over IPv4 or a dual-stack socket.
 */
export function normalizeClientIp(ip: string): string {
  return ip.length > 7 && (ip.startsWith('::ffff:') || ip.startsWith('::FFFF:')) && ip.includes('.', 7) ? ip.slice(7) : ip;
}

/** A socket's peer as the gateway names its client (after a PROXY header: the address it gave). */
export function peerAddress(socket: { readonly remoteAddress?: string | undefined }): string {
  return normalizeClientIp(socket.remoteAddress ?? '');
}
