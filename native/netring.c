/*
 * netring native core: syscalls, mmap and readiness. Nothing else.
 *
 * Every function is a thin wrapper over one kernel interface. Structures
 * without pointers (tpacket_req3, packet_mreq, fanout words) are built in
 * TypeScript and passed as bytes; only the calls whose arguments carry a
 * pointer (sock_fprog, bpf_attr, msghdr) are assembled here.
 *
 * Failures throw a JS Error with .code = errno name ("EPERM"), .errno and
 * .syscall; the TypeScript layer adds the sentence that helps the user.
 *
 * Memory rule: a ring is mmap'ed once and handed to JS as an external
 * ArrayBuffer. It is unmapped only by the ArrayBuffer's finalizer, i.e. when
 * no JS view of it can be reached any more, so closing the socket early can
 * never leave a view pointing at unmapped memory (the kernel keeps the ring
 * pages alive while they are mapped).
 */
#define _GNU_SOURCE
#include <node_api.h>
#include <uv.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <linux/bpf.h>
#include <linux/ethtool.h>
#include <linux/filter.h>
#include <linux/if_packet.h>
#include <linux/net_tstamp.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAX_ARGS 8

/* ------------------------------------------------------------ errors --- */

static const char *errno_name(int e) {
  switch (e) {
#define E(x) case x: return #x;
    E(EPERM) E(ENOENT) E(ESRCH) E(EINTR) E(EIO) E(ENXIO) E(E2BIG) E(EBADF)
    E(EAGAIN) E(ENOMEM) E(EACCES) E(EFAULT) E(EBUSY) E(EEXIST) E(ENODEV)
    E(EINVAL) E(ENFILE) E(EMFILE) E(ENOSPC) E(ERANGE) E(ENOSYS) E(ENOTSOCK)
    E(EMSGSIZE) E(EPROTOTYPE) E(ENOPROTOOPT) E(EPROTONOSUPPORT)
    E(EOPNOTSUPP) E(EAFNOSUPPORT) E(EADDRINUSE) E(EADDRNOTAVAIL) E(ENETDOWN)
    E(ENOBUFS) E(ENOTCONN) E(ETIMEDOUT) E(EALREADY) E(ENOTTY) E(ENOLINK)
#undef E
    default: return "EUNKNOWN";
  }
}

static void throw_errno(napi_env env, const char *syscall_name, int err) {
  char msg[256];
  snprintf(msg, sizeof msg, "%s failed: %s (%s)", syscall_name, strerror(err), errno_name(err));
  napi_value m, e, v;
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &m);
  napi_create_error(env, NULL, m, &e);
  napi_create_string_utf8(env, errno_name(err), NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, e, "code", v);
  napi_create_int32(env, err, &v);
  napi_set_named_property(env, e, "errno", v);
  napi_create_string_utf8(env, syscall_name, NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, e, "syscall", v);
  napi_throw(env, e);
}

