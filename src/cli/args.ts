/** Argument parsing shared by the CLI commands: numbers, sizes, usage errors. */
import { InvalidArgumentError } from 'commander';

/** A usage error: the CLI prints it and exits with status 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** commander argument parser for a non-negative integer. */
export function intArg(name: string, min = 0, max = Number.MAX_SAFE_INTEGER): (v: string) => number {
  return (v: string): number => {
    const n = Number(v);
    if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(n) || n < min || n > max)
      throw new InvalidArgumentError(`${name} must be an integer in ${min}..${max} (got "${v}")`);
    return n;
  };
}

/** commander argument parser for a positive number (may be fractional). */
export function numArg(name: string, min = 0): (v: string) => number {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < min || v.trim() === '') throw new InvalidArgumentError(`${name} must be a number >= ${min} (got "${v}")`);
    return n;
  };
}

const UNITS: Record<string, number> = { '': 1, k: 1024, ki: 1024, kib: 1024, m: 1 << 20, mi: 1 << 20, mib: 1 << 20, g: 1 << 30, gi: 1 << 30, gib: 1 << 30 };

/** commander argument parser for a byte size: 4096, 64k, 1M, 2MiB. */
export function sizeArg(name: string): (v: string) => number {
  return (v: string): number => {
    const m = /^(\d+)\s*([a-z]*)$/i.exec(v.trim());
    const unit = m ? UNITS[m[2].toLowerCase()] : undefined;
    if (!m || unit === undefined) throw new InvalidArgumentError(`${name} must be a size like 4096, 64k or 1M (got "${v}")`);
    return Number(m[1]) * unit;
  };
}

/** commander argument parser for one of a set of words. */
export function choiceArg<T extends string>(name: string, choices: readonly T[]): (v: string) => T {
  return (v: string): T => {
    if (!(choices as readonly string[]).includes(v)) throw new InvalidArgumentError(`${name} must be one of ${choices.join(', ')} (got "${v}")`);
    return v as T;
  };
}
