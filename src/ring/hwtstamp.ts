/**
 * Hardware RX timestamps on a device: what the NIC can do (ETHTOOL_GET_TS_INFO:
 * capabilities and supported RX filters), switching it to stamp every packet
 * (SIOCSHWTSTAMP with HWTSTAMP_FILTER_ALL), and putting back the setting it had
 * before (read with SIOCGHWTSTAMP) when the last capture using it closes.
 *
 * `auto` falls back to software stamps whenever the device cannot stamp every
 * packet or refuses the change (ERANGE, EPERM, EOPNOTSUPP, EINVAL);
 * `hardware` says why in one line instead.
 * @internal
 */
import { native } from '../native.js';
import {
  HWTSTAMP_FILTER_ALL, HWTSTAMP_TX_OFF, SOF_TIMESTAMPING_RAW_HARDWARE, SOF_TIMESTAMPING_RX_HARDWARE,
} from '../constants.js';
import { NetringError } from '../errors.js';

/** The device calls used here (the native core; tests may pass their own). */
export interface TsDevice {
  tsInfo(ifname: string): [number, number, number, number];
  hwtstampGet(ifname: string): [number, number, number];
  hwtstamp(ifname: string, txType: number, rxFilter: number): number;
}

/** What ETHTOOL_GET_TS_INFO says about a device. */
export interface TsCapabilities {
  /** SOF_TIMESTAMPING_* bits the device supports. */
  soTimestamping: number;
  /** PTP hardware clock index (-1: none). */
  phcIndex: number;
  /** Bit n set: HWTSTAMP_FILTER n is supported. */
  rxFilters: number;
  /** Raw hardware RX stamps possible at all. */
  hardwareRx: boolean;
  /** The device can stamp every received packet (HWTSTAMP_FILTER_ALL). */
  stampsAll: boolean;
}

/** A device switched to stamp every packet; release() restores it when the last holder lets go. */
export interface HwStampClaim {
  readonly iface: string;
  release(): void;
}

const FALLBACK_CODES = new Set(['ERANGE', 'EPERM', 'EOPNOTSUPP', 'EINVAL', 'ENOTSUP']);

interface DeviceState { users: number; previous: [number, number] | null; dev: TsDevice }
const devices = new Map<string, DeviceState>();

/** Timestamping capabilities of `iface`, or null when the device does not answer ETHTOOL_GET_TS_INFO. */
export function tsCapabilities(iface: string, dev: TsDevice = native): TsCapabilities | null {
  let info: [number, number, number, number];
  try { info = dev.tsInfo(iface); } catch { return null; }
  const [so, phc, , rx] = info;
  const hardwareRx = (so & SOF_TIMESTAMPING_RAW_HARDWARE) !== 0 && (so & SOF_TIMESTAMPING_RX_HARDWARE) !== 0;
  return { soTimestamping: so, phcIndex: phc | 0, rxFilters: rx, hardwareRx, stampsAll: hardwareRx && (rx & (1 << HWTSTAMP_FILTER_ALL)) !== 0 };
}

/** The advice ending the library's hardware-stamp refusals (the CLI names its own option instead). */
export const HW_STAMP_ADVICE = "use timestamp 'software' or 'auto'";

/**
 * Switch `iface` to stamp every received packet in hardware. Returns the claim,
 * or null for `auto` when the device cannot (the caller uses software stamps).
 * For `hardware`, a device that cannot throws a NetringError saying why.
 */
export function claimHardwareRx(iface: string, mode: 'hardware' | 'auto', dev: TsDevice = native): HwStampClaim | null {
  const refuse = (why: string, code: string): null => {
    if (mode === 'auto') return null;
    throw new NetringError(`${iface} has no hardware RX timestamps: ${why}; ${HW_STAMP_ADVICE}`, code);
  };
  const caps = tsCapabilities(iface, dev);
  if (caps === null) return refuse('the device does not answer ETHTOOL_GET_TS_INFO', 'EOPNOTSUPP');
  if (!caps.hardwareRx) return refuse('ETHTOOL_GET_TS_INFO reports no raw hardware RX stamping', 'EOPNOTSUPP');
  if (!caps.stampsAll) return refuse(`the NIC stamps only some packets (RX filters 0x${caps.rxFilters.toString(16)}), not all (HWTSTAMP_FILTER_ALL)`, 'EOPNOTSUPP');

  const held = devices.get(iface);
  if (held !== undefined) {
    held.users++;
    return claim(iface, held);
  }
  let previous: [number, number] | null = null;
  try {
    const [tx, rx] = dev.hwtstampGet(iface);
    previous = [tx, rx];
  } catch { previous = null; /* driver without SIOCGHWTSTAMP: nothing known to restore */ }
  try {
    dev.hwtstamp(iface, previous?.[0] ?? HWTSTAMP_TX_OFF, HWTSTAMP_FILTER_ALL);
  } catch (err) {
    const e = err as { code?: string; errno?: number; message?: string };
    const code = e.code ?? 'EIO';
    if (mode === 'auto' && FALLBACK_CODES.has(code)) return null;
    const hint = code === 'EPERM' ? ' (needs CAP_NET_ADMIN)' : code === 'ERANGE' ? ' (the driver refuses HWTSTAMP_FILTER_ALL)' : '';
    throw new NetringError(`${iface}: enable hardware RX timestamps (SIOCSHWTSTAMP): ${e.message ?? code}${hint}; ${HW_STAMP_ADVICE}`, code, e.errno ?? 0, 'ioctl');
  }
  const state: DeviceState = { users: 1, previous, dev };
  devices.set(iface, state);
  return claim(iface, state);
}

function claim(iface: string, state: DeviceState): HwStampClaim {
  let released = false;
  return {
    iface,
    release(): void {
      if (released) return;
      released = true;
      if (--state.users > 0) return;
      devices.delete(iface);
      const prev = state.previous;
      if (prev === null) return;
      try { state.dev.hwtstamp(iface, prev[0], prev[1]); } catch { /* device gone or changed meanwhile */ }
    },
  };
}

/** Devices this process holds in hardware-stamping mode (for tests). */
export function heldDevices(): string[] { return [...devices.keys()]; }

