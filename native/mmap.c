/*
 * Mappings handed to JS, and ring mapping for AF_PACKET. Every area mmap'ed
 * by the native core (TPACKET rings here, AF_XDP rings and UMEM in xsk.c) is
 * handed to JS as an external ArrayBuffer through nr_map_wrap(). It is
 * unmapped only by the ArrayBuffer's finalizer, i.e. when no JS view of it
 * can be reached any more, so closing the socket early can never leave a view
 * pointing at unmapped memory (the kernel keeps the ring pages alive while
 * they are mapped). releaseMapping() detaches the socket from the memory
 * early without invalidating views.
 */
#include "napi-util.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

typedef struct mapping { void *addr; size_t len; int kind; struct mapping *next; } mapping_t;

/* Live mappings (all threads: worker threads share this addon's state),
 * so releaseMapping() only ever touches memory the native core mapped. */
static mapping_t *live_maps = NULL;
static pthread_mutex_t live_lock = PTHREAD_MUTEX_INITIALIZER;

static void unmap_finalize(napi_env env, void *data, void *hint) {
  mapping_t *m = hint;
  int64_t adj;
  (void)data;
  pthread_mutex_lock(&live_lock);
  for (mapping_t **p = &live_maps; *p; p = &(*p)->next) if (*p == m) { *p = m->next; break; }
  pthread_mutex_unlock(&live_lock);
  munmap(m->addr, m->len);
  napi_adjust_external_memory(env, -(int64_t)m->len, &adj);
  free(m);
}

napi_value nr_map_wrap(napi_env env, void *addr, size_t len, int kind) {
  mapping_t *m = malloc(sizeof *m);
  if (!m) { munmap(addr, len); nr_throw_errno(env, "malloc", ENOMEM); return NULL; }
  m->addr = addr; m->len = len; m->kind = kind;
  napi_value ab;
  if (napi_create_external_arraybuffer(env, addr, len, unmap_finalize, m, &ab) != napi_ok) {
    munmap(addr, len); free(m);
    napi_throw_error(env, "ENOTSUP", "this runtime refuses external ArrayBuffers (V8 sandbox)");
    return NULL;
  }
  pthread_mutex_lock(&live_lock);
  m->next = live_maps; live_maps = m;
  pthread_mutex_unlock(&live_lock);
  int64_t adj;
  napi_adjust_external_memory(env, (int64_t)len, &adj);
  return ab;
}

int nr_map_find(napi_env env, napi_value v, void **addr, size_t *len) {
  bool is = false;
  void *data = NULL; size_t n = 0;
  if (napi_is_arraybuffer(env, v, &is) != napi_ok || !is || napi_get_arraybuffer_info(env, v, &data, &n) != napi_ok) {
    napi_throw_type_error(env, NULL, "expected an ArrayBuffer made by mmap(), xskUmem() or xskMmapRing()");
    return -2;
  }
  int kind = -1;
  pthread_mutex_lock(&live_lock);
  for (mapping_t *m = live_maps; m; m = m->next) if (m->addr == data && m->len == n) { kind = m->kind; break; }
  pthread_mutex_unlock(&live_lock);
  *addr = data; *len = n;
  return kind;
}

/* Length argument: an integer in 1..2^53 that size_t holds (no silent cast). */
static int arg_length(napi_env env, napi_value v, size_t *out) {
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok) { napi_throw_type_error(env, NULL, "mmap: length must be a number"); return 0; }
  if (!(d >= 1 && d <= 9007199254740992.0) || d != (double)(uint64_t)d) {
    char m[128];
    snprintf(m, sizeof m, "mmap: length must be a positive integer number of bytes (got %g)", d);
    nr_throw_range(env, m);
    return 0;
  }
  *out = (size_t)d;
  return 1;
}

/* mmap(fd, length, populate) -> ArrayBuffer over the shared mapping (no copy) */
static napi_value n_mmap(napi_env env, napi_callback_info info) {
  ARGS(3); I32(0, fd);
  size_t len;
  if (!arg_length(env, argv[1], &len)) return NULL;
  bool populate = false; napi_get_value_bool(env, argv[2], &populate);
  void *addr = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | (populate ? MAP_POPULATE : 0), fd, 0);
  if (addr == MAP_FAILED) { nr_throw_errno(env, "mmap", errno); return NULL; }
  return nr_map_wrap(env, addr, len, NR_MAP_PACKET_RING);
}

/* releaseMapping(ab): put anonymous zero pages over a mapping made by the
 * native core (a TPACKET ring, an AF_XDP ring or UMEM; MAP_FIXED, same
 * address), so the socket no longer has the ring mapped and close(fd)
 * releases it at once (it leaves its fan-out group, stops queueing), while
 * stray JS views stay valid and read zeros. The buffer's finalizer unmaps the
 * anonymous pages later. Returns false for a buffer the core did not map. */
static napi_value n_release_mapping(napi_env env, napi_callback_info info) {
  ARGS(1);
  void *data; size_t len;
  int kind = nr_map_find(env, argv[0], &data, &len);
  if (kind == -2) return NULL;
  if (kind < 0) return nr_bool(env, false);
  if (mmap(data, len, PROT_READ | PROT_WRITE, MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0) == MAP_FAILED) {
    nr_throw_errno(env, "mmap(MAP_FIXED)", errno);
    return NULL;
  }
  return nr_bool(env, true);
}

void init_mmap(napi_env env, napi_value exports) {
  static const napi_property_descriptor props[] = {
    NR_FN("mmap", n_mmap), NR_FN("releaseMapping", n_release_mapping),
  };
  NR_DEFINE(env, exports, props);
}
