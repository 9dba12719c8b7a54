import cluster from 'node:cluster';
import os from 'node:os';
import { loadConfigFile, formatIssue } from '../config/load.js';
import type { Config } from '../config/types.js';
import { Gateway } from '../gateway.js';
import { channels } from '../observability/events.js';
import { tuneServingProcess } from './gc-tuning.js';

/** Print to stderr: stdout belongs to the access log when it is configured as '-'. */
export function say(line: string): void {
  process.stderr.write(line + '\n');
}

/**
 * Run a gateway until SIGTERM/SIGINT, reloading on SIGHUP. `reloadSource` re-reads the config;
 * when it returns issues the old configuration keeps serving and the issues are printed.
 */
export async function runGateway(config: Config, reloadSource?: () => Promise<{ ok: true; config: Config } | { ok: false; lines: string[] }>): Promise<Gateway> {
  const gw = new Gateway(config);
  await gw.start();
  tuneServingProcess();
  const lines = gw.addresses().map((a) => `headwater: listener ${a.name} on ${a.url}`);
  if (cluster.isWorker) process.send?.({ type: 'listening', lines });
  else for (const l of lines) say(l);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) {
      say(`headwater: ${signal} again, exiting now`);
      process.exit(1);
    }
    stopping = true;
    say(`headwater: ${signal}, draining (up to ${gw.config.shutdown_timeout} ms)`);
    await gw.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));

  if (reloadSource) {
    let reloading = Promise.resolve();
    const reload = () => {
      reloading = reloading.then(async () => {
        const r = await reloadSource();
        if (!r.ok) {
          say('headwater: reload refused, the running configuration stays:');
          for (const l of r.lines) say(l);
          channels.reload.publish({ ok: false, issues: r.lines });
          return;
        }
        try {
          await gw.reload(r.config, true);
          if (!cluster.isWorker) say('headwater: configuration reloaded');
        } catch (err) {
          say(`headwater: reload failed, the running configuration stays: ${(err as Error).message}`);
        }
      });
    };
    process.on('SIGHUP', reload);
    // In a cluster the primary checks the file and tells each worker to reload.
    process.on('message', (m: { type?: string }) => m?.type === 'reload' && reload());
  }
  return gw;
}

/** `headwater run`: load the file, start, reload from the same file on SIGHUP. */
export async function runCommand(file: string): Promise<void> {
  const load = async () => {
    const r = await loadConfigFile(file);
    return r.ok ? r : { ok: false as const, lines: r.issues.map(formatIssue) };
  };
  const first = await load();
  if (!first.ok) {
    for (const l of first.lines) say(l);
    process.exit(2);
  }
  const workers = first.config.workers === 0 ? os.availableParallelism() : first.config.workers;
  if (workers > 1 && cluster.isPrimary) {
    const { runPrimary } = await import('./cluster.js');
    runPrimary(file, workers);
    return;
  }
  try {
    await runGateway(first.config, load);
  } catch (err) {
    say(`headwater: ${(err as Error).message}`);
    process.exit(1);
  }
}

/** `headwater check`: exit 0 when valid, 2 with every issue listed. */
export async function checkCommand(file: string): Promise<void> {
  const r = await loadConfigFile(file);
  if (r.ok) {
    say(`${file}: configuration is valid`);
    process.exit(0);
  }
  for (const i of r.issues) process.stdout.write(formatIssue(i) + '\n');
  process.exit(2);
}
