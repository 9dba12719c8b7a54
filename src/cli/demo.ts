import { request } from 'undici';
import { startDemoOrigin } from '../demo/origins.js';
import { Gateway, toConfig } from '../gateway.js';
import { tuneServingProcess } from './gc-tuning.js';
import { channels, type AccessRecord } from '../observability/events.js';
import { say } from './run.js';

/** The demo gateway's config: three origins, one flaky, retries and passive health on. */
export function demoConfig(listen: string, ports: number[]): Record<string, unknown> {
  return {
    listeners: [{ name: 'demo', address: listen }],
    routes: [{ name: 'all', match: { path_prefix: '/' }, upstream: 'origins' }],
    upstreams: {
      origins: {
        balance: 'round_robin',
        retry: { tries: 3, on: ['error', 'timeout', 'http_502', 'http_503'] },
        timeouts: { connect: '1s', response_header: '5s', idle: '10s' },
        servers: ports.map((p, i) => ({ address: `127.0.0.1:${p}`, weight: i === 0 ? 2 : 1, max_fails: 2, fail_timeout: '5s' })),
      },
    },
    access_log: { enabled: false },
  };
}

/**
 * `headwater demo`: three origins on loopback (gamma is flaky), the gateway in front, a dozen
 * requests of its own so a newcomer sees balancing and failover at once, then runs until Ctrl-C.
 */
export async function demoCommand(opts: { listen: string; requests: number }): Promise<void> {
  const origins = [
    await startDemoOrigin('alpha'),
    await startDemoOrigin('beta'),
    await startDemoOrigin('gamma', { failEvery: 2 }),
  ];
  let gw: Gateway;
  try {
    gw = new Gateway(toConfig(demoConfig(opts.listen, origins.map((o) => o.port))));
    await gw.start();
  } catch {
    gw = new Gateway(toConfig(demoConfig('127.0.0.1:0', origins.map((o) => o.port))));
    await gw.start();
    say(`(${opts.listen} is busy, so the gateway took a free port)`);
  }
  tuneServingProcess();
  const url = gw.addresses()[0]!.url;
  const names = new Map(origins.map((o) => [`127.0.0.1:${o.port}`, o.name]));
  say('Headwater demo');
  for (const o of origins) say(`  origin ${o.name.padEnd(6)} http://127.0.0.1:${o.port}${o.name === 'gamma' ? '   (flaky: fails most requests with a 503 or a reset)' : ''}`);
  say(`  gateway       ${url}   round_robin, weights 2:1:1, retries on error/503, passive health`);
  say('');
  say(`Sending ${opts.requests} requests through the gateway:`);

  const onRequest = (m: unknown) => {
    const r = m as AccessRecord;
    const path = r.tries.map((t) => `${names.get(t.server) ?? t.server}${t.outcome === 'ok' ? '' : ` (${t.outcome})`}`).join(' -> ');
    say(`  ${r.method} ${r.path.padEnd(4)} ${r.status}  ${path}${r.tries.length > 1 ? '   <- failed over' : ''}`);
  };
  channels.request.subscribe(onRequest);
  channels.host.subscribe((m) => {
    const e = m as { server: string; state: string; reason: string };
    say(`  [health] ${names.get(e.server) ?? e.server} is ${e.state}: ${e.reason}`);
  });
  for (let i = 1; i <= opts.requests; i++) {
    const res = await request(`${url}/${i}`).catch(() => undefined);
    await res?.body.text();
  }
  channels.request.unsubscribe(onRequest);
  say('');
  say('Every request got an answer although gamma keeps failing. Try it yourself:');
  say(`  curl -i ${url}/hello`);
  say(`  for i in $(seq 12); do curl -s ${url}/$i; done`);
  say('Press Ctrl-C to stop.');

  const stop = async () => {
    await gw.close(1000);
    await Promise.all(origins.map((o) => o.close()));
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}
