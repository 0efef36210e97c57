/* Argument helpers and errno -> JS error conversion shared by every native file. */
#include "napi-util.h"

#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>

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

void nr_throw_errno(napi_env env, const char *syscall_name, int err) {
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

void nr_throw_range(napi_env env, const char *msg) {
  napi_throw_range_error(env, "EINVAL", msg);
}

int nr_arg_bytes(napi_env env, napi_value v, void **data, size_t *len) {
  bool is = false;
  if (napi_is_typedarray(env, v, &is) == napi_ok && is) {
    napi_typedarray_type t; size_t n; napi_value ab; size_t off;
    if (napi_get_typedarray_info(env, v, &t, &n, data, &ab, &off) != napi_ok) return 0;
    size_t el;
    switch (t) {
      case napi_int16_array: case napi_uint16_array: el = 2; break;
      case napi_int32_array: case napi_uint32_array: case napi_float32_array: el = 4; break;
      case napi_float64_array: case napi_bigint64_array: case napi_biguint64_array: el = 8; break;
      default: el = 1;
    }
    *len = n * el;
    return 1;
  }
  if (napi_is_dataview(env, v, &is) == napi_ok && is) {
    napi_value ab; size_t off;
    return napi_get_dataview_info(env, v, len, data, &ab, &off) == napi_ok;
  }
  if (napi_is_arraybuffer(env, v, &is) == napi_ok && is) {
    return napi_get_arraybuffer_info(env, v, data, len) == napi_ok;
  }
  napi_throw_type_error(env, NULL, "expected a Uint8Array or ArrayBuffer");
  return 0;
}

int nr_arg_i32(napi_env env, napi_value v, int32_t *out) {
  *out = 0;
  if (napi_get_value_int32(env, v, out) != napi_ok) { napi_throw_type_error(env, NULL, "expected a number"); return 0; }
  return 1;
}

int nr_arg_u32(napi_env env, napi_value v, const char *what, uint32_t *out) {
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok) { napi_throw_type_error(env, NULL, "expected a number"); return 0; }
  if (!(d >= 0 && d <= 4294967295.0) || d != (double)(uint32_t)d) {
    char msg[128];
    snprintf(msg, sizeof msg, "%s must be an integer in 0..4294967295", what);
    nr_throw_range(env, msg);
    return 0;
  }
  *out = (uint32_t)d;
  return 1;
}

int nr_arg_ifname(napi_env env, napi_value v, char *buf) {
  size_t n = 0;
  /* measure first so a long name is refused, not truncated */
  if (napi_get_value_string_utf8(env, v, NULL, 0, &n) != napi_ok) {
    napi_throw_type_error(env, NULL, "expected an interface name (string)");
    return 0;
  }
  if (n == 0 || n >= IFNAMSIZ) {
    char msg[96];
    snprintf(msg, sizeof msg, "interface name must be 1..%d bytes (got %zu)", IFNAMSIZ - 1, n);
    nr_throw_range(env, msg);
    return 0;
  }
  if (napi_get_value_string_utf8(env, v, buf, IFNAMSIZ, &n) != napi_ok) return 0;
  if (strlen(buf) != n) { nr_throw_range(env, "interface name contains a NUL byte"); return 0; }
  return 1;
}

napi_value nr_num(napi_env env, double d) { napi_value v; napi_create_double(env, d, &v); return v; }
napi_value nr_undef(napi_env env) { napi_value v; napi_get_undefined(env, &v); return v; }
napi_value nr_bool(napi_env env, bool b) { napi_value v; napi_get_boolean(env, b, &v); return v; }

void nr_define(napi_env env, napi_value exports, const napi_property_descriptor *props, size_t n) {
  napi_define_properties(env, exports, n, props);
}
