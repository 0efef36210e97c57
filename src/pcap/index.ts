/**
 * netring pcap/pcapng files.
 *
 * Writing: {@link PcapWriter} (classic pcap, nanosecond magic by default) and
 * {@link PcapngWriter} (SHB, IDB with if_name and if_tsresol = 9, EPB with
 * epb_flags, ISB with the kernel's drop counts) stream through one reusable
 * buffer; `write(data, offset, caplen, wireLen, sec, nsec, ...)` copies a
 * frame without allocating, `writePacket(p)` takes any {@link PacketLike}
 * and re-inserts a VLAN tag the device moved into metadata, as libpcap does.
 * {@link openCaptureWriter} picks the format from the extension or
 * `--format`; {@link installSignalFlush} keeps the file valid on SIGINT/SIGTERM.
 *
 * Writing from a live ring: {@link RingFileWriter} never touches packet
 * bytes in JS. Per retired block it builds the record headers in a reused
 * arena and a gather table over the ring ({@link BlockTable}), and one native
 * writev puts headers and packet bytes in the file (the kernel copies ring ->
 * page cache once). Same bytes as the copying writers; rotation with
 * tcpdump's -C/-G/-W rules ({@link Rotation}); each file valid alone.
 *
 * Reading: {@link openCaptureReader} autodetects pcap/pcapng and returns a
 * streaming reader (constant memory) that hands out ONE reused
 * {@link FileRecord} implementing PacketLike: `for (const rec of reader)`,
 * or `reader.next()` / `reader.forEach(fn)`. Bad bytes raise
 * {@link PcapFormatError} with a code and the byte offset; records before a
 * truncated final record are delivered first.
 *
 * @module
 */
export type { PacketLike } from '../packet-like.js';
export { LinkType, EpbFlags, BlockType, MAX_SNAPLEN, epbFlagsFromPktType, pktTypeFromEpbFlags } from './constants.js';
export { PcapFormatError, type PcapErrorCode } from './errors.js';
export type { CaptureWriter, WriterStatistics, HasEpbFlags } from './writer-types.js';
export { PcapWriter, type PcapWriterOptions } from './pcap-writer.js';
export { PcapngWriter, type PcapngWriterOptions, type PcapngInterfaceSpec } from './pcapng-writer.js';
export { chooseFormat, openCaptureWriter, type CaptureFormat, type CaptureWriterOptions } from './format.js';
export { installSignalFlush, type SignalFlushOptions } from './signal-flush.js';
export { RingFileWriter, type RingFileWriterOptions } from './ring-writer.js';
export { BlockTable, type BlockTableFormat } from './block-table.js';
export { CaptureFile, CaptureFileError, fileError, type CaptureFileFormat } from './capture-file.js';
export { RotatingWriter, type RotatingWriterOptions } from './rotating-writer.js';
export { PcapngFollower } from './follow.js';
export { Rotation, rotationName, strftime, type RotationOptions, type RotationStep } from './rotation.js';
export type { WriteTarget } from './sink.js';
export type { ReadSource } from './source.js';
export { FileRecord } from './record.js';
export {
  CaptureReaderBase, type ReaderOptions, type ReaderWarning, type FileInterface, type FileStatistics, type FileSection,
} from './reader-types.js';
export { PcapReader } from './pcap-reader.js';
export { PcapngReader } from './pcapng-reader.js';
export { openCaptureReader, type CaptureReader } from './open-reader.js';
export { TsResolution } from './time.js';
