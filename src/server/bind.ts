import type { Server } from 'node:net';
import type { ListenerConfig } from '../config/types.js';

/** Bind a server to a listener's address; resolves with the bound port (useful with port 0). */
export function bind(server: Server, config: ListenerConfig): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(new Error(`listener ${config.name}: cannot listen on ${config.address}: ${err.message}`));
    server.once('error', onError);
    server.listen({ host: config.host, port: config.port }, () => {
      server.off('error', onError);
      resolve(boundPort(server, config));
    });
  });
}

/** The port a server is bound to, or the configured one before it is. */
export function boundPort(server: Server, config: ListenerConfig): number {
  const a = server.address();
  return typeof a === 'object' && a ? a.port : config.port;
}
