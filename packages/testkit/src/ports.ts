import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/**
 * Where test listeners take their ports: below the kernel's ephemeral range, so no outgoing connection (a service's
 * pool to PostgreSQL, NATS, another service) can be given a port between the moment we pick it and the moment the
 * child process listens on it. Picking port 0 from the ephemeral range had exactly that race (EADDRINUSE in CI).
 */
function listenerRange(): { low: number; high: number } {
  let ephemeralLow = 32768;
  try {
    ephemeralLow = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || ephemeralLow;
  } catch {
    // Not Linux: keep the IANA default's lower bound.
  }
  return { low: 15000, high: Math.max(15000 + 2000, ephemeralLow - 1) };
}

/**
 * Each vitest worker (VITEST_POOL_ID 1..n) draws from its own slice of the range, so two test files running at once
 * never pick the same port either; within a process a port is handed out once.
 */
const SLICES = 8;
const handedOut = new Set<number>();
let cursor: number | undefined;

function slice(): { low: number; size: number } {
  const { low, high } = listenerRange();
  const size = Math.floor((high - low + 1) / SLICES);
  const id = Number(process.env.VITEST_POOL_ID ?? 0) % SLICES;
  return { low: low + id * size, size };
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** A TCP port on 127.0.0.1 that is free now and that no other caller in this run is given. */
export async function freePort(): Promise<number> {
  const { low, size } = slice();
  // A random start per process: a re-run (or the bench beside a stale stack) does not walk the same ports first.
  cursor ??= Math.floor(Math.random() * size);
  for (let tries = 0; tries < size; tries++) {
    const port = low + (cursor++ % size);
    if (handedOut.has(port)) continue;
    if (await canListen(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`no free port in ${low}..${low + size - 1}`);
}

export async function isPortOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  const { connect } = await import('node:net');
  return new Promise((resolve) => {
    const socket = connect({ port, host });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
