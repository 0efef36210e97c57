import { PcapWriter, type PcapWriterOptions } from './pcap-writer.js';
import { PcapngWriter, type PcapngWriterOptions } from './pcapng-writer.js';
import type { WriteTarget } from './sink.js';
import type { CaptureWriter } from './writer-types.js';

/** Output file formats. */
export type CaptureFormat = 'pcap' | 'pcapng';

/**
 * Picks the output format: `explicit` (the CLI's `--format`) when given,
 * else from the file extension (.pcap, .cap, .dmp = pcap; .pcapng, .ntar
 * or anything else = pcapng, the default; stdout '-' = pcapng).
 */
export function chooseFormat(path: WriteTarget, explicit?: string): CaptureFormat {
  if (explicit !== undefined) {
    const f = explicit.toLowerCase();
    if (f === 'pcap' || f === 'pcapng') return f;
    throw new RangeError(`unknown capture format '${explicit}' (expected pcap or pcapng)`);
  }
  if (typeof path !== 'string') return 'pcapng';
  const m = /\.([A-Za-z0-9]+)$/.exec(path);
  const ext = m ? m[1].toLowerCase() : '';
  return ext === 'pcap' || ext === 'cap' || ext === 'dmp' ? 'pcap' : 'pcapng';
}

/** Options of {@link openCaptureWriter}: the union of both writers' options. */
export type CaptureWriterOptions = PcapWriterOptions & PcapngWriterOptions & { format?: string };

/**
 * Opens a writer for `target` (path, '-' = stdout, or fd) in the format
 * chosen by {@link chooseFormat}. `precision` applies to both formats
 * (pcap: magic; pcapng: if_tsresol), nanoseconds by default.
 */
export function openCaptureWriter(target: WriteTarget, options: CaptureWriterOptions = {}): CaptureWriter {
  return chooseFormat(target, options.format) === 'pcap'
    ? new PcapWriter(target, options)
    : new PcapngWriter(target, options);
}
