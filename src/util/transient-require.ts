import { createRequire } from 'node:module';
import { dirname, sep } from 'node:path';

/**
 * A CommonJS package that a serving process needs only now and then (the YAML parser at start and
 * on reload, the argument parser at start), loaded when asked for and let go after, rather than
 * kept in the heap for the process's lifetime (its code and sources: ~1.2 MiB for yaml). It is
 * loaded with require, not import, because taking it out of require's cache frees it, where an ES
 * import would pin it in the module map.
 */
export class TransientPackage<T> {
  readonly #name: string;
  #lib: T | undefined;

  constructor(name: string) {
    this.#name = name;
  }

  /** The package, loaded on first use after start or after {@link release}. */
  get(): T {
    // A require function of its own each time: the module it loads is listed among the children of
    // the require's parent, which would keep the package alive as long as that require lived.
    return (this.#lib ??= createRequire(import.meta.url)(this.#name) as T);
  }

  /** Lets the package go (until the next get): every module of its folder leaves require's cache. */
  release(): void {
    if (this.#lib === undefined) return;
    this.#lib = undefined;
    const req = createRequire(import.meta.url);
    const root = dirname(req.resolve(this.#name)) + sep;
    for (const key of Object.keys(req.cache)) if (key.startsWith(root)) delete req.cache[key];
  }
}
