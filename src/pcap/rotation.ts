/**
 * Output file names and rotation decisions with tcpdump's semantics:
 * `-C SIZE` (rotate once the file holds more than SIZE x 1,000,000 bytes;
 * files FILE, FILE1, FILE2, ...), `-G SECONDS` (a new file every SECONDS,
 * its name through strftime), `-W COUNT` (with -C: a ring of COUNT files
 * FILE0..FILE{COUNT-1}, numbers zero-padded to the width of COUNT-1; with -G
 * alone: stop after COUNT files).
 */

/** Rotation settings (all optional; none = one file). */
export interface RotationOptions {
  /** -C: rotate once the current file exceeds this many bytes. */
  sizeBytes?: number;
  /** -G: rotate every this many seconds (file names go through strftime). */
  seconds?: number;
  /** -W: ring of this many files (with -C) or stop after this many files (with -G only). */
  count?: number;
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * strftime(3) in local time for the conversions file names use: %Y %y %m %d
 * %e %H %I %M %S %p %j %s %F %T %D %R %a %A %b %B %h %z %Z %n %t %%.
 * Unknown conversions are kept as written.
 */
export function strftime(pattern: string, unixSeconds: number): string {
  const d = new Date(unixSeconds * 1000);
  const start = new Date(d.getFullYear(), 0, 1);
  const doy = Math.floor((d.getTime() - start.getTime()) / 86400000) + 1;
  const off = -d.getTimezoneOffset();
  const tz = `${off >= 0 ? '+' : '-'}${pad(Math.floor(Math.abs(off) / 60))}${pad(Math.abs(off) % 60)}`;
  return pattern.replace(/%([A-Za-z%])/g, (all, c: string) => {
    switch (c) {
      case 'Y': return String(d.getFullYear());
      case 'y': return pad(d.getFullYear() % 100);
      case 'm': return pad(d.getMonth() + 1);
      case 'd': return pad(d.getDate());
      case 'e': return String(d.getDate()).padStart(2, ' ');
      case 'H': return pad(d.getHours());
      case 'I': return pad(((d.getHours() + 11) % 12) + 1);
      case 'M': return pad(d.getMinutes());
      case 'S': return pad(d.getSeconds());
      case 'p': return d.getHours() < 12 ? 'AM' : 'PM';
      case 'j': return pad(doy, 3);
      case 's': return String(Math.floor(unixSeconds));
      case 'F': return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
      case 'T': return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
      case 'D': return `${pad(d.getMonth() + 1)}/${pad(d.getDate())}/${pad(d.getFullYear() % 100)}`;
      case 'R': return `${pad(d.getHours())}:${pad(d.getMinutes())}`;
      case 'a': return DAYS[d.getDay()];
      case 'A': return ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'][d.getDay()];
      case 'b': case 'h': return MONTHS[d.getMonth()];
      case 'B': return ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'][d.getMonth()];
      case 'z': return tz;
      case 'Z': return Intl.DateTimeFormat('en-US', { timeZoneName: 'short' }).formatToParts(d).find((p) => p.type === 'timeZoneName')?.value ?? tz;
      case 'n': return '\n';
      case 't': return '\t';
      case '%': return '%';
      default: return all;
    }
  });
}

/** Digits tcpdump gives file numbers with -W COUNT: those of COUNT-1 (0 for COUNT 1). */
export function countWidth(count: number): number {
  let c = 0;
  for (let x = count - 1; x > 0; x = Math.floor(x / 10)) c++;
  return c;
}

/**
 * tcpdump's file name: the pattern (through strftime at `time` when -G is
 * on), then `cnt` zero-padded to `width` digits unless both are 0.
 */
export function rotationName(pattern: string, cnt: number, width: number, timed: boolean, time: number): string {
  const base = timed ? strftime(pattern, time) : pattern;
  return cnt === 0 && width === 0 ? base : `${base}${String(cnt).padStart(width, '0')}`;
}

/** What to do before the next record. */
export type RotationStep = 'none' | 'size' | 'time' | 'stop';

/** The files of one output, as {@link Rotation.step} changes them. */
export interface RotationFiles {
  /** Closes the current file (complete). */
  close(): void;
  /** Opens the file of that name; it becomes the current one. */
  open(name: string): void;
}

/**
 * The rotation state of one output: which file comes next and when. Time is
 * whole seconds as tcpdump compares it (time(2)).
 */
export class Rotation {
  readonly sizeBytes: number;
  readonly seconds: number;
  readonly count: number;
  private readonly pattern: string;
  private readonly width: number;
  private cflagCount = 0;
  private gflagCount = 0;
  private gTime: number;

  constructor(pattern: string, o: RotationOptions = {}, now = Math.floor(Date.now() / 1000)) {
    this.pattern = pattern;
    this.sizeBytes = o.sizeBytes ?? 0;
    this.seconds = o.seconds ?? 0;
    this.count = o.count ?? 0;
    this.width = this.count > 0 ? countWidth(this.count) : 0;
    this.gTime = now;
  }

  /** True when files rotate at all. */
  get active(): boolean { return this.sizeBytes > 0 || this.seconds > 0; }

  /** Name of the first file. */
  firstName(): string {
    return rotationName(this.pattern, 0, this.sizeBytes > 0 ? this.width : 0, this.seconds > 0, this.gTime);
  }

  /** Decides before a record whether the file changes (time first, then size, as tcpdump). */
  due(fileBytes: number, now: number): RotationStep {
    if (this.seconds > 0 && now - this.gTime >= this.seconds) {
      return this.count > 0 && this.gflagCount + 1 >= this.count && this.sizeBytes === 0 ? 'stop' : 'time';
    }
    if (this.sizeBytes > 0 && fileBytes > this.sizeBytes) return 'size';
    return 'none';
  }

  /** Advances to the next file for a step returned by {@link due}; returns its name. */
  next(step: 'size' | 'time', now: number): string {
    if (step === 'time') {
      this.gTime = now;
      this.gflagCount++;
      this.cflagCount = 0;
      return rotationName(this.pattern, 0, 0, true, this.gTime);
    }
    if (this.count > 0) this.cflagCount = this.cflagCount < this.count - 1 ? this.cflagCount + 1 : 0;
    else this.cflagCount++;
    return rotationName(this.pattern, this.cflagCount, this.width, this.seconds > 0, this.gTime);
  }

  /**
   * The rotation steps before a record, in tcpdump's order: asks {@link due}
   * (the clock is read only with -G: in Node a clock read returns a
   * heap-allocated number, so -C alone allocates nothing per record); on a file change
   * closes the current file and opens the next one by name; on 'stop'
   * (-G with -W reached) closes the current file and returns false: the
   * record is not written and the output is finished.
   */
  step(fileBytes: number, clock: () => number, files: RotationFiles): boolean {
    if (!this.active) return true;
    const now = this.seconds > 0 ? clock() : this.gTime;
    const s = this.due(fileBytes, now);
    if (s === 'none') return true;
    if (s === 'stop') {
      files.close();
      return false;
    }
    const name = this.next(s, now);
    files.close();
    files.open(name);
    return true;
  }

  /** Bytes the current file may still take before the size limit is crossed (Infinity without -C). */
  budget(fileBytes: number): number {
    return this.sizeBytes > 0 ? this.sizeBytes - fileBytes + 1 : Infinity;
  }
}
