import { monotonicMs } from '../../util/clock.js';
import type { ServerHttp2Session } from 'node:http2';
import { http2Module } from '../../util/builtins.js';
import { channels } from '../../observability/events.js';

/**
 * Rapid reset protection (CVE-2023-44487): count the streams a client cancels (RST_STREAM before
 * the response is done) per second, per connection; past `maxPerSecond` the connection is closed
 * with GOAWAY ENHANCE_YOUR_CALM. Streams over max_concurrent_streams are refused by nghttp2 itself.
 */
export function guardResets(session: ServerHttp2Session, maxPerSecond: number, now: () => number = monotonicMs): void {
  let windowStart = now();
  let count = 0;
  session.on('stream', (stream) => {
    stream.once('aborted', () => {
      const t = now();
      if (t - windowStart >= 1000) {
        windowStart = t;
        count = 0;
      }
      if (++count <= maxPerSecond || session.destroyed) return;
      channels.lifecycle.publish({ level: 'warn', msg: 'HTTP/2 client reset too many streams; connection closed', client: session.socket?.remoteAddress, resets: count });
      // GOAWAY first (destroy() alone may cut the socket before the frame leaves), then close.
      session.goaway(http2Module().constants.NGHTTP2_ENHANCE_YOUR_CALM);
      setImmediate(() => session.destroy());
    });
  });
}