#define CHECK(call) do { if ((call) != napi_ok) { napi_throw_error(env, NULL, "napi call failed: " #call); return NULL; } } while (0)
#define ARGS(n) size_t argc = (n); napi_value argv[MAX_ARGS]; CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL)); \
  if (argc < (n)) { napi_throw_type_error(env, NULL, "expected " #n " arguments"); return NULL; }

static int32_t arg_i32(napi_env env, napi_value v, int *ok) {
  int32_t x = 0;
  if (napi_get_value_int32(env, v, &x) != napi_ok) { *ok = 0; napi_throw_type_error(env, NULL, "expected a number"); }
  return x;
}
#define I32(i, name) int ok_##name = 1; int32_t name = arg_i32(env, argv[i], &ok_##name); if (!ok_##name) return NULL;

/* bytes of a TypedArray / Buffer / ArrayBuffer argument */
static int arg_bytes(napi_env env, napi_value v, void **data, size_t *len) {
  bool is;
  if (napi_is_typedarray(env, v, &is) == napi_ok && is) {
    napi_typedarray_type t; size_t n; napi_value ab; size_t off;
    if (napi_get_typedarray_info(env, v, &t, &n, data, &ab, &off) != napi_ok) return 0;
    size_t el = 1;
    switch (t) {
      case napi_int16_array: case napi_uint16_array: el = 2; break;
      case napi_int32_array: case napi_uint32_array: case napi_float32_array: el = 4; break;
      case napi_float64_array: case napi_bigint64_array: case napi_biguint64_array: el = 8; break;
      default: el = 1;
    }
    *len = n * el;
    return 1;
  }
  if (napi_is_arraybuffer(env, v, &is) == napi_ok && is) {
    return napi_get_arraybuffer_info(env, v, data, len) == napi_ok;
  }
  napi_throw_type_error(env, NULL, "expected a Uint8Array or ArrayBuffer");
  return 0;
}

static napi_value num(napi_env env, double d) { napi_value v; napi_create_double(env, d, &v); return v; }
static napi_value undef(napi_env env) { napi_value v; napi_get_undefined(env, &v); return v; }

/* ----------------------------------------------------------- sockets --- */

/* socket(domain, type, protocol) -> fd.  protocol is passed as given (callers
 * pass 0 for AF_PACKET so nothing is queued before bind). SOCK_CLOEXEC always. */
static napi_value n_socket(napi_env env, napi_callback_info info) {
  ARGS(3); I32(0, domain); I32(1, type); I32(2, proto);
  int fd = socket(domain, type | SOCK_CLOEXEC, proto);
  if (fd < 0) { throw_errno(env, "socket", errno); return NULL; }
  return num(env, fd);
}

static napi_value n_close(napi_env env, napi_callback_info info) {
  ARGS(1); I32(0, fd);
  if (close(fd) < 0 && errno != EINTR) { throw_errno(env, "close", errno); return NULL; }
  return undef(env);
}

/* if_nametoindex(name) -> index, throws ENODEV when there is none */
static napi_value n_ifindex(napi_env env, napi_callback_info info) {
  ARGS(1);
  char name[IF_NAMESIZE + 1];
  size_t n;
  CHECK(napi_get_value_string_utf8(env, argv[0], name, sizeof name, &n));
  unsigned idx = if_nametoindex(name);
  if (!idx) { throw_errno(env, "if_nametoindex", errno == ENXIO ? ENODEV : errno); return NULL; }
  return num(env, idx);
}

static napi_value n_ifname(napi_env env, napi_callback_info info) {
  ARGS(1); I32(0, idx);
  char name[IF_NAMESIZE + 1];
  if (!if_indextoname((unsigned)idx, name)) { throw_errno(env, "if_indextoname", errno); return NULL; }
  napi_value v; napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &v);
  return v;
}

/* setsockopt(fd, level, name, bytes) for pointer-free option structures */
static napi_value n_setsockopt(napi_env env, napi_callback_info info) {
  ARGS(4); I32(0, fd); I32(1, level); I32(2, name);
  void *data; size_t len;
  if (!arg_bytes(env, argv[3], &data, &len)) return NULL;
  if (setsockopt(fd, level, name, data, (socklen_t)len) < 0) { throw_errno(env, "setsockopt", errno); return NULL; }
  return undef(env);
}

/* getsockopt(fd, level, name, into bytes) -> length written */
static napi_value n_getsockopt(napi_env env, napi_callback_info info) {
  ARGS(4); I32(0, fd); I32(1, level); I32(2, name);
  void *data; size_t len;
  if (!arg_bytes(env, argv[3], &data, &len)) return NULL;
  socklen_t l = (socklen_t)len;
  if (getsockopt(fd, level, name, data, &l) < 0) { throw_errno(env, "getsockopt", errno); return NULL; }
  return num(env, l);
}

/* bind(fd, AF_PACKET, ifindex, protocol in host order) */
static napi_value n_bind_packet(napi_env env, napi_callback_info info) {
  ARGS(3); I32(0, fd); I32(1, ifindex); I32(2, proto);
  struct sockaddr_ll sll;
  memset(&sll, 0, sizeof sll);
  sll.sll_family = AF_PACKET;
  sll.sll_protocol = htons((uint16_t)proto);
  sll.sll_ifindex = ifindex;
  if (bind(fd, (struct sockaddr *)&sll, sizeof sll) < 0) { throw_errno(env, "bind", errno); return NULL; }
  return undef(env);
}

/* Attach a classic BPF program given as 8-byte sock_filter records (host
 * order) with SO_ATTACH_FILTER (which = 0) or as the PACKET_FANOUT_DATA of a
 * CBPF fanout group (which = 1). */
static napi_value n_attach_cbpf(napi_env env, napi_callback_info info) {
  ARGS(3); I32(0, fd); I32(1, which);
  void *data; size_t len;
  if (!arg_bytes(env, argv[2], &data, &len)) return NULL;
  if (len % sizeof(struct sock_filter) || len / sizeof(struct sock_filter) > 0xffff) {
    napi_throw_range_error(env, "EINVAL", "a classic BPF program is 1..65535 8-byte instructions");
    return NULL;
  }
  struct sock_fprog prog = {(unsigned short)(len / sizeof(struct sock_filter)), (struct sock_filter *)data};
  int r = which == 1 ? setsockopt(fd, SOL_PACKET, PACKET_FANOUT_DATA, &prog, sizeof prog)
                     : setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog);
  if (r < 0) { throw_errno(env, which == 1 ? "setsockopt(PACKET_FANOUT_DATA)" : "setsockopt(SO_ATTACH_FILTER)", errno); return NULL; }
  return undef(env);
}

