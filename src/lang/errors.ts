/**
 * Errors of the packet-language compiler. Every error that comes from the
 * text of a program carries the source, a start and end offset, and renders
 * itself with a caret line under the offending part:
 *
 *     tcp port 8o
 *              ^^
 *     unknown port '8o' (not a number or a known service name)
 */
export class LangError extends Error {
  /** The program text the error refers to (may be empty). */
  readonly source: string;
  /** Offset of the first offending character (0-based), or -1 when unknown. */
  readonly pos: number;
  /** Offset one past the last offending character. */
  readonly end: number;
  /** The message without the caret rendering. */
  readonly reason: string;

  constructor(reason: string, source = '', pos = -1, end = pos + 1) {
    super(reason);
    this.name = 'LangError';
    this.reason = reason;
    this.source = source;
    this.pos = pos;
    this.end = Math.max(end, pos + 1);
  }

  /** The message with the source line and a caret under the error span. */
  pretty(): string {
    return formatCaret(this.source, this.pos, this.end, this.reason);
  }

  override toString(): string {
    return this.pos >= 0 ? `${this.name}: ${this.pretty()}` : `${this.name}: ${this.reason}`;
  }
}

/** Longest source line echoed whole; longer lines are cut around the error. */
const CARET_LINE_MAX = 120;
/** Longest caret span drawn under a long line, and the context kept on either side. */
const CARET_SPAN_MAX = 40;
const CARET_CONTEXT = 30;

/** Render `src` with a caret span under [pos, end) followed by `msg` (long lines cut around the span). */
export function formatCaret(src: string, pos: number, end: number, msg: string): string {
  if (pos < 0 || src === '') return msg;
  // Show only the line that holds `pos` (programs may span lines).
  const lineStart = src.lastIndexOf('\n', pos - 1) + 1;
  let lineEnd = src.indexOf('\n', pos);
  if (lineEnd < 0) lineEnd = src.length;
  let line = src.slice(lineStart, lineEnd);
  const col = pos - lineStart;
  let width = Math.max(1, Math.min(end, lineEnd) - pos);
  const lineNo = src.slice(0, lineStart).split('\n').length;
  const where = src.includes('\n') ? `line ${lineNo}, column ${col + 1}` : `column ${col + 1}`;
  // a long line (a filter of thousands of terms) is cut around the error, and so is a long caret span
  let shown = col;
  if (line.length > CARET_LINE_MAX) {
    width = Math.min(width, CARET_SPAN_MAX);
    const from = Math.max(0, col - CARET_CONTEXT);
    const to = Math.min(line.length, col + width + CARET_CONTEXT);
    const head = from > 0 ? '...' : '';
    line = `${head}${line.slice(from, to)}${to < line.length ? '...' : ''}`;
    shown = head.length + col - from;
  }
  return `${line}\n${' '.repeat(shown)}${'^'.repeat(width)}\n${msg} (at ${where})`;
}
