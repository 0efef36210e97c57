/*
 * AF_XDP sockets: the calls whose arguments carry a pointer or that map
 * memory. Everything else (ring sizes, XDP_MMAP_OFFSETS, XDP_STATISTICS,
 * busy-poll options) goes through the generic setsockopt/getsockopt, and the
 * ring walking is TypeScript over the mappings made here.
 *
 *   xskUmem(length)                              anonymous UMEM area -> ArrayBuffer
 *   xskUmemReg(fd, umem, chunkSize, headroom, flags)   XDP_UMEM_REG
 *   xskMmapRing(fd, length, pgoff)               one of the four rings -> ArrayBuffer
 *   xskBind(fd, ifindex, queueId, flags, sharedUmemFd)
 *   xskKick(fd, 0 = recvfrom | 1 = sendto)       wake the driver, never blocks
 *
 * Memory rule (as for the TPACKET rings, mmap.c): every mapping is handed to
 * JS through nr_map_wrap and unmapped only by its finalizer. releaseMapping()
 * puts anonymous zero pages over a ring mapping so the socket is released
 * when its fd closes (a ring mapping holds a reference to the socket) while
 * views that JS still holds read zeros instead of faulting.
 */
#include "napi-util.h"

#include <errno.h>
#include <linux/if_xdp.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef SOL_XDP
#define SOL_XDP 283
#endif

#define XSK_PAGE 4096u
/* Upper bounds on what JS may ask for: 64 GiB of UMEM, 2 GiB per ring. */
#define XSK_MAX_UMEM (64ull << 30)
#define XSK_MAX_RING (2ull << 30)

/* The UMEM behind an ArrayBuffer argument (its address and length), or 0 with a TypeError pending. */
static int arg_umem(napi_env env, napi_value v, void **addr, size_t *len) {
  int kind = nr_map_find(env, v, addr, len);
  if (kind == -2) return 0;
  if (kind != NR_MAP_XSK_UMEM) { napi_throw_type_error(env, NULL, "expected the ArrayBuffer made by xskUmem()"); return 0; }
  return 1;
}

static int arg_len(napi_env env, napi_value v, unsigned long long max, size_t *out) {
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok) { napi_throw_type_error(env, NULL, "expected a length"); return 0; }
  if (!(d >= XSK_PAGE) || d > (double)max || d != (double)(unsigned long long)d || ((unsigned long long)d % XSK_PAGE) != 0) {
    nr_throw_range(env, "length must be a positive multiple of 4096 within the limit");
    return 0;
  }
  *out = (size_t)d;
  return 1;
}

/* xskUmem(length): private anonymous memory, pre-faulted, as an ArrayBuffer. */
static napi_value n_xsk_umem(napi_env env, napi_callback_info info) {
  ARGS(1);
  size_t len;
  if (!arg_len(env, argv[0], XSK_MAX_UMEM, &len)) return NULL;
  void *addr = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
  if (addr == MAP_FAILED) { nr_throw_errno(env, "mmap(UMEM)", errno); return NULL; }
  return nr_map_wrap(env, addr, len, NR_MAP_XSK_UMEM);
}

/* xskUmemReg(fd, umem, chunkSize, headroom, flags): XDP_UMEM_REG over the whole area. */
static napi_value n_xsk_umem_reg(napi_env env, napi_callback_info info) {
  ARGS(5); I32(0, fd); U32(2, chunk); U32(3, headroom); U32(4, flags);
  void *addr; size_t len;
  if (!arg_umem(env, argv[1], &addr, &len)) return NULL;
  if (chunk < 2048 || chunk > XSK_PAGE || headroom >= chunk) {
    nr_throw_range(env, "chunkSize must be 2048..4096 and headroom below it");
    return NULL;
  }
  struct xdp_umem_reg r;
  memset(&r, 0, sizeof r);
  r.addr = (uint64_t)(uintptr_t)addr;
  r.len = len;
  r.chunk_size = chunk;
  r.headroom = headroom;
  r.flags = flags;
  if (setsockopt(fd, SOL_XDP, XDP_UMEM_REG, &r, sizeof r) < 0) { nr_throw_errno(env, "setsockopt(XDP_UMEM_REG)", errno); return NULL; }
  return nr_undef(env);
}

