import type { PacketLike } from '../packet-like.js';

/**
 * Interface statistics for a pcapng Interface Statistics Block (ISB).
 * Counts are plain numbers (exact below 2^53). Omitted fields are not
 * written. Start/end default to the first/last packet timestamps written on
 * that interface.
 */
export interface WriterStatistics {
  /** isb_ifrecv: packets the capture saw (kernel tp_packets, cumulative). */
  received?: number;
  /** isb_ifdrop: packets dropped by the capture (kernel tp_drops, cumulative). */
  dropped?: number;
  /** isb_filteraccept: packets accepted by the filter. */
  filterAccept?: number;
  /** isb_osdrop: packets dropped by the operating system. */
  osDrop?: number;
  /** isb_usrdeliv: packets delivered to the user. */
  delivered?: number;
  /** isb_starttime seconds/nanoseconds; defaults to the first packet written. */
  startSec?: number;
  startNsec?: number;
  /** isb_endtime seconds/nanoseconds; defaults to the last packet written. */
  endSec?: number;
  endNsec?: number;
}

/** Common surface of {@link PcapWriter} and {@link PcapngWriter}. */
export interface CaptureWriter {
  /** 'pcap' or 'pcapng'. */
  readonly format: 'pcap' | 'pcapng';
  /** Packet records written so far. */
  readonly packets: number;
  /** Total bytes produced so far (flushed or still buffered). */
  readonly bytes: number;
  /** True after `close()`. */
  readonly closed: boolean;
  /**
   * Appends one packet, copied into the output buffer in 8-byte words; no
   * allocation at any frame length.
   * @param data backing store; the frame is `data[offset, offset + caplen)`
   * @param wireLen length on the wire, written as given (files may hold less than caplen, even 0)
   * @param sec,nsec timestamp
   * @param vlanTci VLAN TCI to re-insert after the MAC addresses, or -1 for none
   * @param vlanTpid TPID of that tag (0 means 0x8100)
   * @param ifaceId pcapng interface id (ignored by pcap)
   * @param epbFlags pcapng epb_flags (direction, reception type); 0 writes none (ignored by pcap)
   */
  write(
    data: Uint8Array, offset: number, caplen: number, wireLen: number, sec: number, nsec: number,
    vlanTci?: number, vlanTpid?: number, ifaceId?: number, epbFlags?: number,
  ): void;
  /**
   * Appends a {@link PacketLike} (ring slot or file record), re-inserting its
   * VLAN tag when `vlanValid`, with pcapng direction flags from `pktType`
   * when the source knows it.
   */
  writePacket(p: PacketLike, ifaceId?: number): void;
  /** Writes interface statistics now (pcapng ISB). Returns false when the format has no place for them (pcap). */
  writeStatistics(stats: WriterStatistics, ifaceId?: number): boolean;
  /**
   * Registers a function called by `close()` whose result is written as the
   * final statistics (pcapng ISB), so kernel drop counts land in the file.
   */
  setStatisticsSource(source: (() => WriterStatistics | undefined) | null, ifaceId?: number): void;
  /** Pushes buffered bytes to the file descriptor. */
  flush(): void;
  /** Writes final statistics (if any source), flushes and closes. Idempotent. */
  close(): void;
}

/** Packet sources that carry the direction flags of a pcapng file (netring's file records). */
export interface HasEpbFlags {
  /** Raw epb_flags of the record, -1 when the source had none. */
  readonly epbFlags: number;
}
