/** Machine-readable reason carried by every {@link PcapFormatError}. */
export type PcapErrorCode =
  /** The file ends in the middle of a header, block or record. */
  | 'TRUNCATED'
  /** The first bytes are neither a pcap magic nor a pcapng Section Header Block. */
  | 'BAD_MAGIC'
  /** A pcapng block length is not a multiple of 4, too small, too large, or its copies differ. */
  | 'BAD_BLOCK_LENGTH'
  /** A record's captured length is larger than the reader's hard limit or than its block. */
  | 'BAD_CAPLEN'
  /** A record's captured length exceeds the file's or interface's snapshot length. */
  | 'CAPLEN_EXCEEDS_SNAPLEN'
  /** A pcap or pcapng major version this reader does not understand. */
  | 'BAD_VERSION'
  /** A packet block names an interface that no Interface Description Block defined. */
  | 'BAD_INTERFACE'
  /** A pcapng option runs past the end of its block. */
  | 'BAD_OPTION';

/**
 * A capture file is truncated or corrupt. Raised by the pcap/pcapng readers
 * (never any other exception type for bad bytes). `offset` is the absolute
 * byte offset in the file of the header, block or record that is wrong.
 */
export class PcapFormatError extends Error {
  /** Why the file was refused. */
  readonly code: PcapErrorCode;
  /** Absolute byte offset in the file where the offending structure starts. */
  readonly offset: number;

  constructor(code: PcapErrorCode, offset: number, message: string) {
    super(`${message} (${code} at byte offset ${offset})`);
    this.name = 'PcapFormatError';
    this.code = code;
    this.offset = offset;
  }
}
