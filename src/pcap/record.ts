import type { PacketLike } from '../packet-like.js';
import { pktTypeFromEpbFlags } from './constants.js';

const EMPTY = new Uint8Array(0);

/**
 * One record of a capture file. Readers hand out ONE reused instance: its
 * fields (and the bytes at `data[offset]`) are valid until the next read;
 * `copy()` keeps a record.
 */
export class FileRecord implements PacketLike {
  /** Reader buffer holding the record (or the copy's own bytes). */
  data: Uint8Array = EMPTY;
  offset = 0;
  caplen = 0;
  wireLen = 0;
  sec = 0;
  nsec = 0;
  /** Always false: files carry VLAN tags inside the frame. */
  vlanValid = false;
  vlanTci = 0;
  vlanTpid = 0;
  /** pcapng interface id within the record's section (0 for pcap). */
  ifindex = 0;
  /** From epb_flags when present (4 outgoing, 1 broadcast, 2 multicast, 3 otherhost), else 0. */
  pktType = 0;
  linkType = 1;
  /** pcapng epb_flags, -1 when the record has none. */
  epbFlags = -1;
  /** pcapng epb_dropcount (or PB drops_count), -1 when absent. */
  dropCount = -1;
  /** 0-based pcapng section number (0 for pcap). */
  section = 0;
  /** Index of the record's interface in the reader's `interfaces` list. */
  interfaceIndex = 0;
  /** File offset of the record header / block. */
  fileOffset = 0;

  /** The captured bytes as a view (allocates a view object; hot loops should use data/offset). */
  get bytes(): Uint8Array { return this.data.subarray(this.offset, this.offset + this.caplen); }

  /** Timestamp in nanoseconds since the epoch. */
  get timestampNs(): bigint { return BigInt(this.sec) * 1000000000n + BigInt(this.nsec); }

  /** Sets epb_flags and the pktType they imply. */
  setFlags(flags: number): void {
    this.epbFlags = flags;
    this.pktType = flags < 0 ? 0 : pktTypeFromEpbFlags(flags);
  }

  /** An independent record with its own copy of the bytes. */
  copy(): FileRecord {
    const c = new FileRecord();
    c.data = this.data.slice(this.offset, this.offset + this.caplen);
    c.offset = 0;
    c.caplen = this.caplen;
    c.wireLen = this.wireLen;
    c.sec = this.sec;
    c.nsec = this.nsec;
    c.ifindex = this.ifindex;
    c.pktType = this.pktType;
    c.linkType = this.linkType;
    c.epbFlags = this.epbFlags;
    c.dropCount = this.dropCount;
    c.section = this.section;
    c.interfaceIndex = this.interfaceIndex;
    c.fileOffset = this.fileOffset;
    return c;
  }
}