/* ------------------------------------------------------------- mmap ---- */

typedef struct mapping { void *addr; size_t len; struct mapping *next; } mapping_t;

/* Live ring mappings (all threads: worker threads share this addon's state),
 * so releaseMapping() only ever touches memory mmap() made. */
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

/* mmap(fd, length, populate) -> ArrayBuffer over the shared mapping (no copy) */
static napi_value n_mmap(napi_env env, napi_callback_info info) {
  ARGS(3); I32(0, fd);
  double dlen; CHECK(napi_get_value_double(env, argv[1], &dlen));
  bool populate = false; napi_get_value_bool(env, argv[2], &populate);
  size_t len = (size_t)dlen;
  void *addr = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | (populate ? MAP_POPULATE : 0), fd, 0);
  if (addr == MAP_FAILED) { throw_errno(env, "mmap", errno); return NULL; }
  mapping_t *m = malloc(sizeof *m);
  if (!m) { munmap(addr, len); throw_errno(env, "malloc", ENOMEM); return NULL; }
  m->addr = addr; m->len = len;
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

/* releaseMapping(ab): put anonymous zero pages over a ring made by mmap()
 * (MAP_FIXED, same address), so the socket no longer has the ring mapped and
 * close(fd) releases it at once (it leaves its fan-out group, stops queueing),
 * while stray JS views stay valid and read zeros. The buffer's finalizer
 * unmaps the anonymous pages later. Returns false for a buffer mmap() did not make. */
static napi_value n_release_mapping(napi_env env, napi_callback_info info) {
  ARGS(1);
  void *data = NULL; size_t len = 0;
  bool is = false;
  if (napi_is_arraybuffer(env, argv[0], &is) != napi_ok || !is || napi_get_arraybuffer_info(env, argv[0], &data, &len) != napi_ok) {
    napi_throw_type_error(env, NULL, "expected an ArrayBuffer made by mmap()");
    return NULL;
  }
  int found = 0;
  pthread_mutex_lock(&live_lock);
  for (mapping_t *m = live_maps; m; m = m->next) if (m->addr == data && m->len == len) { found = 1; break; }
  pthread_mutex_unlock(&live_lock);
  napi_value r;
  if (!found) { napi_get_boolean(env, false, &r); return r; }
  if (mmap(data, len, PROT_READ | PROT_WRITE, MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0) == MAP_FAILED) {
    throw_errno(env, "mmap(MAP_FIXED)", errno);
    return NULL;
  }
  napi_get_boolean(env, true, &r);
  return r;
}

