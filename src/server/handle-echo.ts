// A one-shot helper process for accept-boost.ts: every handle it is sent goes straight back.
// Passing a handle through a process makes the kernel duplicate its file descriptor.
import type net from 'node:net';

process.on('message', (m, handle) => {
  process.send!(m, handle as net.Server);
});
process.on('disconnect', () => process.exit(0));
