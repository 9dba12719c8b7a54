/**
 * `table[key]` when the object itself has it, else undefined. For keys that come from a config or
 * a client (a log variable, a header name): a plain object also answers with Object.prototype's
 * members, so `headers['constructor']` is a function where no such header was sent.
 */
export function own<T>(table: Readonly<Partial<Record<string, T>>>, key: string): T | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}
