/* ring_loop: netring's C reference receiver. An AF_PACKET TPACKET_V3 RX ring
 * (same defaults as netring: 64 blocks of 1 MiB, 10 ms retire timeout, full
 * frames, promiscuous), walked block by block: for every packet it reads the
 * tpacket3_hdr (tp_len, tp_next_offset); with -T it also reads the IPv4/UDP
 * 5-tuple bytes of the frame. Nothing else: the lower bound of what a
 * user-space TPACKET_V3 receiver costs per packet.
 *
 * usage: ring_loop IFNAME [-T] [-b block_bytes] [-n blocks] [-t tov_ms]
 * Contract of bench/capture.sh: "READY" on stderr once bound; on SIGINT or
 * SIGTERM one line on stdout:
 *   RESULT packets=<n> bytes=<n> kernel_packets=<n> kernel_drops=<n>
 * Build: gcc -O2 -Wall -o ring_loop bench/ring_loop.c
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

static volatile sig_atomic_t stop;
static void on_signal(int sig) { (void)sig; stop = 1; }
static void die(const char *what) { perror(what); exit(1); }

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s IFNAME [-T] [-b block_bytes] [-n blocks] [-t tov_ms]\n", argv[0]);
    return 2;
  }
  const char *ifname = argv[1];
  unsigned blk = 1u << 20, nblk = 64, tov = 10, touch = 0;
  int opt;
  optind = 2;
  while ((opt = getopt(argc, argv, "Tb:n:t:")) != -1) {
    switch (opt) {
      case 'T': touch = 1; break;
      case 'b': blk = (unsigned)strtoul(optarg, NULL, 0); break;
      case 'n': nblk = (unsigned)strtoul(optarg, NULL, 0); break;
      case 't': tov = (unsigned)strtoul(optarg, NULL, 0); break;
      default: return 2;
    }
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal; /* no SA_RESTART: poll() returns EINTR */
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);

  int ifindex = (int)if_nametoindex(ifname);
  if (!ifindex) die("if_nametoindex");
  /* protocol 0: nothing is queued before the ring exists and bind() runs */
  int fd = socket(AF_PACKET, SOCK_RAW, 0);
  if (fd < 0) die("socket(AF_PACKET)");
  int ver = TPACKET_V3;
  if (setsockopt(fd, SOL_PACKET, PACKET_VERSION, &ver, sizeof ver) < 0) die("PACKET_VERSION");
  struct tpacket_req3 req;
  memset(&req, 0, sizeof req);
  req.tp_block_size = blk;
  req.tp_block_nr = nblk;
  req.tp_frame_size = 2048;
  req.tp_frame_nr = (blk / 2048) * nblk;
  req.tp_retire_blk_tov = tov;
  if (setsockopt(fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof req) < 0) die("PACKET_RX_RING");
  uint8_t *ring = mmap(NULL, (size_t)blk * nblk, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0);
  if (ring == MAP_FAILED) die("mmap");
  struct sockaddr_ll sll;
  memset(&sll, 0, sizeof sll);
  sll.sll_family = AF_PACKET;
  sll.sll_protocol = htons(ETH_P_ALL);
  sll.sll_ifindex = ifindex;
  if (bind(fd, (struct sockaddr *)&sll, sizeof sll) < 0) die("bind");
  struct packet_mreq mr;
  memset(&mr, 0, sizeof mr);
  mr.mr_ifindex = ifindex;
  mr.mr_type = PACKET_MR_PROMISC;
  if (setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof mr) < 0) die("PACKET_ADD_MEMBERSHIP");
  fprintf(stderr, "READY ring_loop %s%s\n", ifname, touch ? " touch" : "");

  unsigned long long pkts = 0, bytes = 0, polls = 0;
  uint32_t sink = 0;
  unsigned cur = 0;
  struct pollfd pfd = {.fd = fd, .events = POLLIN | POLLERR};
  while (!stop) {
    struct tpacket_block_desc *bd = (void *)(ring + (size_t)cur * blk);
    if (!(__atomic_load_n(&bd->hdr.bh1.block_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER)) {
      polls++;
      poll(&pfd, 1, 100);
      continue;
    }
    uint32_t n = bd->hdr.bh1.num_pkts;
    const uint8_t *h = (const uint8_t *)bd + bd->hdr.bh1.offset_to_first_pkt;
    for (uint32_t i = 0; i < n; i++) {
      const struct tpacket3_hdr *ph = (const void *)h;
      bytes += ph->tp_len;
      if (touch && ph->tp_snaplen >= 42) {
        const uint8_t *f = h + ph->tp_mac;
        uint32_t x;
        memcpy(&x, f + 26, 4); sink ^= x; /* saddr */
        memcpy(&x, f + 30, 4); sink ^= x; /* daddr */
        memcpy(&x, f + 34, 4); sink ^= x; /* sport, dport */
        sink ^= f[23];                    /* protocol */
      }
      h += ph->tp_next_offset;
    }
    pkts += n;
    __atomic_store_n(&bd->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
    cur = cur + 1 == nblk ? 0 : cur + 1;
  }
  struct tpacket_stats_v3 st;
  socklen_t l = sizeof st;
  memset(&st, 0, sizeof st);
  getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &st, &l);
  fprintf(stderr, "polls=%llu sink=%u\n", polls, sink);
  printf("RESULT packets=%llu bytes=%llu kernel_packets=%u kernel_drops=%u\n", pkts, bytes, st.tp_packets, st.tp_drops);
  fflush(stdout);
  return 0;
}
