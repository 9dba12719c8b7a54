import net from 'node:net';
import { bind, boundPort } from '../server/bind.js';
import type { ListenerConfig } from '../config/types.js';
import type { Runtime } from '../proxy/handler.js';
import { ProxyGate } from '../server/proxy-gate.js';
import { proxyEnds } from '../server/proxy-protocol.js';
import { channels, type StreamRecord } from '../observability/events.js';
import { isoNow } from '../observability/access-line.js';
import { peerAddress } from '../util/ip.js';
import { Dialer } from './dial.js';
import { Splice, type SpliceStats } from './splice.js';

/**
 * A `protocol: tcp` listener: an L4 stream proxy (NGINX `stream`, HAProxy `mode tcp`). Each
 * connection gets a server of the listener's upstream (its balancer, passive health, connect
 * timeout and failover) and is then spliced byte for byte until both sides close or it is idle
 * for `idle_timeout`. Settings come from the current runtime at each connection, so a reload
 * changes new connections only; established ones keep going.
 */
export class TcpListener {
  config: ListenerConfig;
  readonly #server: net.Server;
  readonly #runtime: () => Runtime;
  #gate: ProxyGate | undefined;
  #closing = false;

  constructor(config: ListenerConfig, runtime: () => Runtime) {
    this.config = config;
    this.#runtime = runtime;
    this.#gate = ProxyGate.for(config);
    this.#server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true, noDelay: true }, (socket) => {
      if (this.#closing) return void socket.destroy();
      socket.on('error', noop);
      const gate = this.#gate;
      if (gate) gate.accept(socket, (s) => this.#serve(s));
      else this.#serve(socket);
    });
  }

  /** A reload kept this listener: new connections use the new settings. */
  reconfigure(config: ListenerConfig): void {
    this.config = config;
    this.#gate = ProxyGate.for(config);
  }

  listen(): Promise<number> {
    return bind(this.#server, this.config);
  }

  get port(): number {
    return boundPort(this.#server, this.config);
  }

  #serve(client: net.Socket): void {
    const rt = this.#runtime();
    const lc = this.config;
    const group = rt.groups.get(lc.upstream!);
    // Only between a reload's listener update and its runtime swap: the new upstream is not there yet.
    if (!group) return void client.destroy();
    const start = rt.now();
    const clientIp = peerAddress(client);
    const rec: StreamRecord = {
      time: '', event: 'stream', listener: lc.name, client: clientIp, upstream: group.name, outcome: '', bytes_in: 0, bytes_out: 0, duration_ms: 0, tries: [],
    };
    const log = (outcome: string, stats?: SpliceStats) => {
      if (splice) rt.splices.delete(splice);
      if (!channels.stream.hasSubscribers) return;
      rec.time = isoNow();
      rec.outcome = outcome;
      rec.bytes_in = stats?.bytesIn ?? 0;
      rec.bytes_out = stats?.bytesOut ?? 0;
      rec.duration_ms = Math.round((rt.now() - start) * 1000) / 1000;
      rec.tries = dialer.tries;
      channels.stream.publish(rec);
    };
    let splice: Splice | undefined;
    const dialer = new Dialer(
      {
        method: 'TCP', path: '', clientIp, header: () => undefined,
        ends: proxyEnds(client),
      },
      group, rt.retry.get(group.name)!, rt.now,
    );
    const onClientGone = () => {
      dialer.cancel();
      log('client_abort');
    };
    client.once('close', onClientGone);
    dialer.dial((r) => {
      client.off('close', onClientGone);
      if (!r.ok) {
        client.destroy();
        return log(r.code);
      }
      rec.server = r.host.address;
      splice = new Splice(client, r.socket, lc.idle_timeout, {}, (stats) => {
        dialer.release();
        log(stats.outcome, stats);
      });
      rt.splices.add(splice);
    });
  }

  /** Stop accepting. Established streams are left to the gateway's splice set (closed after the grace time at shutdown). */
  async close(): Promise<void> {
    this.#closing = true;
    this.#gate?.closePending();
    await new Promise<void>((r) => this.#server.close(() => r()));
  }
}

function noop(): void {}
