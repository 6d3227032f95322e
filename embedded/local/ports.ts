/**
 * What every local service shares: the region clients reach it with, and
 * a server on 127.0.0.1 that reports a port in use, probes ports and closes without hanging.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export const LOCAL_REGION = 'ap-southeast-3';

export interface LocalService {
  endpoint: string;
  close(): Promise<void>;
}

export function endpointOf(address: AddressInfo | string | null): string {
  if (!address || typeof address === 'string') throw new Error('local service did not report a TCP address');
  return `http://127.0.0.1:${address.port}`;
}

/**
 * Closes a server without waiting forever for keep-alive sockets that SDK clients in
 * this process still hold: idle ones go at once, busy ones get a short grace period.
 */
export function closeServer(server: Server, close: (cb: (err?: Error) => void) => void, graceMs = 2_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => server.closeAllConnections(), graceMs);
    close((err) => {
      clearTimeout(timer);
      // "Not running" is the only error a second close gives; stopping twice is fine.
      if (err && (err as NodeJS.ErrnoException).code !== 'ERR_SERVER_NOT_RUNNING') reject(err);
      else resolve();
    });
    server.closeIdleConnections();
  });
}

/** Listens on 127.0.0.1; a port in use rejects (code EADDRINUSE) instead of crashing. */
export function listen(server: Server, port = 0): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** Whether a port on 127.0.0.1 can be listened on right now. */
export async function isPortFree(port: number): Promise<boolean> {
  const probe = createServer();
  try {
    await listen(probe, port);
  } catch {
    return false;
  }
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return true;
}
