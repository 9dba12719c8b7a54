import { validateConfig, formatIssue } from '../config/load.js';
import { runGateway, say } from './run.js';

export interface ProxyFlags {
  listen: string;
  to: string[];
  balance: string;
  accessLog: boolean;
}

/** The config object a one-line `headwater proxy` stands for (like `caddy reverse-proxy`). */
export function proxyConfig(flags: ProxyFlags): Record<string, unknown> {
  return {
    listeners: [{ name: 'proxy', address: flags.listen }],
    routes: [{ name: 'all', match: { path_prefix: '/' }, upstream: 'backend' }],
    upstreams: { backend: { balance: flags.balance, servers: flags.to.map((address) => ({ address })) } },
    access_log: { enabled: flags.accessLog, path: '-' },
  };
}

/** `headwater proxy --listen A --to B --to C [--balance NAME]`. */
export async function proxyCommand(flags: ProxyFlags): Promise<void> {
  if (flags.to.length === 0) {
    say('headwater proxy: give at least one --to HOST:PORT');
    process.exit(2);
  }
  const r = validateConfig(proxyConfig(flags), '<flags>');
  if (!r.ok) {
    for (const i of r.issues) say(formatIssue(i));
    process.exit(2);
  }
  try {
    await runGateway(r.config);
  } catch (err) {
    say(`headwater: ${(err as Error).message}`);
    process.exit(1);
  }
}
