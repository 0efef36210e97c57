/*
 * xsk_loop: the C AF_XDP receiver of bench/capture.sh. Raw syscalls only (no
 * libxdp/libbpf): the same set-up netring does (UMEM, four rings mapped, an
 * XSKMAP and a 5-instruction redirect program attached through a BPF link,
 * bind in copy mode with XDP_USE_NEED_WAKEUP), then a loop that only counts:
 * take up to BATCH RX descriptors, add their lengths, put their frames back
 * on the fill ring, release. poll() when the RX ring is empty, recvfrom()
 * when the fill ring asks for a wakeup.
 *
 *   xsk_loop IFACE [-q queue] [-b batch] [-r rx_ring] [-f fill_ring] [-z (zero-copy)]
 *
 * Contract of bench/capture.sh: "READY" on stderr once bound; on SIGINT/SIGTERM
 *   RESULT packets=N bytes=N kernel_drops=N fill_empty=N
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/bpf.h>
#include <linux/if_link.h>
#include <linux/if_xdp.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SOL_XDP
#define SOL_XDP 283
#endif
#define FRAME 4096u

static volatile sig_atomic_t stop;
static void on_sig(int s) { (void)s; stop = 1; }
static void fail(const char *what) { fprintf(stderr, "xsk_loop: %s: %s\n", what, strerror(errno)); exit(1); }

static long bpf(int cmd, union bpf_attr *a) { return syscall(__NR_bpf, cmd, a, sizeof *a); }

struct ring {
  uint32_t *prod, *cons, *flags;
  void *desc;
  uint32_t mask;
};

static void map_ring(int fd, struct ring *r, const struct xdp_ring_offset *o, uint32_t n, size_t entry, off_t pgoff) {
  size_t len = o->desc + n * entry;
  char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, pgoff);
  if (m == MAP_FAILED) fail("mmap ring");
  r->prod = (uint32_t *)(m + o->producer);
  r->cons = (uint32_t *)(m + o->consumer);
  r->flags = (uint32_t *)(m + o->flags);
  r->desc = m + o->desc;
  r->mask = n - 1;
}

int main(int argc, char **argv) {
  if (argc < 2) { fprintf(stderr, "usage: xsk_loop IFACE [-q queue] [-b batch] [-r rx] [-f fill] [-z]\n"); return 2; }
  const char *ifname = argv[1];
  unsigned queue = 0, batch = 256, rx_n = 2048, fill_n = 4096, zc = 0;
  int opt;
  optind = 2;
  while ((opt = getopt(argc, argv, "q:b:r:f:z")) != -1) {
    if (opt == 'q') queue = strtoul(optarg, NULL, 0);
    else if (opt == 'b') batch = strtoul(optarg, NULL, 0);
    else if (opt == 'r') rx_n = strtoul(optarg, NULL, 0);
    else if (opt == 'f') fill_n = strtoul(optarg, NULL, 0);
    else if (opt == 'z') zc = 1;
    else return 2;
  }
  unsigned ifindex = if_nametoindex(ifname);
  if (!ifindex) fail("if_nametoindex");
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_sig;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);

  unsigned frames = fill_n; /* every frame fits the fill ring: a returned frame always has a slot */
  size_t umem_len = (size_t)frames * FRAME;
  void *umem = mmap(NULL, umem_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
  if (umem == MAP_FAILED) fail("mmap umem");
  int fd = socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC, 0);
  if (fd < 0) fail("socket(AF_XDP)");
  struct xdp_umem_reg reg = {.addr = (uintptr_t)umem, .len = umem_len, .chunk_size = FRAME, .headroom = 0};
  if (setsockopt(fd, SOL_XDP, XDP_UMEM_REG, &reg, sizeof reg)) fail("XDP_UMEM_REG");
  unsigned comp_n = 64;
  if (setsockopt(fd, SOL_XDP, XDP_UMEM_FILL_RING, &fill_n, sizeof fill_n)) fail("fill ring");
  if (setsockopt(fd, SOL_XDP, XDP_UMEM_COMPLETION_RING, &comp_n, sizeof comp_n)) fail("completion ring");
  if (setsockopt(fd, SOL_XDP, XDP_RX_RING, &rx_n, sizeof rx_n)) fail("rx ring");
  struct xdp_mmap_offsets off;
  socklen_t ol = sizeof off;
  if (getsockopt(fd, SOL_XDP, XDP_MMAP_OFFSETS, &off, &ol)) fail("XDP_MMAP_OFFSETS");
  struct ring fq, rx;
  map_ring(fd, &fq, &off.fr, fill_n, sizeof(uint64_t), XDP_UMEM_PGOFF_FILL_RING);
  map_ring(fd, &rx, &off.rx, rx_n, sizeof(struct xdp_desc), XDP_PGOFF_RX_RING);

  /* stock the fill ring with every frame */
  uint64_t *fqa = fq.desc;
  for (unsigned i = 0; i < fill_n; i++) fqa[i] = (uint64_t)i * FRAME;
  __atomic_store_n(fq.prod, fill_n, __ATOMIC_RELEASE);

  struct sockaddr_xdp sx = {.sxdp_family = AF_XDP, .sxdp_ifindex = ifindex, .sxdp_queue_id = queue,
                            .sxdp_flags = (zc ? XDP_ZEROCOPY : XDP_COPY) | XDP_USE_NEED_WAKEUP};
  if (bind(fd, (struct sockaddr *)&sx, sizeof sx)) fail("bind(AF_XDP)");

  /* XSKMAP + redirect program: r2 = ctx->rx_queue_index; return bpf_redirect_map(map, r2, XDP_PASS) */
  union bpf_attr a;
  memset(&a, 0, sizeof a);
  a.map_type = BPF_MAP_TYPE_XSKMAP; a.key_size = 4; a.value_size = 4; a.max_entries = queue + 1;
  int map = (int)bpf(BPF_MAP_CREATE, &a);
  if (map < 0) fail("XSKMAP");
  struct bpf_insn prog[] = {
    {.code = BPF_LDX | BPF_MEM | BPF_W, .dst_reg = 2, .src_reg = 1, .off = 16},
    {.code = BPF_LD | BPF_IMM | BPF_DW, .dst_reg = 1, .src_reg = BPF_PSEUDO_MAP_FD, .imm = map},
    {0},
    {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 3, .imm = XDP_PASS},
    {.code = BPF_JMP | BPF_CALL, .imm = BPF_FUNC_redirect_map},
    {.code = BPF_JMP | BPF_EXIT},
  };
  memset(&a, 0, sizeof a);
  a.prog_type = BPF_PROG_TYPE_XDP;
  a.insns = (uintptr_t)prog;
  a.insn_cnt = sizeof prog / sizeof prog[0];
  a.license = (uintptr_t)"GPL";
  int pfd = (int)bpf(BPF_PROG_LOAD, &a);
  if (pfd < 0) fail("BPF_PROG_LOAD");
  memset(&a, 0, sizeof a);
  a.link_create.prog_fd = pfd; a.link_create.target_ifindex = ifindex; a.link_create.attach_type = BPF_XDP;
  a.link_create.flags = XDP_FLAGS_DRV_MODE;
  int link = (int)bpf(BPF_LINK_CREATE, &a);
  if (link < 0) fail("BPF_LINK_CREATE");
  uint32_t k = queue, v = (uint32_t)fd;
  memset(&a, 0, sizeof a);
  a.map_fd = map; a.key = (uintptr_t)&k; a.value = (uintptr_t)&v;
  if (bpf(BPF_MAP_UPDATE_ELEM, &a)) fail("XSKMAP update");
  fprintf(stderr, "READY\n");

  unsigned long long pkts = 0, bytes = 0;
  uint32_t cons = *rx.cons, fprod = fill_n;
  struct xdp_desc *rd = rx.desc;
  struct pollfd pfd2 = {.fd = fd, .events = POLLIN};
  while (!stop) {
    uint32_t avail = __atomic_load_n(rx.prod, __ATOMIC_ACQUIRE) - cons;
    if (avail == 0) {
      if (__atomic_load_n(fq.flags, __ATOMIC_RELAXED) & XDP_RING_NEED_WAKEUP) recvfrom(fd, NULL, 0, MSG_DONTWAIT, NULL, NULL);
      poll(&pfd2, 1, 100);
      continue;
    }
    if (avail > batch) avail = batch;
    /* the fill ring has room: it holds every frame and only frames taken off the RX ring come back */
    for (uint32_t i = 0; i < avail; i++) {
      const struct xdp_desc *d = &rd[(cons + i) & rx.mask];
      bytes += d->len;
      fqa[(fprod + i) & fq.mask] = d->addr & ~(uint64_t)(FRAME - 1);
    }
    fprod += avail;
    __atomic_store_n(fq.prod, fprod, __ATOMIC_RELEASE);
    cons += avail;
    __atomic_store_n(rx.cons, cons, __ATOMIC_RELEASE);
    pkts += avail;
  }
  struct xdp_statistics st;
  socklen_t sl = sizeof st;
  memset(&st, 0, sizeof st);
  getsockopt(fd, SOL_XDP, XDP_STATISTICS, &st, &sl);
  close(link); /* detach before the socket goes */
  printf("RESULT packets=%llu bytes=%llu kernel_drops=%llu fill_empty=%llu\n", pkts, bytes,
         (unsigned long long)(st.rx_dropped + st.rx_ring_full + st.rx_invalid_descs), (unsigned long long)st.rx_fill_ring_empty_descs);
  fflush(stdout);
  close(fd);
  return 0;
}
