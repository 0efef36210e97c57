/**
 * OSI network layer over LLC (SAP 0xfe): the first byte after the LLC
 * header is the network layer protocol id (NLPID): CLNP, ES-IS or IS-IS.
 * An IS-IS PDU starts with an 8-byte common header whose byte 4 is the PDU
 * type. Layout only: the filter compiler reads these headers, the decoder
 * does not decode them.
 */

/** Network layer protocol ids (ISO/IEC TR 9577). */
export const enum Nlpid { CLNP = 0x81, ESIS = 0x82, ISIS = 0x83 }

/** Field offsets within the IS-IS common header. */
export const enum IsisField { Nlpid = 0, HeaderLength = 1, Version = 2, IdLength = 3, PduType = 4, Version2 = 5, MaxAreas = 7 }
/** Length of the IS-IS common header. */
export const ISIS_COMMON_HEADER_LEN = 8;

/** IS-IS PDU types (ISO 10589). */
export const enum IsisPdu {
  L1LanIih = 15, L2LanIih = 16, PtpIih = 17, L1Lsp = 18, L2Lsp = 20, L1Csnp = 24, L2Csnp = 25, L1Psnp = 26, L2Psnp = 27,
}

/** The PDU types libpcap's IS-IS keywords match (`l1`, `l2`, `iih`, `lsp`, `snp`, `csnp`, `psnp`). */
export const ISIS_PDU_CLASSES: Readonly<Record<string, readonly number[]>> = {
  l1: [IsisPdu.L1LanIih, IsisPdu.PtpIih, IsisPdu.L1Lsp, IsisPdu.L1Csnp, IsisPdu.L1Psnp],
  l2: [IsisPdu.L2LanIih, IsisPdu.PtpIih, IsisPdu.L2Lsp, IsisPdu.L2Csnp, IsisPdu.L2Psnp],
  iih: [IsisPdu.L1LanIih, IsisPdu.L2LanIih, IsisPdu.PtpIih],
  lsp: [IsisPdu.L1Lsp, IsisPdu.L2Lsp],
  snp: [IsisPdu.L1Csnp, IsisPdu.L2Csnp, IsisPdu.L1Psnp, IsisPdu.L2Psnp],
  csnp: [IsisPdu.L1Csnp, IsisPdu.L2Csnp],
  psnp: [IsisPdu.L1Psnp, IsisPdu.L2Psnp],
};
