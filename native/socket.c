/*
 * Sockets: socket/close, interface name <-> index, pointer-free socket
 * options (structures built in TypeScript and passed as bytes), AF_PACKET
 * bind, send/recv, the TX ring kick and the two classic BPF options whose
 * argument carries a pointer (struct sock_fprog): the socket filter and the
 * fan-out steering program.
 */
#include "napi-util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* socket(domain, type, protocol) -> fd.  protocol is passed as given (callers
 * pass 0 for AF_PACKET so nothing is queued before bind). SOCK_CLOEXEC always. */
static napi_value n_socket(napi_env env, napi_callback_info info) {
  ARGS(3); I32(0, domain); I32(1, type); I32(2, proto);
  int fd = socket(domain, type | SOCK_CLOEXEC, proto);
  if (fd < 0) { nr_throw_errno(env, "socket", errno); return NULL; }
  return nr_num(env, fd);
}

static napi_value n_close(napi_env env, napi_callback_info info) {
  ARGS(1); I32(0, fd);
  if (close(fd) < 0 && errno != EINTR) { nr_throw_errno(env, "close", errno); return NULL; }
  return nr_undef(env);
}

/* if_nametoindex(name) -> index, throws ENODEV when there is none (a name of
 * IFNAMSIZ bytes or more cannot exist: ENODEV too, never a truncated lookup). */
static napi_value n_ifindex(napi_env env, napi_callback_info info) {
  ARGS(1);
  char name[IFNAMSIZ + 1];
  size_t n = 0;
  if (napi_get_value_string_utf8(env, argv[0], NULL, 0, &n) != napi_ok) {
    napi_throw_type_error(env, NULL, "expected an interface name (string)");
    return NULL;
  }
  if (n == 0 || n >= IFNAMSIZ) { nr_throw_errno(env, "if_nametoindex", ENODEV); return NULL; }
  CHECK(napi_get_value_string_utf8(env, argv[0], name, sizeof name, &n));
  if (strlen(name) != n) { nr_throw_errno(env, "if_nametoindex", ENODEV); return NULL; }
  unsigned idx = if_nametoindex(name);
  if (!idx) { nr_throw_errno(env, "if_nametoindex", errno == ENXIO ? ENODEV : errno); return NULL; }
  return nr_num(env, idx);
}

static napi_value n_ifname(napi_env env, napi_callback_info info) {
  ARGS(1); I32(0, idx);
  char name[IFNAMSIZ + 1];
  if (!if_indextoname((unsigned)idx, name)) { nr_throw_errno(env, "if_indextoname", errno); return NULL; }
  napi_value v; napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &v);
  return v;
}

/* setsockopt(fd, level, name, bytes) for pointer-free option structures */
static napi_value n_setsockopt(napi_env env, napi_callback_info info) {
  ARGS(4); I32(0, fd); I32(1, level); I32(2, name);
  void *data; size_t len;
  if (!nr_arg_bytes(env, argv[3], &data, &len)) return NULL;
  if (len > 0x7fffffff) { nr_throw_range(env, "option value too long"); return NULL; }
  if (setsockopt(fd, level, name, data, (socklen_t)len) < 0) { nr_throw_errno(env, "setsockopt", errno); return NULL; }
  return nr_undef(env);
}

/* getsockopt(fd, level, name, into bytes) -> length written */
static napi_value n_getsockopt(napi_env env, napi_callback_info info) {
  ARGS(4); I32(0, fd); I32(1, level); I32(2, name);
  void *data; size_t len;
  if (!nr_arg_bytes(env, argv[3], &data, &len)) return NULL;
  if (len > 0x7fffffff) { nr_throw_range(env, "option buffer too long"); return NULL; }
  socklen_t l = (socklen_t)len;
  if (getsockopt(fd, level, name, data, &l) < 0) { nr_throw_errno(env, "getsockopt", errno); return NULL; }
  return nr_num(env, l);
}

/* bind(fd, AF_PACKET, ifindex, protocol in host order) */
static napi_value n_bind_packet(napi_env env, napi_callback_info info) {
  ARGS(3); I32(0, fd); I32(1, ifindex); I32(2, proto);
  struct sockaddr_ll sll;
  memset(&sll, 0, sizeof sll);
  sll.sll_family = AF_PACKET;
  sll.sll_protocol = htons((uint16_t)proto);
  sll.sll_ifindex = ifindex;
  if (bind(fd, (struct sockaddr *)&sll, sizeof sll) < 0) { nr_throw_errno(env, "bind", errno); return NULL; }
  return nr_undef(env);
}

