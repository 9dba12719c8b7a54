// Child-process bookkeeping for the bench: every process we start is registered here and is
// stopped on normal exit, Ctrl-C, SIGTERM and uncaught errors. Children are spawned in their own
// process group (detached) so a last-resort SIGKILL to -pgid also takes NGINX workers with it.
import { spawn } from 'node:child_process';
import { existsSync, openSync, closeSync, rmSync, accessSync, constants } from 'node:fs';
import path from 'node:path';

/** Thrown when something tries to start a process after shutdown began. */
export class ShutdownError extends Error {
  constructor() { super('shutting down'); this.name = 'ShutdownError'; }
}

const tracked = new Set();
const tempDirs = new Set();
let shuttingDown = false;

/** Find an executable on PATH (plus the sbin dirs, where Debian puts nginx). */
export function which(cmd) {
  const dirs = (process.env.PATH || '').split(':').concat(['/usr/sbin', '/usr/local/sbin', '/sbin']);
  for (const d of dirs) {
    if (!d) continue;
    const p = path.join(d, cmd);
    try { accessSync(p, constants.X_OK); return p; } catch { /* next */ }
  }
  return null;
}

export function registerTempDir(dir) { tempDirs.add(dir); }

/**
 * Spawn a tracked child. stdout/stderr go to `logFile` (or are ignored). `stopSignal` is what
 * stop() sends first (NGINX: SIGQUIT = graceful, Headwater: SIGTERM).
 */
export function spawnTracked(name, cmd, args, { logFile, stopSignal = 'SIGTERM', cwd, env } = {}) {
  if (shuttingDown) throw new ShutdownError();
  const fd = logFile ? openSync(logFile, 'a') : 'ignore';
  const child = spawn(cmd, args, { cwd, env, detached: true, stdio: ['ignore', fd, fd] });
  if (typeof fd === 'number') closeSync(fd);
  const entry = { name, child, stopSignal, logFile, exited: false, code: null, signal: null };
  entry.exitPromise = new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      entry.exited = true; entry.code = code; entry.signal = signal;
      tracked.delete(entry);
      resolve(entry);
    });
    child.once('error', (err) => {
      entry.exited = true; entry.error = err;
      tracked.delete(entry);
      resolve(entry);
    });
  });
  tracked.add(entry);
  return entry;
}

function killGroup(entry, sig) {
  const pid = entry.child.pid;
  if (!pid || entry.exited) return;
  try { process.kill(-pid, sig); } catch { try { process.kill(pid, sig); } catch { /* gone */ } }
}

/** Stop one child: its stop signal, then SIGKILL to its whole group after `graceMs`. */
export async function stop(entry, graceMs = 3000) {
  if (!entry || entry.exited) return;
  try { process.kill(entry.child.pid, entry.stopSignal); } catch { /* already gone */ }
  const timer = new Promise((r) => setTimeout(r, graceMs, 'timeout'));
  const res = await Promise.race([entry.exitPromise, timer]);
  if (res === 'timeout') {
    killGroup(entry, 'SIGKILL');
    await Promise.race([entry.exitPromise, new Promise((r) => setTimeout(r, 1000))]);
  } else {
    // The leader is gone; make sure no stray member of its group (e.g. an NGINX worker) lingers.
    killGroup(entry, 'SIGKILL');
  }
}

/** Spawn with piped output and a hard time limit (used for wrk and `nginx -t`). */
export function capture(name, cmd, args, timeoutMs) {
  if (shuttingDown) return Promise.reject(new ShutdownError());
  const child = spawn(cmd, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const entry = { name, child, stopSignal: 'SIGTERM', exited: false };
  let stdout = '', stderr = '', timedOut = false;
  child.stdout.on('data', (d) => { stdout += d; });
  child.stderr.on('data', (d) => { stderr += d; });
  entry.exitPromise = new Promise((resolve) => {
    const timer = setTimeout(() => { timedOut = true; killGroup(entry, 'SIGKILL'); }, timeoutMs);
    const done = (code, error) => {
      clearTimeout(timer);
      entry.exited = true;
      tracked.delete(entry);
      resolve({ code, stdout, stderr, timedOut, error });
    };
    child.once('error', (err) => done(null, err));
    child.once('close', (code) => done(code));
  });
  tracked.add(entry);
  return entry.exitPromise;
}

/** Stop everything we started (most recent first) and remove temp dirs. Idempotent. */
export async function stopAll() {
  const entries = [...tracked].reverse();
  await Promise.all(entries.map((e) => stop(e)));
  removeTempDirs();
}

function removeTempDirs() {
  for (const d of tempDirs) {
    try { if (existsSync(d)) rmSync(d, { recursive: true, force: true }); } catch { /* best effort */ }
    tempDirs.delete(d);
  }
}

/** Synchronous last resort, for process 'exit': SIGKILL each remaining group, drop temp dirs. */
function killAllSync() {
  for (const e of tracked) killGroup(e, 'SIGKILL');
  tracked.clear();
  removeTempDirs();
}

/** Install handlers so that Ctrl-C, SIGTERM, SIGHUP and crashes all clean up. */
export function installCleanupHandlers(log = console.error) {
  const onSignal = async (sig) => {
    if (shuttingDown) { killAllSync(); process.exit(130); }
    shuttingDown = true;
    process.exitCode = sig === 'SIGINT' ? 130 : 143;
    log(`\n${sig} received: stopping child processes...`);
    await stopAll();
    process.exit(sig === 'SIGINT' ? 130 : 143);
  };
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => onSignal(sig));
  const onCrash = async (err) => {
    if (err instanceof ShutdownError) return; // the signal handler is already cleaning up
    log(`\nbench: fatal: ${err && err.stack ? err.stack : err}`);
    if (!shuttingDown) { shuttingDown = true; await stopAll(); }
    process.exit(1);
  };
  process.on('uncaughtException', onCrash);
  process.on('unhandledRejection', onCrash);
  process.on('exit', killAllSync);
}

export function isShuttingDown() { return shuttingDown; }
