/* engine.c: the C twin of bench/engine-walks.ts, over the very same
 * TPACKET_V3 ring image (written to a file by bench/engine.ts), so the two
 * languages walk identical bytes. Per pass: mark every block retired
 * (TP_STATUS_USER), then for each block in ring order check its status,
 * walk its packets through tp_next_offset, hand it back (TP_STATUS_KERNEL).
 *
 * usage: engine IMAGE BLOCK_SIZE BLOCK_COUNT PASSES TRIALS
 * Prints one JSON line per loop: {"name", "packets", "matches", "sink", "ns": [per trial]}
 * Build: gcc -O2 -o engine bench/engine.c
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MATCH_PORT 5001

struct pass { uint64_t packets, matches; uint32_t sink; };

static uint8_t *ring;
static size_t bsize, bcount;

static uint64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static void rearm(void) {
  for (size_t b = 0; b < bcount; b++) {
    struct tpacket_block_desc *bd = (void *)(ring + b * bsize);
    __atomic_store_n(&bd->hdr.bh1.block_status, TP_STATUS_USER, __ATOMIC_RELEASE);
  }
}

static inline uint32_t be32(const uint8_t *p) { uint32_t x; memcpy(&x, p, 4); return ntohl(x); }

/* count-only: every packet's tp_len (what bench/ring_loop.c does) */
static void walk_count(struct pass *r) {
  uint64_t n = 0, bytes = 0;
  for (size_t b = 0; b < bcount; b++) {
    struct tpacket_block_desc *bd = (void *)(ring + b * bsize);
    if (!(__atomic_load_n(&bd->hdr.bh1.block_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER)) break;
    uint32_t num = bd->hdr.bh1.num_pkts;
    const uint8_t *h = (const uint8_t *)bd + bd->hdr.bh1.offset_to_first_pkt;
    for (uint32_t i = 0; i < num; i++) {
      const struct tpacket3_hdr *ph = (const void *)h;
      bytes += ph->tp_len;
      h += ph->tp_next_offset;
    }
    n += num;
    __atomic_store_n(&bd->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
  }
  r->packets = n; r->matches = 0; r->sink = (uint32_t)bytes;
}

/* + IPv4/UDP 5-tuple and the filter `udp dst port 5001` (IHL-aware) */
static void walk_tuple(struct pass *r) {
  uint64_t n = 0, m = 0;
  uint32_t x = 0;
  for (size_t b = 0; b < bcount; b++) {
    struct tpacket_block_desc *bd = (void *)(ring + b * bsize);
    if (!(__atomic_load_n(&bd->hdr.bh1.block_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER)) break;
    uint32_t num = bd->hdr.bh1.num_pkts;
    const uint8_t *h = (const uint8_t *)bd + bd->hdr.bh1.offset_to_first_pkt;
    for (uint32_t i = 0; i < num; i++) {
      const struct tpacket3_hdr *ph = (const void *)h;
      const uint8_t *f = h + ph->tp_mac;
      n++;
      h += ph->tp_next_offset;
      if (ph->tp_snaplen < 42 || f[12] != 0x08 || f[13] != 0x00 || f[23] != 17) continue;
      const uint8_t *l4 = f + 14 + ((f[14] & 0x0f) << 2);
      if (((l4[2] << 8) | l4[3]) != MATCH_PORT) continue;
      m++;
      x ^= be32(f + 26) ^ be32(f + 30) ^ (uint32_t)((l4[0] << 8) | l4[1]);
    }
    __atomic_store_n(&bd->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
  }
  r->packets = n; r->matches = m; r->sink = x;
}

static void run(const char *name, void (*fn)(struct pass *), int passes, int trials) {
  struct pass r = {0, 0, 0};
  rearm(); fn(&r); /* warm-up pass */
  printf("{\"name\":\"%s\",\"ns\":[", name);
  uint64_t pk = 0, mt = 0;
  uint32_t sink = 0;
  for (int t = 0; t < trials; t++) {
    pk = mt = 0;
    uint64_t t0 = now_ns();
    for (int p = 0; p < passes; p++) {
      rearm();
      fn(&r);
      pk += r.packets; mt += r.matches; sink ^= r.sink;
    }
    printf("%s%llu", t ? "," : "", (unsigned long long)(now_ns() - t0));
  }
  printf("],\"packets\":%llu,\"matches\":%llu,\"sink\":%u,\"passSink\":%u}\n",
         (unsigned long long)pk, (unsigned long long)mt, sink, r.sink);
}

int main(int argc, char **argv) {
  if (argc < 6) { fprintf(stderr, "usage: %s IMAGE BLOCK_SIZE BLOCK_COUNT PASSES TRIALS\n", argv[0]); return 2; }
  bsize = strtoul(argv[2], NULL, 0);
  bcount = strtoul(argv[3], NULL, 0);
  int passes = atoi(argv[4]), trials = atoi(argv[5]);
  if (posix_memalign((void **)&ring, 4096, bsize * bcount)) { perror("posix_memalign"); return 1; }
  FILE *f = fopen(argv[1], "rb");
  if (!f || fread(ring, 1, bsize * bcount, f) != bsize * bcount) { perror("read image"); return 1; }
  fclose(f);
  run("walk", walk_count, passes, trials);
  run("tuple+filter", walk_tuple, passes, trials);
  return 0;
}
