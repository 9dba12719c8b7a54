import { spawn } from 'node:child_process';
import type { TestContext } from 'node:test';

/**
 * An address where connecting hangs: a listening socket (python3) that never accepts, with its
 * accept queue already full, so the kernel drops further SYNs and a connect only ends by timing
 * out. The way to test connect timeouts on loopback.
 */
export async function blackhole(t: TestContext): Promise<string> {
  const script = [
    'import socket, sys, time',
    's = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(0)',
    'port = s.getsockname()[1]; fill = []',
    'for i in range(3):',
    '    c = socket.socket(); c.setblocking(False)',
    '    try: c.connect(("127.0.0.1", port))',
    '    except BlockingIOError: pass',
    '    fill.append(c)',
    'time.sleep(0.1); print(port, flush=True)',
    'sys.stdin.read()',
  ].join('\n');
  const p = spawn('python3', ['-c', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  t.after(() => {
    p.stdin!.end();
    p.kill();
  });
  const port = await new Promise<string>((resolve, reject) => {
    p.once('error', reject);
    p.once('exit', (code) => reject(new Error(`python3 exited (${code})`)));
    p.stdout!.once('data', (d) => resolve(String(d).trim()));
  });
  return `127.0.0.1:${port}`;
}
