/**
 * Geneve (RFC 8926): an 8-byte header after UDP (port 6081), then options
 * (length in 4-byte words), then the payload the protocol type names (an
 * Ethernet frame for 0x6558, transparent Ethernet bridging). Byte 0: version
 * (2 bits) and option length (6 bits); bytes 2..3 protocol type; bytes 4..6
 * VNI. Layout only: the filter compiler reads Geneve headers, the decoder
 * does not decode them.
 */

/** Geneve base header length (before the options). */
export const GENEVE_HEADER_LEN = 8;
/** IANA UDP port for Geneve. */
export const GENEVE_PORT = 6081;

/** Field offsets within the Geneve header. */
export const enum GeneveField { VersionOptLen = 0, Flags = 1, ProtocolType = 2, Vni = 4, Options = 8 }
/** The version bits of byte 0. */
export const GENEVE_VERSION_MASK = 0xc0;
/** The option length bits of byte 0 (in 4-byte words). */
export const GENEVE_OPTLEN_MASK = 0x3f;
