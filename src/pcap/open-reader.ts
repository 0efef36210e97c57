import { BlockType, PCAP_MAGIC_MODIFIED, PCAP_MAGIC_NSEC, PCAP_MAGIC_USEC } from './constants.js';
import { PcapFormatError } from './errors.js';
import { PcapReader } from './pcap-reader.js';
import { PcapngReader } from './pcapng-reader.js';
import type { ReaderOptions } from './reader-types.js';
import { ByteSource, type ReadSource } from './source.js';

/** A reader of either format. */
export type CaptureReader = PcapReader | PcapngReader;

const PCAP_MAGICS = new Set<number>([PCAP_MAGIC_USEC, PCAP_MAGIC_NSEC, PCAP_MAGIC_MODIFIED]);

/**
 * Opens a capture file and picks the reader from its first four bytes:
 * pcap (either magic, either byte order) or pcapng. `source` is a path,
 * '-' for stdin, an open file descriptor or the bytes themselves.
 * Throws {@link PcapFormatError} ('BAD_MAGIC', 'TRUNCATED', ...) for
 * anything else.
 */
export function openCaptureReader(source: ReadSource, options: ReaderOptions = {}): CaptureReader {
  const src = new ByteSource(source, options.bufferSize);
  try {
    const got = src.fill(4);
    if (got < 4) {
      throw new PcapFormatError('TRUNCATED', 0, `truncated capture file: the file header needs at least 4 bytes, only ${got} left`);
    }
    const le = src.view.getUint32(src.start, true);
    const be = src.view.getUint32(src.start, false);
    if (le === BlockType.SHB) return new PcapngReader(src, options);
    if (PCAP_MAGICS.has(le) || PCAP_MAGICS.has(be)) return new PcapReader(src, options);
    throw new PcapFormatError('BAD_MAGIC', 0, `not a pcap or pcapng file: it starts with 0x${be.toString(16).padStart(8, '0')}`);
  } catch (err) {
    src.close();
    throw err;
  }
}