/* ------------------------------------------------------------- I/O ----- */

/* kick a TX ring: send(fd, NULL, 0, flags) -> bytes queued (0 when nothing), -EAGAIN as -11 */
static napi_value n_kick(napi_env env, napi_callback_info info) {
  ARGS(2); I32(0, fd); I32(1, flags);
  ssize_t r = send(fd, NULL, 0, flags);
  if (r < 0) {
    if (errno == EAGAIN || errno == ENOBUFS || errno == EINTR) return num(env, -errno);
    throw_errno(env, "send", errno);
    return NULL;
  }
  return num(env, (double)r);
}

/* send one frame on a bound AF_PACKET socket: send(fd, bytes, flags) */
static napi_value n_send(napi_env env, napi_callback_info info) {
  ARGS(3); I32(0, fd); I32(2, flags);
  void *data; size_t len;
  if (!arg_bytes(env, argv[1], &data, &len)) return NULL;
  ssize_t r = send(fd, data, len, flags);
  if (r < 0) {
    if (errno == EAGAIN || errno == ENOBUFS) return num(env, -errno);
    throw_errno(env, "send", errno);
    return NULL;
  }
  return num(env, (double)r);
}

/* recv(fd, into bytes, flags) -> length (for draining a socket without a ring) */
static napi_value n_recv(napi_env env, napi_callback_info info) {
  ARGS(3); I32(0, fd); I32(2, flags);
  void *data; size_t len;
  if (!arg_bytes(env, argv[1], &data, &len)) return NULL;
  ssize_t r = recv(fd, data, len, flags);
  if (r < 0) {
    if (errno == EAGAIN || errno == EINTR) return num(env, -errno);
    throw_errno(env, "recv", errno);
    return NULL;
  }
  return num(env, (double)r);
}

/* poll(fd, events, timeout_ms) -> revents (0 on timeout). Blocks: for worker threads. */
static napi_value n_poll(napi_env env, napi_callback_info info) {
  ARGS(3); I32(0, fd); I32(1, events); I32(2, timeout);
  struct pollfd p = {.fd = fd, .events = (short)events};
  int r;
  do { r = poll(&p, 1, timeout); } while (r < 0 && errno == EINTR && timeout < 0);
  if (r < 0) { if (errno == EINTR) return num(env, 0); throw_errno(env, "poll", errno); return NULL; }
  return num(env, r == 0 ? 0 : p.revents);
}

/* ------------------------------------------------ event-loop readiness --- */

/* A uv_poll_t watching one fd; calls back into JS with the revents mask.
 * JS starts it when it wants the next batch and stops it while it holds
 * blocks, so a level-triggered fd never spins the loop. */
typedef struct {
  uv_poll_t poll;
  napi_env env;
  napi_ref cb;
  napi_async_context ctx;
  int closing;
} watcher_t;

static void watcher_closed(uv_handle_t *h) {
  watcher_t *w = h->data;
  free(w);
}

static void watcher_cb(uv_poll_t *h, int status, int events) {
  watcher_t *w = h->data;
  if (w->closing) return;
  napi_env env = w->env;
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  napi_value cb, global, arg, res;
  napi_get_reference_value(env, w->cb, &cb);
  napi_get_global(env, &global);
  int mask = status < 0 ? -1 : ((events & UV_READABLE ? POLLIN : 0) | (events & UV_WRITABLE ? POLLOUT : 0) |
                                 (events & UV_DISCONNECT ? POLLHUP : 0));
  napi_create_int32(env, mask, &arg);
  /* make_callback runs microtasks afterwards, like any libuv callback */
  napi_make_callback(env, w->ctx, global, cb, 1, &arg, &res);
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (pending) {
    napi_value exc;
    napi_get_and_clear_last_exception(env, &exc);
    napi_fatal_exception(env, exc);
  }
  napi_close_handle_scope(env, scope);
}

