import type { Socket } from 'node:net';
import { IdleWait } from '../util/idle-wait.js';

/** How a spliced connection ended. */
export type SpliceOutcome = 'closed' | 'idle_timeout' | 'client_error' | 'upstream_error' | 'shutdown';

/** What a finished splice reports. */
export interface SpliceStats {
  /** Bytes from the client to the server. */
  bytesIn: number;
  /** Bytes from the server to the client. */
  bytesOut: number;
  outcome: SpliceOutcome;
}

/** Bytes already read from either side, to pass on before anything else. */
export interface SpliceHeads {
  /** From the client, for the server (read past the request head). */
  client?: Buffer | undefined;
  /** From the server, for the client (read past the response head). */
  upstream?: Buffer | undefined;
}

/**
 * Two sockets joined byte for byte (a TCP stream, or an upgraded HTTP connection): backpressure
 * both ways (a side that cannot keep up pauses the other), half-close passed on (a FIN from one
 * side ends the other's writing side while the other direction keeps flowing), an idle timeout
 * over both directions, and one report when both sockets are gone. It owns the two sockets and
 * nothing else, so a configuration reload never touches it.
 */
export class Splice {
  readonly client: Socket;
  readonly upstream: Socket;
  bytesIn = 0;
  bytesOut = 0;
  #outcome: SpliceOutcome | undefined;
  #open = 2;
  readonly #done: (s: SpliceStats) => void;

  constructor(client: Socket, upstream: Socket, idleMs: number, heads: SpliceHeads, done: (s: SpliceStats) => void) {
    this.client = client;
    this.upstream = upstream;
    this.#done = done;
    if (heads.client?.length) {
      this.bytesIn += heads.client.length;
      upstream.write(heads.client);
    }
    if (heads.upstream?.length) {
      this.bytesOut += heads.upstream.length;
      client.write(heads.upstream);
    }
    this.#join(client, upstream, true);
    this.#join(upstream, client, false);
    if (idleMs > 0) {
      // Socket timeouts count reads and writes, so either socket idle means both directions are.
      client.setTimeout(idleMs, () => this.close('idle_timeout'));
      upstream.setTimeout(idleMs, () => this.close('idle_timeout'));
    }
    client.resume();
    upstream.resume();
  }

  #join(from: Socket, to: Socket, fromClient: boolean): void {
    from.on('data', (chunk: Buffer) => {
      if (fromClient) this.bytesIn += chunk.length;
      else this.bytesOut += chunk.length;
      if (!to.write(chunk)) from.pause();
    });
    to.on('drain', () => from.resume());
    from.on('end', () => to.end());
    from.on('error', () => (this.#outcome ??= fromClient ? 'client_error' : 'upstream_error'));
    const closed = (hadError: boolean) => {
      // A reset (or an error) on one side cuts the other; a clean close means both FINs passed.
      if (hadError || this.#outcome !== undefined) to.destroy();
      if (--this.#open === 0) this.#done({ bytesIn: this.bytesIn, bytesOut: this.bytesOut, outcome: this.#outcome ?? 'closed' });
    };
    // A socket that closed before the splice began will not say so again.
    if (from.closed) {
      this.#outcome ??= fromClient ? 'client_error' : 'upstream_error';
      process.nextTick(closed, true);
    } else from.on('close', closed);
  }

  /** Cut both sides now. */
  close(outcome: SpliceOutcome): void {
    this.#outcome ??= outcome;
    this.client.destroy();
    this.upstream.destroy();
  }
}

/**
 * Every splice (tunnel or stream) of a gateway, so shutdown can let them finish within the grace
 * time and then cut them. Reloads do not look here: established tunnels survive them.
 */
export class SpliceSet {
  readonly #all = new Set<Splice>();
  readonly #idle = new IdleWait();
  #closed = false;

  /** A splice that begins after shutdown (its connect was under way) is cut at once. */
  add(s: Splice): void {
    if (this.#closed) return s.close('shutdown');
    this.#all.add(s);
  }

  delete(s: Splice): void {
    this.#all.delete(s);
    if (this.#all.size === 0) this.#idle.idle();
  }

  get size(): number {
    return this.#all.size;
  }

  /** Wait up to `graceMs` for the splices to end by themselves, then cut the rest. */
  async close(graceMs: number): Promise<void> {
    if (this.#all.size > 0 && graceMs > 0) await this.#idle.wait(graceMs);
    this.#closed = true;
    for (const s of [...this.#all]) s.close('shutdown');
  }
}
