/** Where ACME http-01 challenge responses live (RFC 8555 §8.3). */
export const CHALLENGE_PREFIX = '/.well-known/acme-challenge/';

/**
 * The http-01 answers the gateway serves while an order is pending: token -> key authorization.
 * Every HTTP listener answers them before routing, as Caddy does, so a challenge reaches the
 * gateway on whichever plain-HTTP listener the CA connects to.
 */
export class Http01Challenges {
  readonly #answers = new Map<string, string>();

  get size(): number {
    return this.#answers.size;
  }

  set(token: string, keyAuthorization: string): void {
    this.#answers.set(token, keyAuthorization);
  }

  delete(token: string): void {
    this.#answers.delete(token);
  }

  /** The key authorization for a request target, or undefined when it is not a pending challenge. */
  answer(target: string): string | undefined {
    if (this.#answers.size === 0 || !target.startsWith(CHALLENGE_PREFIX)) return undefined;
    const token = target.slice(CHALLENGE_PREFIX.length);
    return this.#answers.get(token);
  }
}