static void watcher_finalize(napi_env env, void *data, void *hint) {
  (void)env; (void)hint;
  watcher_t *w = data;
  if (!w->closing) {
    w->closing = 1;
    uv_poll_stop(&w->poll);
    uv_close((uv_handle_t *)&w->poll, watcher_closed);
  }
}

static watcher_t *get_watcher(napi_env env, napi_value obj) {
  watcher_t *w = NULL;
  if (napi_unwrap(env, obj, (void **)&w) != napi_ok || !w) {
    napi_throw_type_error(env, NULL, "not a watcher");
    return NULL;
  }
  return w;
}

/* watch(fd, callback) -> watcher object (stopped) */
static napi_value n_watch(napi_env env, napi_callback_info info) {
  ARGS(2); I32(0, fd);
  uv_loop_t *loop;
  CHECK(napi_get_uv_event_loop(env, &loop));
  watcher_t *w = calloc(1, sizeof *w);
  if (!w) { throw_errno(env, "calloc", ENOMEM); return NULL; }
  int r = uv_poll_init(loop, &w->poll, fd);
  if (r < 0) { free(w); throw_errno(env, "uv_poll_init", -r); return NULL; }
  w->poll.data = w;
  w->env = env;
  napi_create_reference(env, argv[1], 1, &w->cb);
  napi_value rname;
  napi_create_string_utf8(env, "netring:watch", NAPI_AUTO_LENGTH, &rname);
  napi_async_init(env, NULL, rname, &w->ctx);
  napi_value obj;
  napi_create_object(env, &obj);
  napi_wrap(env, obj, w, watcher_finalize, NULL, NULL);
  return obj;
}

/* watcherStart(w, events) with POLLIN/POLLOUT bits */
static napi_value n_watcher_start(napi_env env, napi_callback_info info) {
  ARGS(2);
  watcher_t *w = get_watcher(env, argv[0]);
  if (!w) return NULL;
  I32(1, events);
  if (w->closing) return undef(env);
  int uvev = (events & POLLIN ? UV_READABLE : 0) | (events & POLLOUT ? UV_WRITABLE : 0) | UV_DISCONNECT;
  int r = uv_poll_start(&w->poll, uvev, watcher_cb);
  if (r < 0) { throw_errno(env, "uv_poll_start", -r); return NULL; }
  return undef(env);
}

static napi_value n_watcher_stop(napi_env env, napi_callback_info info) {
  ARGS(1);
  watcher_t *w = get_watcher(env, argv[0]);
  if (!w) return NULL;
  if (!w->closing) uv_poll_stop(&w->poll);
  return undef(env);
}

/* watcherClose(w): idempotent; must run before the fd is closed */
static napi_value n_watcher_close(napi_env env, napi_callback_info info) {
  ARGS(1);
  watcher_t *w = NULL;
  napi_remove_wrap(env, argv[0], (void **)&w);
  if (!w) return undef(env);
  w->closing = 1;
  uv_poll_stop(&w->poll);
  napi_delete_reference(env, w->cb);
  napi_async_destroy(env, w->ctx);
  uv_close((uv_handle_t *)&w->poll, watcher_closed);
  return undef(env);
}

/* ---------------------------------------------------- device ioctls --- */

/* ETHTOOL_GET_TS_INFO(ifname) -> [so_timestamping, phc_index, tx_types, rx_filters] */
static napi_value n_ts_info(napi_env env, napi_callback_info info) {
  ARGS(1);
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  size_t n;
  CHECK(napi_get_value_string_utf8(env, argv[0], ifr.ifr_name, IFNAMSIZ, &n));
  struct ethtool_ts_info ti;
  memset(&ti, 0, sizeof ti);
  ti.cmd = ETHTOOL_GET_TS_INFO;
  ifr.ifr_data = (void *)&ti;
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) { throw_errno(env, "socket", errno); return NULL; }
  int r = ioctl(fd, SIOCETHTOOL, &ifr);
  int e = errno;
  close(fd);
  if (r < 0) { throw_errno(env, "ioctl(ETHTOOL_GET_TS_INFO)", e); return NULL; }
  napi_value arr;
  napi_create_array_with_length(env, 4, &arr);
  napi_set_element(env, arr, 0, num(env, ti.so_timestamping));
  napi_set_element(env, arr, 1, num(env, ti.phc_index));
  napi_set_element(env, arr, 2, num(env, ti.tx_types));
  napi_set_element(env, arr, 3, num(env, ti.rx_filters));
  return arr;
}

