/**
 * Shutdown's grace period: wait until something reports it has become idle (no requests, no
 * connections, no tunnels), or until the grace time is over, whichever comes first.
 */
export class IdleWait {
  #waiters: Array<() => void> = [];

  /** It is idle now: wake whoever waits. */
  idle(): void {
    for (const w of this.#waiters.splice(0)) w();
  }

  /** Resolves at the next `idle()`, or after `ms`. */
  async wait(ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    let done: (() => void) | undefined;
    await new Promise<void>((r) => {
      done = r;
      this.#waiters.push(r);
      timer = setTimeout(r, ms);
    });
    clearTimeout(timer);
    const i = this.#waiters.indexOf(done!);
    if (i >= 0) this.#waiters.splice(i, 1);
  }
}
