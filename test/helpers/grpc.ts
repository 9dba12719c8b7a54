import * as grpc from '@grpc/grpc-js';
import type { TestContext } from 'node:test';

const ser = (v: string): Buffer => Buffer.from(v);
const de = (b: Buffer): string => b.toString();
const method = (name: string, responseStream: boolean, requestStream = false) => ({
  path: `/test.Echo/${name}`,
  requestStream,
  responseStream,
  requestSerialize: ser,
  requestDeserialize: de,
  responseSerialize: ser,
  responseDeserialize: de,
});

/** A tiny gRPC service with string messages (no protobuf needed): unary, server streaming, bidi. */
export const echoService = { unary: method('Unary', false), stream: method('Stream', true), chat: method('Chat', true, true) } as unknown as grpc.ServiceDefinition;

/**
 * A real @grpc/grpc-js server (cleartext HTTP/2). Unary echoes `echo:<req>`, or fails with
 * NOT_FOUND for `missing`; Stream sends `<req>-0..2`, then custom trailing metadata; Chat
 * answers each message at once with `<msg>!`.
 */
export async function grpcServer(t: TestContext): Promise<string> {
  const server = new grpc.Server();
  server.addService(echoService, {
    unary: (call: grpc.ServerUnaryCall<string, string>, cb: grpc.sendUnaryData<string>) => {
      if (call.request === 'missing') cb({ code: grpc.status.NOT_FOUND, details: 'no such thing: missing' });
      else cb(null, `echo:${call.request}`);
    },
    stream: (call: grpc.ServerWritableStream<string, string>) => {
      for (let i = 0; i < 3; i++) call.write(`${call.request}-${i}`);
      const md = new grpc.Metadata();
      md.set('x-done', 'yes');
      call.end(md);
    },
    chat: (call: grpc.ServerDuplexStream<string, string>) => {
      call.on('data', (m: string) => call.write(`${m}!`));
      call.on('end', () => call.end());
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  t.after(() => server.forceShutdown());
  return `127.0.0.1:${port}`;
}

type EchoClient = grpc.Client & {
  unary(req: string, cb: (err: grpc.ServiceError | null, res?: string) => void): grpc.ClientUnaryCall;
  stream(req: string): grpc.ClientReadableStream<string>;
  chat(): grpc.ClientDuplexStream<string, string>;
};

/** A grpc-js client for the echo service; TLS when `ca` is given. */
export function grpcClient(t: TestContext, target: string, ca?: string): EchoClient {
  const Ctor = grpc.makeGenericClientConstructor(echoService, 'Echo');
  const creds = ca ? grpc.credentials.createSsl(Buffer.from(ca)) : grpc.credentials.createInsecure();
  const c = new Ctor(target, creds) as unknown as EchoClient;
  t.after(() => c.close());
  return c;
}

export function unary(c: EchoClient, req: string): Promise<string> {
  return new Promise((resolve, reject) => c.unary(req, (err, res) => (err ? reject(err) : resolve(res!))));
}

/** Every message of a server stream, and its trailing metadata. */
export function collect(c: EchoClient, req: string): Promise<{ messages: string[]; trailers: grpc.Metadata }> {
  return new Promise((resolve, reject) => {
    const call = c.stream(req);
    const messages: string[] = [];
    let trailers = new grpc.Metadata();
    call.on('data', (m: string) => messages.push(m));
    call.on('status', (s: grpc.StatusObject) => (trailers = s.metadata));
    call.on('error', reject);
    call.on('end', () => setImmediate(() => resolve({ messages, trailers })));
  });
}

/** Bidi: send each message only after the answer to the previous one arrived. */
export async function converse(c: EchoClient, messages: string[]): Promise<string[]> {
  const call = c.chat();
  const answers: string[] = [];
  const it = call[Symbol.asyncIterator]() as AsyncIterator<string>;
  for (const m of messages) {
    call.write(m);
    const r = await it.next();
    if (r.done) break;
    answers.push(r.value);
  }
  call.end();
  return answers;
}