/* SIOCSHWTSTAMP(ifname, tx_type, rx_filter): enable hardware stamping on a device */
static napi_value n_hwtstamp(napi_env env, napi_callback_info info) {
  ARGS(3); I32(1, tx); I32(2, rx);
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  size_t n;
  CHECK(napi_get_value_string_utf8(env, argv[0], ifr.ifr_name, IFNAMSIZ, &n));
  struct hwtstamp_config cfg = {.flags = 0, .tx_type = tx, .rx_filter = rx};
  ifr.ifr_data = (void *)&cfg;
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) { throw_errno(env, "socket", errno); return NULL; }
  int r = ioctl(fd, SIOCSHWTSTAMP, &ifr);
  int e = errno;
  close(fd);
  if (r < 0) { throw_errno(env, "ioctl(SIOCSHWTSTAMP)", e); return NULL; }
  return undef(env);
}

/* ------------------------------------------------------------- eBPF --- */

/* bpfProgLoad(progType, insns bytes, license, logBytes) -> fd; on failure the
 * verifier log is attached to the error as .log */
static napi_value n_bpf_prog_load(napi_env env, napi_callback_info info) {
  ARGS(4); I32(0, type);
  void *insns; size_t ilen;
  if (!arg_bytes(env, argv[1], &insns, &ilen)) return NULL;
  char license[64]; size_t n;
  CHECK(napi_get_value_string_utf8(env, argv[2], license, sizeof license, &n));
  void *logbuf; size_t loglen;
  if (!arg_bytes(env, argv[3], &logbuf, &loglen)) return NULL;
  union bpf_attr a;
  memset(&a, 0, sizeof a);
  a.prog_type = (uint32_t)type;
  a.insn_cnt = (uint32_t)(ilen / 8);
  a.insns = (uint64_t)(uintptr_t)insns;
  a.license = (uint64_t)(uintptr_t)license;
  if (loglen > 0) { a.log_level = 1; a.log_buf = (uint64_t)(uintptr_t)logbuf; a.log_size = (uint32_t)loglen; }
  int fd = (int)syscall(__NR_bpf, BPF_PROG_LOAD, &a, sizeof a);
  if (fd < 0) { throw_errno(env, "bpf(BPF_PROG_LOAD)", errno); return NULL; }
  return num(env, fd);
}

/* bpfMapCreate(mapType, keySize, valueSize, maxEntries) -> fd */
static napi_value n_bpf_map_create(napi_env env, napi_callback_info info) {
  ARGS(4); I32(0, type); I32(1, ks); I32(2, vs); I32(3, max);
  union bpf_attr a;
  memset(&a, 0, sizeof a);
  a.map_type = (uint32_t)type; a.key_size = (uint32_t)ks; a.value_size = (uint32_t)vs; a.max_entries = (uint32_t)max;
  int fd = (int)syscall(__NR_bpf, BPF_MAP_CREATE, &a, sizeof a);
  if (fd < 0) { throw_errno(env, "bpf(BPF_MAP_CREATE)", errno); return NULL; }
  return num(env, fd);
}

/* bpfMapOp(cmd, mapFd, key bytes, value bytes, flags) -> 0, or -errno for ENOENT */
static napi_value n_bpf_map_op(napi_env env, napi_callback_info info) {
  ARGS(5); I32(0, cmd); I32(1, mfd); I32(4, flags);
  void *k, *v; size_t kl, vl;
  if (!arg_bytes(env, argv[2], &k, &kl) || !arg_bytes(env, argv[3], &v, &vl)) return NULL;
  union bpf_attr a;
  memset(&a, 0, sizeof a);
  a.map_fd = (uint32_t)mfd; a.key = (uint64_t)(uintptr_t)k; a.value = (uint64_t)(uintptr_t)v; a.flags = (uint64_t)flags;
  int r = (int)syscall(__NR_bpf, cmd, &a, sizeof a);
  if (r < 0) { if (errno == ENOENT) return num(env, -ENOENT); throw_errno(env, "bpf(map op)", errno); return NULL; }
  return num(env, 0);
}

