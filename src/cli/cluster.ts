import cluster, { type Worker } from 'node:cluster';
import { loadConfigFile, formatIssue } from '../config/load.js';
import { say } from './run.js';

/** Messages between the primary and its workers. */
export type WorkerMessage = { type: 'listening'; lines: string[] } | { type: 'reload' };

/**
 * `workers: N` for `headwater run`: the primary forks N workers that share the listening sockets
 * (node:cluster; the kernel spreads connections, SCHED_NONE), relays SIGHUP as a reload after
 * checking the file itself, restarts a worker that dies, and drains all of them on SIGTERM/SIGINT.
 * It serves no traffic itself.
 */
export function runPrimary(file: string, workers: number): void {
  cluster.schedulingPolicy = cluster.SCHED_NONE;
  let stopping = false;
  let announced = false;
  const fork = () => {
    const w = cluster.fork();
    w.on('message', (m: WorkerMessage) => {
      if (m.type === 'listening' && !announced) {
        announced = true;
        for (const l of m.lines) say(l);
        say(`headwater: ${workers} workers (pids ${Object.values(cluster.workers ?? {}).map((x) => x?.process.pid).join(', ')})`);
      }
    });
    return w;
  };
  for (let i = 0; i < workers; i++) fork();

  cluster.on('exit', (w: Worker, code, signal) => {
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
      return;
    }
    say(`headwater: worker ${w.process.pid} exited (${signal ?? code}); starting another`);
    setTimeout(fork, 500).unref();
  });

  process.on('SIGHUP', () => {
    void loadConfigFile(file).then((r) => {
      if (!r.ok) {
        say('headwater: reload refused, the running configuration stays:');
        for (const i of r.issues) say(formatIssue(i));
        return;
      }
      for (const w of Object.values(cluster.workers ?? {})) w?.send({ type: 'reload' } satisfies WorkerMessage);
      say('headwater: configuration reloaded');
    });
  });
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(1);
    stopping = true;
    say(`headwater: ${signal}, draining ${workers} workers`);
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM');
    if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