/* A classic BPF program argument: 8-byte sock_filter records (host order),
 * 1..BPF_MAXINSNS (4096) of them, the kernel's limit for both uses. */
static int arg_cbpf(napi_env env, napi_value v, struct sock_fprog *prog) {
  void *data; size_t len;
  if (!nr_arg_bytes(env, v, &data, &len)) return 0;
  size_t n = len / sizeof(struct sock_filter);
  if (len % sizeof(struct sock_filter) || n == 0 || n > BPF_MAXINSNS) {
    char m[160];
    snprintf(m, sizeof m, "a classic BPF program is 1..%d 8-byte instructions (got %zu bytes)", BPF_MAXINSNS, len);
    nr_throw_range(env, m);
    return 0;
  }
  prog->len = (unsigned short)n;
  prog->filter = (struct sock_filter *)data;
  return 1;
}

/* attachFilter(fd, program): SO_ATTACH_FILTER (replaces the socket's filter atomically) */
static napi_value n_attach_filter(napi_env env, napi_callback_info info) {
  ARGS(2); I32(0, fd);
  struct sock_fprog prog;
  if (!arg_cbpf(env, argv[1], &prog)) return NULL;
  if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) < 0) {
    nr_throw_errno(env, "setsockopt(SO_ATTACH_FILTER)", errno);
    return NULL;
  }
  return nr_undef(env);
}

/* setFanoutProgram(fd, program): PACKET_FANOUT_DATA of a PACKET_FANOUT_CBPF group */
static napi_value n_set_fanout_program(napi_env env, napi_callback_info info) {
  ARGS(2); I32(0, fd);
  struct sock_fprog prog;
  if (!arg_cbpf(env, argv[1], &prog)) return NULL;
  if (setsockopt(fd, SOL_PACKET, PACKET_FANOUT_DATA, &prog, sizeof prog) < 0) {
    nr_throw_errno(env, "setsockopt(PACKET_FANOUT_DATA)", errno);
    return NULL;
  }
  return nr_undef(env);
}

/* kick a TX ring: send(fd, NULL, 0, flags) -> bytes queued (0 when nothing), -EAGAIN as -11 */
static napi_value n_kick(napi_env env, napi_callback_info info) {
  ARGS(2); I32(0, fd); I32(1, flags);
  ssize_t r = send(fd, NULL, 0, flags);
  if (r < 0) {
    if (errno == EAGAIN || errno == ENOBUFS || errno == EINTR) return nr_num(env, -errno);
    nr_throw_errno(env, "send", errno);
    return NULL;
  }
  return nr_num(env, (double)r);
}

/* send one frame on a bound AF_PACKET socket: send(fd, bytes, flags) */
static napi_value n_send(napi_env env, napi_callback_info info) {
  ARGS(3); I32(0, fd); I32(2, flags);
  void *data; size_t len;
  if (!nr_arg_bytes(env, argv[1], &data, &len)) return NULL;
  ssize_t r = send(fd, data, len, flags);
  if (r < 0) {
    if (errno == EAGAIN || errno == ENOBUFS) return nr_num(env, -errno);
    nr_throw_errno(env, "send", errno);
    return NULL;
  }
  return nr_num(env, (double)r);
}

/* recv(fd, into bytes, flags) -> length (for draining a socket without a ring) */
static napi_value n_recv(napi_env env, napi_callback_info info) {
  ARGS(3); I32(0, fd); I32(2, flags);
  void *data; size_t len;
  if (!nr_arg_bytes(env, argv[1], &data, &len)) return NULL;
  ssize_t r = recv(fd, data, len, flags);
  if (r < 0) {
    if (errno == EAGAIN || errno == EINTR) return nr_num(env, -errno);
    nr_throw_errno(env, "recv", errno);
    return NULL;
  }
  return nr_num(env, (double)r);
}

void init_socket(napi_env env, napi_value exports) {
  static const napi_property_descriptor props[] = {
    NR_FN("socket", n_socket), NR_FN("close", n_close), NR_FN("ifindex", n_ifindex), NR_FN("ifname", n_ifname),
    NR_FN("setsockopt", n_setsockopt), NR_FN("getsockopt", n_getsockopt), NR_FN("bindPacket", n_bind_packet),
    NR_FN("attachFilter", n_attach_filter), NR_FN("setFanoutProgram", n_set_fanout_program), NR_FN("kick", n_kick), NR_FN("send", n_send), NR_FN("recv", n_recv),
  };
  NR_DEFINE(env, exports, props);
}
