import type { TestContext } from 'node:test';
import { startOrigin, type Origin } from './origin.js';
import { startGateway, simpleConfig, portOf } from './gateway.js';
import { closer, RawConn } from './raw.js';

/** The common raw-socket setup: one origin 'a', a gateway in front of it, a raw connection to it; all closed after the test. */
export async function rawGateway(t: TestContext): Promise<{ o: Origin; url: string; c: RawConn }> {
  const track = closer(t);
  const o = track(await startOrigin('a'));
  const { gw, url } = await startGateway(simpleConfig([o.address]));
  track(gw);
  const c = await RawConn.open(portOf(url));
  t.after(() => c.close());
  return { o, url, c };
}
