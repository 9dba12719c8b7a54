/** Where ACME http-01 challenge responses live (RFC 8555 §8.3). */
export const CHALLENGE_PREFIX = '/.well-known/acme-challenge/';

import { readFileSync } from 'node:fs';
import path from 'node:path';

/** What a token looks like (RFC 8555 §8.3: base64url); anything else is never looked up on disk. */
const TOKEN = /^[A-Za-z0-9_-]{1,256}$/;

/**
 * The http-01 answers the gateway serves while an order is pending: token -> key authorization.
 * Every HTTP listener answers them before routing, as Caddy does, so a challenge reaches the
 * gateway on whichever plain-HTTP listener the CA connects to. Answers of orders placed by
 * another worker process are read from the ACME storage folders (`dirs`).
 */
export class Http01Challenges {
  readonly #answers = new Map<string, string>();
  /** Folders holding answers written by any process sharing the ACME storage. */
  readonly dirs = new Set<string>();

  /** Answers set in this process and not yet removed. */
  get pending(): number {
    return this.#answers.size;
  }

  /** Anything to look up: answers pending here, or ACME configured (answers may be on disk). */
  get active(): boolean {
    return this.#answers.size > 0 || this.dirs.size > 0;
  }

  set(token: string, keyAuthorization: string): void {
    this.#answers.set(token, keyAuthorization);
  }

  delete(token: string): void {
    this.#answers.delete(token);
  }

  /** The key authorization for a request target, or undefined when it is not a pending challenge. */
  answer(target: string): string | undefined {
    if (!this.active || !target.startsWith(CHALLENGE_PREFIX)) return undefined;
    const token = target.slice(CHALLENGE_PREFIX.length);
    const mine = this.#answers.get(token);
    if (mine !== undefined || !TOKEN.test(token)) return mine;
    for (const dir of this.dirs) {
      try {
        return readFileSync(path.join(dir, token), 'utf8');
      } catch {
        // not this folder's
      }
    }
    return undefined;
  }
}
