import type { CaptureWriter } from './writer-types.js';

/** Options of {@link installSignalFlush}. */
export interface SignalFlushOptions {
  /** Signals to handle (default SIGINT, SIGTERM, SIGHUP). */
  signals?: NodeJS.Signals[];
  /**
   * After closing the writer, re-raise the signal with the default action so
   * the process dies of it as it would have (default true). With false the
   * writer is closed and the process keeps running; the caller ends it.
   */
  reraise?: boolean;
}

/**
 * Makes `writer`'s file valid whatever ends the process: on SIGINT/SIGTERM/
 * SIGHUP it closes the writer (final ISB with drop counts, flush, close) and
 * re-raises the signal; on a normal 'exit' it closes the writer too (all
 * writes are synchronous, so this works inside the exit handler). Returns a
 * function that removes the handlers. The CLI uses this for `-w`.
 */
export function installSignalFlush(writer: CaptureWriter, options: SignalFlushOptions = {}): () => void {
  const signals = options.signals ?? ['SIGINT', 'SIGTERM', 'SIGHUP'];
  const reraise = options.reraise ?? true;
  const closeQuietly = (): void => {
    try { writer.close(); } catch { /* best effort while dying */ }
  };
  const onSignal = (sig: NodeJS.Signals): void => {
    closeQuietly();
    if (!reraise) return;
    remove();
    // With our listener gone and no others, the default action applies.
    if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
  };
  const onExit = (): void => closeQuietly();
  for (const s of signals) process.on(s, onSignal);
  process.on('exit', onExit);
  function remove(): void {
    for (const s of signals) process.off(s, onSignal);
    process.off('exit', onExit);
  }
  return remove;
}