/* ------------------------------------------------------ CPU affinity --- */

/* setAffinity(cpus: number[]): sched_setaffinity(0, ...) pins the CALLING
 * thread (pid 0 = this task), so a worker_thread can pin itself. */
static napi_value n_set_affinity(napi_env env, napi_callback_info info) {
  ARGS(1);
  uint32_t n = 0;
  bool is = false;
  if (napi_is_array(env, argv[0], &is) != napi_ok || !is) { napi_throw_type_error(env, NULL, "expected an array of CPU numbers"); return NULL; }
  CHECK(napi_get_array_length(env, argv[0], &n));
  cpu_set_t set;
  CPU_ZERO(&set);
  for (uint32_t i = 0; i < n; i++) {
    napi_value v; int32_t c = -1;
    CHECK(napi_get_element(env, argv[0], i, &v));
    if (napi_get_value_int32(env, v, &c) != napi_ok || c < 0 || c >= CPU_SETSIZE) {
      napi_throw_range_error(env, "EINVAL", "CPU numbers must be integers in 0..1023");
      return NULL;
    }
    CPU_SET(c, &set);
  }
  if (sched_setaffinity(0, sizeof set, &set) < 0) { throw_errno(env, "sched_setaffinity", errno); return NULL; }
  return undef(env);
}

/* getAffinity() -> CPUs the calling thread may run on */
static napi_value n_get_affinity(napi_env env, napi_callback_info info) {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) < 0) { throw_errno(env, "sched_getaffinity", errno); return NULL; }
  napi_value arr;
  napi_create_array(env, &arr);
  uint32_t k = 0;
  for (int c = 0; c < CPU_SETSIZE; c++) if (CPU_ISSET(c, &set)) napi_set_element(env, arr, k++, num(env, c));
  return arr;
}

/* threadId() -> kernel tid of the calling thread (gettid) */
static napi_value n_thread_id(napi_env env, napi_callback_info info) {
  return num(env, (double)syscall(SYS_gettid));
}

/* currentCpu() -> sched_getcpu() */
static napi_value n_current_cpu(napi_env env, napi_callback_info info) {
  int c = sched_getcpu();
  if (c < 0) { throw_errno(env, "sched_getcpu", errno); return NULL; }
  return num(env, c);
}

/* -------------------------------------------------------------- init --- */

#define FN(name, fn) { name, NULL, fn, NULL, NULL, NULL, napi_enumerable, NULL }

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    FN("socket", n_socket), FN("close", n_close), FN("ifindex", n_ifindex), FN("ifname", n_ifname),
    FN("setsockopt", n_setsockopt), FN("getsockopt", n_getsockopt), FN("bindPacket", n_bind_packet),
    FN("attachCbpf", n_attach_cbpf), FN("mmap", n_mmap), FN("kick", n_kick), FN("send", n_send),
    FN("recv", n_recv), FN("poll", n_poll), FN("watch", n_watch), FN("watcherStart", n_watcher_start),
    FN("watcherStop", n_watcher_stop), FN("watcherClose", n_watcher_close), FN("tsInfo", n_ts_info),
    FN("hwtstamp", n_hwtstamp), FN("bpfProgLoad", n_bpf_prog_load), FN("bpfMapCreate", n_bpf_map_create),
    FN("bpfMapOp", n_bpf_map_op), FN("setAffinity", n_set_affinity), FN("getAffinity", n_get_affinity),
    FN("threadId", n_thread_id), FN("currentCpu", n_current_cpu),
    FN("releaseMapping", n_release_mapping),
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
