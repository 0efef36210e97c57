/**
 * AF_XDP kernel ABI (linux/if_xdp.h, linux/bpf.h): socket options, bind
 * flags, ring mapping offsets, and the byte layouts netring reads in place.
 * @internal
 */

export const AF_XDP = 44;
export const SOL_XDP = 283;

// setsockopt/getsockopt(SOL_XDP, ...)
export const XDP_MMAP_OFFSETS = 1;
export const XDP_RX_RING = 2;
export const XDP_TX_RING = 3;
export const XDP_UMEM_REG = 4;
export const XDP_UMEM_FILL_RING = 5;
export const XDP_UMEM_COMPLETION_RING = 6;
export const XDP_STATISTICS = 7;
export const XDP_OPTIONS = 8;
/** XDP_OPTIONS flag: the socket runs in zero-copy mode. */
export const XDP_OPTIONS_ZEROCOPY = 1;

// sockaddr_xdp.sxdp_flags
export const XDP_SHARED_UMEM = 1;
export const XDP_COPY = 2;
export const XDP_ZEROCOPY = 4;
export const XDP_USE_NEED_WAKEUP = 8;

/** Ring flags word: the kernel wants a syscall to make progress. */
export const XDP_RING_NEED_WAKEUP = 1;

// mmap page offsets of the four rings
export const XDP_PGOFF_RX_RING = 0;
export const XDP_PGOFF_TX_RING = 0x80000000;
export const XDP_UMEM_PGOFF_FILL_RING = 0x100000000;
export const XDP_UMEM_PGOFF_COMPLETION_RING = 0x180000000;

/** Headroom the kernel leaves before the frame in every chunk (XDP_PACKET_HEADROOM). */
export const XDP_PACKET_HEADROOM = 256;

/** struct xdp_desc { u64 addr; u32 len; u32 options; } */
export const DESC_SIZE = 16;

/** struct xdp_statistics, u64 fields in this order. */
export const STAT_FIELDS = [
  'rxDropped', 'rxInvalidDescs', 'txInvalidDescs', 'rxRingFull', 'rxFillRingEmptyDescs', 'txRingEmptyDescs',
] as const;

// Socket-level busy polling
export const SO_BUSY_POLL = 46;
export const SO_PREFER_BUSY_POLL = 69;
export const SO_BUSY_POLL_BUDGET = 70;

// bpf()
export const BPF_MAP_TYPE_XSKMAP = 17;
export const BPF_PROG_TYPE_XDP = 6;
/** attach type of an XDP link */
export const BPF_XDP = 37;
/** IFLA_XDP / link flags */
export const XDP_FLAGS_SKB_MODE = 2;
export const XDP_FLAGS_DRV_MODE = 4;

// XDP verdicts
export const XDP_ABORTED = 0;
export const XDP_DROP = 1;
export const XDP_PASS = 2;
export const XDP_TX = 3;
export const XDP_REDIRECT = 4;

// struct xdp_md field offsets
export const XDP_MD_DATA = 0;
export const XDP_MD_DATA_END = 4;
export const XDP_MD_RX_QUEUE_INDEX = 16;

/** Where the producer, consumer, descriptors and flags of one ring are in its mapping. */
export interface RingOffsets {
  producer: number;
  consumer: number;
  desc: number;
  flags: number;
}

/** XDP_MMAP_OFFSETS for the four rings. */
export interface MmapOffsets {
  rx: RingOffsets;
  tx: RingOffsets;
  fill: RingOffsets;
  completion: RingOffsets;
}

/** Parse struct xdp_mmap_offsets (4 x {producer, consumer, desc, flags} u64) as read by getsockopt. */
export function parseMmapOffsets(raw: BigUint64Array): MmapOffsets {
  const ring = (i: number): RingOffsets => ({
    producer: Number(raw[i * 4]), consumer: Number(raw[i * 4 + 1]), desc: Number(raw[i * 4 + 2]), flags: Number(raw[i * 4 + 3]),
  });
  return { rx: ring(0), tx: ring(1), fill: ring(2), completion: ring(3) };
}