/* xskMmapRing(fd, length, pgoff): map one ring of the socket (pgoff is one of XDP_PGOFF_*). */
static napi_value n_xsk_mmap_ring(napi_env env, napi_callback_info info) {
  ARGS(3); I32(0, fd);
  size_t len;
  double dl;
  if (napi_get_value_double(env, argv[1], &dl) != napi_ok || !(dl >= 1) || dl > (double)XSK_MAX_RING || dl != (double)(size_t)dl) {
    nr_throw_range(env, "ring mapping length must be an integer in 1..2^31");
    return NULL;
  }
  len = (size_t)dl;
  double dp;
  CHECK(napi_get_value_double(env, argv[2], &dp));
  unsigned long long off = (unsigned long long)dp;
  if ((double)off != dp || (off != XDP_PGOFF_RX_RING && off != XDP_PGOFF_TX_RING && off != XDP_UMEM_PGOFF_FILL_RING &&
                            off != XDP_UMEM_PGOFF_COMPLETION_RING)) {
    nr_throw_range(env, "pgoff must be one of XDP_PGOFF_RX_RING, XDP_PGOFF_TX_RING, XDP_UMEM_PGOFF_FILL_RING, XDP_UMEM_PGOFF_COMPLETION_RING");
    return NULL;
  }
  void *addr = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, (off_t)off);
  if (addr == MAP_FAILED) { nr_throw_errno(env, "mmap(XDP ring)", errno); return NULL; }
  return nr_map_wrap(env, addr, len, NR_MAP_XSK_RING);
}

/* xskBind(fd, ifindex, queueId, flags, sharedUmemFd): bind(sockaddr_xdp). sharedUmemFd
 * is used only with XDP_SHARED_UMEM in flags. */
static napi_value n_xsk_bind(napi_env env, napi_callback_info info) {
  ARGS(5); I32(0, fd); U32(1, ifindex); U32(2, queue); U32(3, flags); I32(4, shared);
  if (flags & ~(uint32_t)(XDP_SHARED_UMEM | XDP_COPY | XDP_ZEROCOPY | XDP_USE_NEED_WAKEUP)) {
    nr_throw_range(env, "bind flags: only XDP_SHARED_UMEM, XDP_COPY, XDP_ZEROCOPY, XDP_USE_NEED_WAKEUP");
    return NULL;
  }
  if ((flags & XDP_SHARED_UMEM) && shared < 0) { nr_throw_range(env, "XDP_SHARED_UMEM needs the fd of the socket that owns the UMEM"); return NULL; }
  struct sockaddr_xdp sxdp;
  memset(&sxdp, 0, sizeof sxdp);
  sxdp.sxdp_family = AF_XDP;
  sxdp.sxdp_ifindex = ifindex;
  sxdp.sxdp_queue_id = queue;
  sxdp.sxdp_flags = (uint16_t)flags;
  if (flags & XDP_SHARED_UMEM) sxdp.sxdp_shared_umem_fd = (uint32_t)shared;
  if (bind(fd, (struct sockaddr *)&sxdp, sizeof sxdp) < 0) { nr_throw_errno(env, "bind(AF_XDP)", errno); return NULL; }
  return nr_undef(env);
}

/* xskKick(fd, which): which 0 = recvfrom(MSG_DONTWAIT) (fill ring / RX wakeup),
 * 1 = sendto(MSG_DONTWAIT) (TX). Returns 0, or -errno for the transient answers
 * (EAGAIN, EBUSY, ENOBUFS, ENETDOWN, EINTR); anything else throws. */
static napi_value n_xsk_kick(napi_env env, napi_callback_info info) {
  ARGS(2); I32(0, fd); I32(1, which);
  if (which != 0 && which != 1) { nr_throw_range(env, "which must be 0 (recvfrom) or 1 (sendto)"); return NULL; }
  ssize_t r = which == 0 ? recvfrom(fd, NULL, 0, MSG_DONTWAIT, NULL, NULL) : sendto(fd, NULL, 0, MSG_DONTWAIT, NULL, 0);
  if (r < 0) {
    int e = errno;
    if (e == EAGAIN || e == EBUSY || e == ENOBUFS || e == ENETDOWN || e == EINTR) return nr_num(env, -e);
    nr_throw_errno(env, which == 0 ? "recvfrom(AF_XDP)" : "sendto(AF_XDP)", e);
    return NULL;
  }
  return nr_num(env, 0);
}

void init_xsk(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    NR_FN("xskUmem", n_xsk_umem), NR_FN("xskUmemReg", n_xsk_umem_reg), NR_FN("xskMmapRing", n_xsk_mmap_ring),
    NR_FN("xskBind", n_xsk_bind), NR_FN("xskKick", n_xsk_kick),
  };
  NR_DEFINE(env, exports, props);
}
