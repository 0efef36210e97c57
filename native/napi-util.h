/*
 * Shared helpers of the native core: argument macros, errno -> JS error,
 * number helpers and the per-file registration hook.
 *
 * Every native file exposes one `void init_<subject>(napi_env, napi_value)`
 * that defines its functions on the exports object (see module.c).
 */
#ifndef NETRING_NAPI_UTIL_H
#define NETRING_NAPI_UTIL_H

#define _GNU_SOURCE
#include <node_api.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MAX_ARGS 10

/* Throw a JS Error "<syscall> failed: <strerror> (<ENAME>)" with .code
 * (errno name), .errno and .syscall. */
void nr_throw_errno(napi_env env, const char *syscall_name, int err);

/* Throw a RangeError with .code = "EINVAL" carrying `msg` (bad input from JS). */
void nr_throw_range(napi_env env, const char *msg);

/* Bytes of a TypedArray / Buffer / DataView / ArrayBuffer argument. Returns 0
 * (with a TypeError pending) for anything else. */
int nr_arg_bytes(napi_env env, napi_value v, void **data, size_t *len);

/* int32 argument; 0 with a TypeError pending when not a number. */
int nr_arg_i32(napi_env env, napi_value v, int32_t *out);

/* Unsigned 32-bit argument: an integer in 0..2^32-1, else RangeError. */
int nr_arg_u32(napi_env env, napi_value v, const char *what, uint32_t *out);

/* Interface name argument: a string of 1..IFNAMSIZ-1 bytes (never truncated).
 * `buf` must hold IFNAMSIZ bytes. */
int nr_arg_ifname(napi_env env, napi_value v, char *buf);

napi_value nr_num(napi_env env, double d);
napi_value nr_undef(napi_env env);
napi_value nr_bool(napi_env env, bool b);

/* Define `n` functions on `exports`. */
void nr_define(napi_env env, napi_value exports, const napi_property_descriptor *props, size_t n);

#define NR_FN(name, fn) { name, NULL, fn, NULL, NULL, NULL, napi_enumerable, NULL }
#define NR_DEFINE(env, exports, props) nr_define(env, exports, props, sizeof props / sizeof props[0])

/* Inside a napi_callback: bail out with a JS error when an N-API call fails. */
#define CHECK(call) do { if ((call) != napi_ok) { napi_throw_error(env, NULL, "napi call failed: " #call); return NULL; } } while (0)

/* Fetch at least n arguments into argv[]. */
#define ARGS(n) size_t argc = MAX_ARGS; napi_value argv[MAX_ARGS]; \
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL)); \
  if (argc < (n)) { napi_throw_type_error(env, NULL, "expected " #n " arguments"); return NULL; }

/* int32_t name = argv[i], or return with a TypeError. */
#define I32(i, name) int32_t name; if (!nr_arg_i32(env, argv[i], &name)) return NULL;
/* uint32_t name = argv[i] checked to 0..2^32-1. */
#define U32(i, name) uint32_t name; if (!nr_arg_u32(env, argv[i], #name, &name)) return NULL;

/* Live mappings (mmap.c): every mmap'ed area handed to JS goes through
 * nr_map_wrap, which makes it an external ArrayBuffer unmapped only by its
 * finalizer and records it (with a kind tag) in one list shared by all
 * threads. nr_map_find looks a buffer up in that list. */
enum { NR_MAP_PACKET_RING = 0, NR_MAP_XSK_RING = 1, NR_MAP_XSK_UMEM = 2 };
/* Wrap a fresh mapping; on failure it is unmapped and NULL returned (error pending). */
napi_value nr_map_wrap(napi_env env, void *addr, size_t len, int kind);
/* The kind of the live mapping behind ArrayBuffer `v` (its address in *addr),
 * -1 when `v` is an ArrayBuffer this file did not map, -2 (TypeError pending)
 * when it is not an ArrayBuffer. */
int nr_map_find(napi_env env, napi_value v, void **addr, size_t *len);

/* Registration hooks, one per native file (module.c calls them all). */
void init_socket(napi_env env, napi_value exports);
void init_mmap(napi_env env, napi_value exports);
void init_watch(napi_env env, napi_value exports);
void init_ioctl(napi_env env, napi_value exports);
void init_bpf(napi_env env, napi_value exports);
void init_sched(napi_env env, napi_value exports);
void init_xsk(napi_env env, napi_value exports);
void init_file(napi_env env, napi_value exports);

#endif
