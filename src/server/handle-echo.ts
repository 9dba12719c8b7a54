// A one-shot helper process for accept-boost.ts: every handle it is sent goes straight back.
// Passing a handle through a process makes the kernel duplicate its file descriptor. The handles
// are raw TCP handles, which node delivers as they are: nothing here listens or accepts.
import type net from 'node:net';

process.on('message', (m, handle) => {
  // Typed as a net.Server only because @types/node has no type for a raw handle.
  process.send!(m, handle as net.Server);
});
process.on('disconnect', () => process.exit(0));
