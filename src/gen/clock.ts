/**
 * Clocks for the sender. `monotonicNs()` is process.hrtime.bigint() as a
 * Number of ns since this module loaded (rate control). `RealtimeClock`
 * gives CLOCK_REALTIME (what the kernel stamps received packets with) as
 * (sec, nsec) without allocating: performance.now() plus an offset measured
 * once at a millisecond edge of Date.now(), good to a fraction of a
 * microsecond on one host.
 */
import { performance } from 'node:perf_hooks';

const T0 = process.hrtime.bigint();

/** Monotonic nanoseconds since this module was loaded. */
export function monotonicNs(): number {
  return Number(process.hrtime.bigint() - T0);
}

/** Realtime clock read into `sec`/`nsec` fields (no allocation per read). */
export class RealtimeClock {
  /** Seconds of the last read(). */
  sec = 0;
  /** Nanoseconds of the last read(). */
  nsec = 0;
  /** Width of the window the calibration edge was found in (ns): the offset's uncertainty. */
  uncertaintyNs = 0;
  private baseSec = 0;
  private baseNsec = 0;
  private basePerf = 0;

  constructor() {
    this.calibrate();
  }

  /** Find a Date.now() millisecond edge (spins at most ~1 ms per try, 4 tries) and anchor performance.now() to it. */
  calibrate(): void {
    let best = Infinity;
    for (let attempt = 0; attempt < 4; attempt++) {
      const d0 = Date.now();
      let prev = performance.now();
      for (;;) {
        const d = Date.now();
        const after = performance.now();
        if (d !== d0) {
          const width = after - prev;
          if (width < best) {
            best = width;
            this.baseSec = Math.floor(d / 1000);
            this.baseNsec = (d % 1000) * 1e6;
            this.basePerf = (prev + after) / 2;
          }
          break;
        }
        prev = after;
      }
    }
    this.uncertaintyNs = Math.round(best * 1e6);
  }

  /** Read the realtime clock into `sec` and `nsec`. */
  read(): void {
    const ns = this.baseNsec + (performance.now() - this.basePerf) * 1e6;
    const s = Math.floor(ns / 1e9);
    this.sec = this.baseSec + s;
    this.nsec = Math.floor(ns - s * 1e9);
  }

  /** Realtime now as ms since the epoch (a double; for display). */
  nowMs(): number {
    this.read();
    return this.sec * 1e3 + this.nsec / 1e6;
  }
}
