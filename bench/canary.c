/* canary: a fixed amount of pure CPU work; prints the wall time it took in
 * microseconds. bench/capture.sh runs it on the generator's and the
 * receiver's CPU before every run: on a shared VM a vCPU is sometimes much
 * slower than usual (host contention), which inflates every CPU-time figure
 * of that run. The report marks such runs.
 * usage: canary [iterations=40000000] */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv) {
  unsigned long n = argc > 1 ? strtoul(argv[1], NULL, 0) : 40000000UL;
  struct timespec a, b;
  volatile unsigned long x = 0;
  clock_gettime(CLOCK_MONOTONIC, &a);
  for (unsigned long i = 0; i < n; i++) x += i;
  clock_gettime(CLOCK_MONOTONIC, &b);
  printf("%ld\n", (long)((b.tv_sec - a.tv_sec) * 1000000L + (b.tv_nsec - a.tv_nsec) / 1000));
  return 0;
}
