/**
 * The link under a capture socket. When its interface goes down the kernel
 * unhooks an AF_PACKET socket, sets the socket error to ENETDOWN (poll reports
 * POLLERR until it is read) and hooks it again when the interface comes back
 * up; when the interface is deleted the socket is unbound for good. These
 * helpers read and clear that error and tell the three states apart.
 */
import { readFileSync } from 'node:fs';
import { native } from '../native.js';
import { SOL_SOCKET } from '../constants.js';

/** State of a capture's interface. */
export type LinkState = 'up' | 'down' | 'gone';

/** A change of a capture's interface, as reported to `onLinkChange`. */
export interface LinkChange {
  /** Interface name. */
  iface: string;
  /** New state: 'down' (capture resumes when it comes back), 'up' again, or 'gone' (deleted: the capture ends). */
  state: LinkState;
}

const SO_ERROR = 4;
const IFF_UP = 0x1;
const errBuf = new Int32Array(1);

/** Read and clear the socket's pending error (SO_ERROR); 0 when there is none. */
export function takeSocketError(fd: number): number {
  errBuf[0] = 0;
  try { native.getsockopt(fd, SOL_SOCKET, SO_ERROR, errBuf); } catch { return 0; }
  return errBuf[0];
}

/**
 * State of the interface a capture socket is bound to (by index): 'gone' when
 * no interface has that index any more (deleted; one recreated under the same
 * name gets a new index, and the socket stays bound to the old one), 'down'
 * when it lacks IFF_UP, else 'up'.
 */
export function linkState(ifindex: number): LinkState {
  let name: string;
  try { name = native.ifname(ifindex); } catch { return 'gone'; }
  try {
    const flags = Number.parseInt(readFileSync(`/sys/class/net/${name}/flags`, 'utf8'), 16);
    return (flags & IFF_UP) !== 0 ? 'up' : 'down';
  } catch {
    return 'up'; // no sysfs view of this namespace: the socket error alone tells us about the next fault
  }
}
