/**
 * How a live command ends: Ctrl-C, SIGTERM or SIGHUP, a `--seconds` limit, or
 * the command itself (count reached, `q` pressed, the reader went away).
 * Whichever comes first runs `onStop` once, after the signal handlers and
 * the timer are gone.
 */
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** Arm the stop conditions; call the returned function to stop from the command itself. */
export function stopOnce(onStop: () => void, seconds?: number): () => void {
  let done = false;
  const stop = (): void => {
    if (done) return;
    done = true;
    clearTimeout(limit);
    for (const s of SIGNALS) process.off(s, stop);
    onStop();
  };
  for (const s of SIGNALS) process.on(s, stop);
  const limit = seconds !== undefined ? setTimeout(stop, seconds * 1000) : undefined;
  return stop;
}
