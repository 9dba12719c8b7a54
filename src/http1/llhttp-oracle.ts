/**
 * Test support: runs Node's own llhttp binding (the parser behind node:http in Node 20) over a
 * buffer, initialised the way lib/_http_server.js and lib/_http_client.js do it (non-lenient,
 * kOnHeaders / kOnHeadersComplete / kOnBody / kOnMessageComplete callbacks), so the fuzz tests
 * can compare our parsers' verdicts with the one they replace. Uses the deprecated
 * process.binding('http_parser'); the deprecation warning is silenced.
 */

interface NativeParser {
  initialize(type: number, resource: object, maxHeaderSize: number, lenient: number): void;
  execute(data: Buffer): number | Error;
  finish(): number | Error | undefined;
  close(): void;
  [slot: number]: unknown;
}

interface NativeParserClass {
  new (): NativeParser;
  REQUEST: number;
  RESPONSE: number;
  kOnHeaders: number;
  kOnHeadersComplete: number;
  kOnBody: number;
  kOnMessageComplete: number;
  kOnExecute: number;
  kLenientNone: number;
}

interface Binding {
  HTTPParser: NativeParserClass;
  allMethods: string[];
}

function binding(): Binding {
  process.noDeprecation = true;
  return (process as unknown as { binding(name: string): Binding }).binding('http_parser');
}

const { HTTPParser, allMethods } = binding();

/** One message as llhttp reported it. */
export interface OracleMessage {
  versionMajor: number;
  versionMinor: number;
  method: string | undefined;
  url: string;
  status: number;
  reason: string;
  headers: string[];
  upgrade: boolean;
  keepAlive: boolean;
  body: string;
  complete: boolean;
}

/** What llhttp made of the whole input. */
export interface OracleResult {
  /** llhttp error code (e.g. HPE_INVALID_HEADER_TOKEN) and reason, if it refused the input. */
  error: { code: string; reason: string } | undefined;
  messages: OracleMessage[];
}

/**
 * Feeds `input` to a fresh llhttp parser. For responses, `skipBody` plays the client's part:
 * return 1 to skip the body (HEAD, 1xx, 304), 2 for an upgrade. `finish` signals EOF after it.
 */
export function runLlhttp(
  kind: 'request' | 'response',
  input: Buffer,
  opts: { skipBody?: (m: OracleMessage) => 0 | 1 | 2; finish?: boolean; maxHeaderSize?: number } = {},
): OracleResult {
  const parser = new HTTPParser();
  parser.initialize(kind === 'request' ? HTTPParser.REQUEST : HTTPParser.RESPONSE, {}, opts.maxHeaderSize ?? 1 << 20, HTTPParser.kLenientNone);
  const messages: OracleMessage[] = [];
  let pendingHeaders: string[] = [];
  let pendingUrl = '';
  let current: OracleMessage | undefined;
  parser[HTTPParser.kOnHeaders] = (headers: string[], url: string): void => {
    pendingHeaders.push(...headers);
    pendingUrl += url;
  };
  parser[HTTPParser.kOnHeadersComplete] = (
    versionMajor: number, versionMinor: number, headers: string[] | undefined, method: number | undefined,
    url: string | undefined, status: number, reason: string | undefined, upgrade: boolean, keepAlive: boolean,
  ): number => {
    current = {
      versionMajor, versionMinor, url: url ?? pendingUrl, status, reason: reason ?? '', upgrade, keepAlive,
      headers: headers ?? pendingHeaders, method: typeof method === 'number' ? allMethods[method] : undefined,
      body: '', complete: false,
    };
    pendingHeaders = [];
    pendingUrl = '';
    messages.push(current);
    return opts.skipBody ? opts.skipBody(current) : 0;
  };
  parser[HTTPParser.kOnBody] = (b: Buffer): void => {
    if (current) current.body += b.toString('latin1');
  };
  parser[HTTPParser.kOnMessageComplete] = (): void => {
    if (current) current.complete = true;
  };
  parser[HTTPParser.kOnExecute] = (): void => {};
  let error: OracleResult['error'];
  const r = parser.execute(input);
  if (r instanceof Error) error = describe(r);
  else if (opts.finish) {
    const f = parser.finish();
    if (f instanceof Error) error = describe(f);
  }
  parser.close();
  return { error, messages };
}

function describe(e: Error): { code: string; reason: string } {
  const x = e as Error & { code?: string; reason?: string };
  return { code: x.code ?? 'ERR', reason: x.reason ?? e.message };
}
