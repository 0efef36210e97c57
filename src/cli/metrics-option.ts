/**
 * `--metrics [ADDR:]PORT` for the CLI commands: start the Prometheus endpoint
 * (src/metrics/server.ts), say where it listens, and read counters that stay
 * readable after their source closed (a scrape may come after the end).
 */
import { startMetrics, type MetricsServer, type PacketSource } from '../metrics/server.js';

/** Registers a packet-counter reader with the endpoint (no-op without --metrics). */
export type CounterSink = (read: () => PacketSource) => void;

/** Start the endpoint when `listen` is given; prints `metrics on http://ADDR/metrics` to stderr. */
export async function startCliMetrics(listen: string | undefined): Promise<MetricsServer | null> {
  if (listen === undefined) return null;
  const m = await startMetrics(listen);
  process.stderr.write(`metrics on http://${m.address}/metrics\n`);
  return m;
}

/** A reader that keeps its last good value once `read` starts throwing (its capture or group was closed). */
export function lastGood<T>(read: () => T, initial: T): () => T {
  let last = initial;
  return () => {
    try { last = read(); } catch { /* closed: keep the last value */ }
    return last;
  };
}
