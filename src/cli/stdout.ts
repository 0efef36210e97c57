/**
 * The CLI's stdout, shared by every command: text lines (packet summaries,
 * reports, JSON) and binary capture output (`-w -`) go through here so that a
 * reader that goes away (`netring capture | head -2`) ends the command
 * quietly, as tcpdump does, instead of an unhandled `write EPIPE`.
 *
 * Node ignores SIGPIPE, so a closed pipe shows up as an EPIPE error on the
 * stream (emitted after the failed write). `guardStdout()` installs the one
 * listener; commands that run until stopped register `onStdoutClosed()` to
 * finish cleanly (flush files, print the summary on stderr); all others just
 * stop writing and exit 0.
 */

let closed = false;
let installed = false;
const listeners = new Set<() => void>();

/** True once stdout's reader has gone away: further writes are dropped. */
export function stdoutClosed(): boolean {
  return closed;
}

/** Write text to stdout unless its reader has gone away. */
export function writeOut(text: string | Uint8Array): void {
  if (closed) return;
  process.stdout.write(text);
}

/**
 * Call `fn` once when stdout's reader goes away. Returns a function that
 * unregisters it. While at least one listener is registered the process keeps
 * running after EPIPE (the listener ends it); with none it exits 0.
 */
export function onStdoutClosed(fn: () => void): () => void {
  if (closed) {
    queueMicrotask(fn);
    return () => {};
  }
  listeners.add(fn);
  return () => { listeners.delete(fn); };
}

/** Mark stdout closed and tell the listeners (also used for EPIPE seen by a synchronous writer). */
export function stdoutWentAway(): void {
  if (closed) return;
  closed = true;
  const fns = [...listeners];
  listeners.clear();
  if (fns.length === 0) {
    process.exitCode ??= 0;
    // nothing is waiting for stdout: end now, quietly (stderr messages already written stay)
    setImmediate(() => process.exit(process.exitCode ?? 0));
    return;
  }
  for (const fn of fns) fn();
}

/** Install the EPIPE handler on process.stdout (idempotent). Other stdout errors stay fatal. */
export function guardStdout(): void {
  if (installed) return;
  installed = true;
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE' || e.code === 'ERR_STREAM_DESTROYED') {
      stdoutWentAway();
      return;
    }
    process.stderr.write(`netring: stdout: ${e.message}\n`);
    process.exit(1);
  });
}
