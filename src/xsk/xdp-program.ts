/**
 * The XDP program of an AF_XDP capture, made by the filter language: the
 * placement (lang/place.ts) lowers the tcpdump expression for frames as XDP
 * sees them (VLAN tags in the bytes) and asks the XDP target whether it can
 * run it; the eBPF code generator (lang/ebpf/codegen.ts) then emits the test
 * with this module's `epilogue` at the match label:
 *
 *   match  -> bpf_redirect_map(xskmap, ctx->rx_queue_index, XDP_PASS)
 *   miss   -> XDP_PASS (the frame goes up the stack untouched)
 *
 * A load outside the frame or a division by zero is a miss, as in classic
 * BPF. The code generator keeps r9 free, so the context pointer is saved
 * there by one instruction put before the generated program (jumps are
 * relative, so nothing else moves).
 */
import { NetringError } from '../errors.js';
import { E_ALU64, E_MOV, E_W, E_X, HELPER, R1, R2, R3, R9, encodeEbpf, type EbpfInsn } from '../bpf/ebpf.js';
import { EAsm } from '../bpf/easm.js';
import { generate, XDP } from '../lang/ebpf/codegen.js';
import { place } from '../lang/place.js';
import { XDP_MD_RX_QUEUE_INDEX } from './abi.js';

/** r9 = ctx (the instruction put before the generated program). */
const SAVE_CTX: EbpfInsn = { code: E_ALU64 | E_MOV | E_X, dst: R9, src: R1, off: 0, imm: 0 };

/** The match path: redirect into the XSKMAP slot of the frame's RX queue (XDP_PASS when the slot is empty). */
function redirect(a: EAsm, xskMapFd: number): void {
  a.ldx(E_W, R2, R9, XDP_MD_RX_QUEUE_INDEX);
  a.ldMap(R1, xskMapFd);
  a.mov64(R3, XDP.PASS);
  a.call(HELPER.redirect_map);
  a.exit();
}

/**
 * The eBPF instructions of the XDP program: the tcpdump expression `filter`
 * (every frame when undefined) placed on the XDP target, matches redirected
 * into `xskMapFd`, the rest passed. Throws EFILTER with one line when the
 * expression cannot run in XDP, LangError when it does not parse.
 */
export function xdpRedirectInsns(xskMapFd: number, filter?: string): EbpfInsn[] {
  if (filter === undefined) {
    const a = new EAsm();
    redirect(a, xskMapFd);
    return [SAVE_CTX, ...a.assemble()];
  }
  if (typeof filter !== 'string') throw new NetringError('the XDP filter is a tcpdump expression (a string)', 'EINVAL');
  const p = place(filter, { mode: 'file', targets: ['xdp'], language: 'tcpdump' });
  if (p.kernelTarget !== 'xdp' || p.dag === null) {
    const why = p.answers.find((x) => x.target === 'xdp')?.why ?? 'no XDP backend';
    throw new NetringError(`"${filter}" cannot run in XDP: ${why}`, 'EFILTER');
  }
  const prog = generate(p.dag, { hook: 'xdp', onMiss: XDP.PASS, epilogue: (a) => redirect(a, xskMapFd) });
  return [SAVE_CTX, ...prog.insns];
}

/** {@link xdpRedirectInsns} encoded for BPF_PROG_LOAD. */
export function xdpRedirectProgram(xskMapFd: number, filter?: string): Uint8Array {
  return encodeEbpf(xdpRedirectInsns(xskMapFd, filter));
}
