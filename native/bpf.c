/*
 * bpf(2): program load (with the verifier's log), map create and typed
 * element operations, links (XDP, tcx), test runs, SO_ATTACH_BPF.
 *
 * Every pointer handed to the kernel points into a JS buffer whose length has
 * been checked against what the kernel will read or write: map operations
 * read the map's key and value sizes with BPF_OBJ_GET_INFO_BY_FD (per-CPU
 * maps exchange round_up(value, 8) * possible CPUs bytes), test runs pass
 * the output buffers' lengths as the kernel's copy limits.
 */
#include "napi-util.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#define INSN_SIZE 8
#define LOG_MIN (64u << 10)
#define LOG_MAX (16u << 20)
#define LOG_TAIL 3000 /* bytes of the verifier log quoted in the error message */

static int sys_bpf(int cmd, union bpf_attr *a) {
  return (int)syscall(__NR_bpf, cmd, a, sizeof *a);
}

/* Optional trailing argument: undefined/null -> dflt. */
static int opt_u32(napi_env env, napi_value *argv, size_t argc, size_t i, const char *what, uint32_t dflt, uint32_t *out) {
  if (i >= argc) { *out = dflt; return 1; }
  napi_valuetype t;
  if (napi_typeof(env, argv[i], &t) != napi_ok) return 0;
  if (t == napi_undefined || t == napi_null) { *out = dflt; return 1; }
  return nr_arg_u32(env, argv[i], what, out);
}

/* Optional object name (maps, programs): 0..15 bytes. */
static int opt_name(napi_env env, napi_value *argv, size_t argc, size_t i, char *buf) {
  memset(buf, 0, BPF_OBJ_NAME_LEN);
  if (i >= argc) return 1;
  napi_valuetype t;
  if (napi_typeof(env, argv[i], &t) != napi_ok) return 0;
  if (t == napi_undefined || t == napi_null) return 1;
  size_t n = 0;
  if (t != napi_string || napi_get_value_string_utf8(env, argv[i], NULL, 0, &n) != napi_ok) {
    napi_throw_type_error(env, NULL, "expected a name (string)");
    return 0;
  }
  if (n >= BPF_OBJ_NAME_LEN) { nr_throw_range(env, "BPF object names are at most 15 bytes"); return 0; }
  napi_get_value_string_utf8(env, argv[i], buf, BPF_OBJ_NAME_LEN, &n);
  return 1;
}

/* Bytes or null/undefined (-> NULL, 0). */
static int opt_bytes(napi_env env, napi_value *argv, size_t argc, size_t i, void **data, size_t *len) {
  *data = NULL; *len = 0;
  if (i >= argc) return 1;
  napi_valuetype t;
  if (napi_typeof(env, argv[i], &t) != napi_ok) return 0;
  if (t == napi_undefined || t == napi_null) return 1;
  return nr_arg_bytes(env, argv[i], data, len);
}

/* ------------------------------------------------------------ programs --- */

/* Throw the load failure with the verifier's log: .log holds all of it, the
 * message quotes its tail (where the verifier says what it refused). */
static void throw_with_log(napi_env env, int err, const char *log) {
  nr_throw_errno(env, "bpf(BPF_PROG_LOAD)", err);
  napi_value exc;
  if (napi_get_and_clear_last_exception(env, &exc) != napi_ok) return;
  size_t n = log ? strlen(log) : 0;
  while (n > 0 && (log[n - 1] == '\n' || log[n - 1] == ' ')) n--;
  if (n > 0) {
    const char *tail = log;
    size_t tn = n;
    if (n > LOG_TAIL) { tail = log + n - LOG_TAIL; tn = LOG_TAIL; const char *nl = memchr(tail, '\n', tn); if (nl) { tn -= (size_t)(nl + 1 - tail); tail = nl + 1; } }
    napi_value msg, full, old;
    if (napi_get_named_property(env, exc, "message", &old) == napi_ok) {
      size_t ol = 0;
      napi_get_value_string_utf8(env, old, NULL, 0, &ol);
      char *m = malloc(ol + tn + 32);
      if (m) {
        napi_get_value_string_utf8(env, old, m, ol + 1, &ol);
        memcpy(m + ol, "\nverifier log:\n", 15);
        memcpy(m + ol + 15, tail, tn);
        m[ol + 15 + tn] = 0;
        napi_create_string_utf8(env, m, NAPI_AUTO_LENGTH, &msg);
        napi_set_named_property(env, exc, "message", msg);
        free(m);
      }
    }
    napi_create_string_utf8(env, log, n, &full);
    napi_set_named_property(env, exc, "log", full);
  }
  napi_throw(env, exc);
}

/* bpfProgLoad(progType, insns, license, expectedAttachType?, progFlags?, name?) -> fd.
 * insns: 8-byte bpf_insn records (a length not divisible by 8 is refused).
 * Loads without a log first; when the kernel refuses, loads again with
 * log_level 1 and throws with the verifier's log (message tail, .log). */
static napi_value n_bpf_prog_load(napi_env env, napi_callback_info info) {
  ARGS(3); U32(0, progType);
  void *insns; size_t ilen;
  if (!nr_arg_bytes(env, argv[1], &insns, &ilen)) return NULL;
  if (ilen == 0 || ilen % INSN_SIZE) {
    char m[128];
    snprintf(m, sizeof m, "an eBPF program is a non-empty list of 8-byte instructions (got %zu bytes)", ilen);
    nr_throw_range(env, m);
    return NULL;
  }
  if (ilen / INSN_SIZE > 1000000) { nr_throw_range(env, "an eBPF program has at most 1000000 instructions"); return NULL; }
  char license[128]; size_t n = 0;
  if (napi_get_value_string_utf8(env, argv[2], NULL, 0, &n) != napi_ok) { napi_throw_type_error(env, NULL, "license must be a string"); return NULL; }
  if (n >= sizeof license) { nr_throw_range(env, "license string too long (at most 127 bytes)"); return NULL; }
  CHECK(napi_get_value_string_utf8(env, argv[2], license, sizeof license, &n));
  uint32_t eat, pflags;
  char name[BPF_OBJ_NAME_LEN];
  if (!opt_u32(env, argv, argc, 3, "expectedAttachType", 0, &eat) || !opt_u32(env, argv, argc, 4, "progFlags", 0, &pflags) ||
      !opt_name(env, argv, argc, 5, name)) return NULL;

  union bpf_attr a;
  memset(&a, 0, sizeof a);
  a.prog_type = progType;
  a.insn_cnt = (uint32_t)(ilen / INSN_SIZE);
  a.insns = (uint64_t)(uintptr_t)insns;
  a.license = (uint64_t)(uintptr_t)license;
  a.expected_attach_type = eat;
  a.prog_flags = pflags;
  memcpy(a.prog_name, name, sizeof a.prog_name);
  int fd = sys_bpf(BPF_PROG_LOAD, &a);
  if (fd >= 0) return nr_num(env, fd);
  int err = errno;
  /* Refused: load again with the verifier log, growing it while it is too short. */
  char *log = NULL;
  for (uint32_t size = LOG_MIN; size <= LOG_MAX; size *= 4) {
    char *nl = realloc(log, size);
    if (!nl) break;
    log = nl;
    log[0] = 0;
    a.log_level = 1;
    a.log_buf = (uint64_t)(uintptr_t)log;
    a.log_size = size;
    fd = sys_bpf(BPF_PROG_LOAD, &a);
    if (fd >= 0) { free(log); return nr_num(env, fd); } /* passed the second time (transient) */
    if (errno != ENOSPC) { err = errno; break; }
  }
  if (log) log[a.log_size ? a.log_size - 1 : 0] = 0;
  throw_with_log(env, err, log);
  free(log);
  return NULL;
}

/* ---------------------------------------------------------------- maps --- */

/* bpfMapCreate(mapType, keySize, valueSize, maxEntries, mapFlags?, name?, mapExtra?) -> fd
 * mapFlags: BPF_F_NO_PREALLOC, BPF_F_MMAPABLE, BPF_F_RDONLY_PROG, ... */
static napi_value n_bpf_map_create(napi_env env, napi_callback_info info) {
  ARGS(4); U32(0, mapType); U32(1, keySize); U32(2, valueSize); U32(3, maxEntries);
  uint32_t flags;
  char name[BPF_OBJ_NAME_LEN];
  if (!opt_u32(env, argv, argc, 4, "mapFlags", 0, &flags) || !opt_name(env, argv, argc, 5, name)) return NULL;
  union bpf_attr a;
  memset(&a, 0, sizeof a);
  a.map_type = mapType; a.key_size = keySize; a.value_size = valueSize; a.max_entries = maxEntries;
  a.map_flags = flags;
  memcpy(a.map_name, name, sizeof a.map_name);
  int fd = sys_bpf(BPF_MAP_CREATE, &a);
  if (fd < 0) { nr_throw_errno(env, "bpf(BPF_MAP_CREATE)", errno); return NULL; }
  return nr_num(env, fd);
}

static int map_info(int fd, struct bpf_map_info *mi) {
  union bpf_attr a;
  memset(&a, 0, sizeof a);
  memset(mi, 0, sizeof *mi);
  a.info.bpf_fd = (uint32_t)fd;
  a.info.info_len = sizeof *mi;
  a.info.info = (uint64_t)(uintptr_t)mi;
  return sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &a) < 0 ? errno : 0;
}

/* Number of possible CPUs (weight of /sys/devices/system/cpu/possible),
 * the multiplier of per-CPU map values. */
static int possible_cpus(void) {
  static int cached = 0;
  if (cached > 0) return cached;
  int fd = open("/sys/devices/system/cpu/possible", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -errno;
  char buf[4096];
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return -EIO;
  buf[n] = 0;
  int count = 0;
  char *p = buf;
  while (*p && *p != '\n') {
    char *e;
    long lo = strtol(p, &e, 10), hi = lo;
    if (e == p) return -EIO;
    p = e;
    if (*p == '-') { hi = strtol(p + 1, &e, 10); if (e == p + 1) return -EIO; p = e; }
    if (hi < lo) return -EIO;
    count += (int)(hi - lo + 1);
    if (*p == ',') p++;
  }
  if (count <= 0) return -EIO;
  cached = count;
  return count;
}

static int is_percpu(uint32_t type) {
  return type == BPF_MAP_TYPE_PERCPU_HASH || type == BPF_MAP_TYPE_PERCPU_ARRAY ||
         type == BPF_MAP_TYPE_LRU_PERCPU_HASH || type == BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE;
}

/* Sizes the kernel reads/writes for this map's keys and values. */
static int map_sizes(napi_env env, int fd, uint32_t *ksz, size_t *vsz) {
  struct bpf_map_info mi;
  int e = map_info(fd, &mi);
  if (e) { nr_throw_errno(env, "bpf(BPF_OBJ_GET_INFO_BY_FD)", e); return 0; }
  *ksz = mi.key_size;
  *vsz = mi.value_size;
  if (is_percpu(mi.type)) {
    int cpus = possible_cpus();
    if (cpus < 0) { nr_throw_errno(env, "read /sys/devices/system/cpu/possible", -cpus); return 0; }
    *vsz = (((size_t)mi.value_size + 7) & ~(size_t)7) * (size_t)cpus;
  }
  return 1;
}

static int check_len(napi_env env, const char *what, size_t have, size_t need) {
  if (have >= need) return 1;
  char m[160];
  snprintf(m, sizeof m, "%s buffer is %zu bytes, the map needs %zu", what, have, need);
  nr_throw_range(env, m);
  return 0;
}

/* Key argument checked against the map: NULL allowed only for key_size 0. */
static int map_key(napi_env env, napi_value v, uint32_t ksz, void **k) {
  size_t kl = 0;
  napi_valuetype t;
  *k = NULL;
  if (napi_typeof(env, v, &t) != napi_ok) return 0;
  if (t == napi_undefined || t == napi_null) return check_len(env, "key", 0, ksz);
  if (!nr_arg_bytes(env, v, k, &kl)) return 0;
  return check_len(env, "key", kl, ksz);
}

/* bpfMapInfo(fd) -> [type, keySize, valueSize, maxEntries, mapFlags, id] */
static napi_value n_bpf_map_info(napi_env env, napi_callback_info info) {
  ARGS(1); I32(0, fd);
  struct bpf_map_info mi;
  int e = map_info(fd, &mi);
  if (e) { nr_throw_errno(env, "bpf(BPF_OBJ_GET_INFO_BY_FD)", e); return NULL; }
  napi_value arr;
  napi_create_array_with_length(env, 6, &arr);
  napi_set_element(env, arr, 0, nr_num(env, mi.type));
  napi_set_element(env, arr, 1, nr_num(env, mi.key_size));
  napi_set_element(env, arr, 2, nr_num(env, mi.value_size));
  napi_set_element(env, arr, 3, nr_num(env, mi.max_entries));
  napi_set_element(env, arr, 4, nr_num(env, mi.map_flags));
  napi_set_element(env, arr, 5, nr_num(env, mi.id));
  return arr;
}

/* bpfMapLookup(fd, key, value, flags?) -> true (value filled) / false (no entry) */
static napi_value n_bpf_map_lookup(napi_env env, napi_callback_info info) {
  ARGS(3); I32(0, fd);
  uint32_t ksz; size_t vsz, vl; void *k, *v; uint32_t flags;
  if (!map_sizes(env, fd, &ksz, &vsz) || !map_key(env, argv[1], ksz, &k)) return NULL;
  if (!nr_arg_bytes(env, argv[2], &v, &vl) || !check_len(env, "value", vl, vsz)) return NULL;
  if (!opt_u32(env, argv, argc, 3, "flags", 0, &flags)) return NULL;
  union bpf_attr a;
  memset(&a, 0, sizeof a);
  a.map_fd = (uint32_t)fd; a.key = (uint64_t)(uintptr_t)k; a.value = (uint64_t)(uintptr_t)v; a.flags = flags;
  if (sys_bpf(BPF_MAP_LOOKUP_ELEM, &a) < 0) {
    if (errno == ENOENT) return nr_bool(env, false);
    nr_throw_errno(env, "bpf(BPF_MAP_LOOKUP_ELEM)", errno);
    return NULL;
  }
  return nr_bool(env, true);
}

/* bpfMapUpdate(fd, key, value, flags?) with BPF_ANY / BPF_NOEXIST / BPF_EXIST / BPF_F_LOCK */
static napi_value n_bpf_map_update(napi_env env, napi_callback_info info) {
  ARGS(3); I32(0, fd);
  uint32_t ksz; size_t vsz, vl; void *k, *v; uint32_t flags;
  if (!map_sizes(env, fd, &ksz, &vsz) || !map_key(env, argv[1], ksz, &k)) return NULL;
  if (!nr_arg_bytes(env, argv[2], &v, &vl) || !check_len(env, "value", vl, vsz)) return NULL;
  if (!opt_u32(env, argv, argc, 3, "flags", 0, &flags)) return NULL;
  union bpf_attr a;
  memset(&a, 0, sizeof a);
  a.map_fd = (uint32_t)fd; a.key = (uint64_t)(uintptr_t)k; a.value = (uint64_t)(uintptr_t)v; a.flags = flags;
  if (sys_bpf(BPF_MAP_UPDATE_ELEM, &a) < 0) { nr_throw_errno(env, "bpf(BPF_MAP_UPDATE_ELEM)", errno); return NULL; }
  return nr_undef(env);
}

/* bpfMapDelete(fd, key) -> true (deleted) / false (no entry) */
static napi_value n_bpf_map_delete(napi_env env, napi_callback_info info) {
  ARGS(2); I32(0, fd);
  uint32_t ksz; size_t vsz; void *k;
  if (!map_sizes(env, fd, &ksz, &vsz) || !map_key(env, argv[1], ksz, &k)) return NULL;
  union bpf_attr a;
  memset(&a, 0, sizeof a);
  a.map_fd = (uint32_t)fd; a.key = (uint64_t)(uintptr_t)k;
  if (sys_bpf(BPF_MAP_DELETE_ELEM, &a) < 0) {
    if (errno == ENOENT) return nr_bool(env, false);
    nr_throw_errno(env, "bpf(BPF_MAP_DELETE_ELEM)", errno);
    return NULL;
  }
  return nr_bool(env, true);
}

/* bpfMapNextKey(fd, key | null, nextKey) -> true (nextKey filled) / false (no more keys).
 * A null key asks for the first key. */
static napi_value n_bpf_map_next_key(napi_env env, napi_callback_info info) {
  ARGS(3); I32(0, fd);
  uint32_t ksz; size_t vsz, nl; void *k = NULL, *nk;
  if (!map_sizes(env, fd, &ksz, &vsz)) return NULL;
  napi_valuetype t;
  CHECK(napi_typeof(env, argv[1], &t));
  if (t != napi_undefined && t != napi_null && !map_key(env, argv[1], ksz, &k)) return NULL;
  if (!nr_arg_bytes(env, argv[2], &nk, &nl) || !check_len(env, "next key", nl, ksz)) return NULL;
  union bpf_attr a;
  memset(&a, 0, sizeof a);
  a.map_fd = (uint32_t)fd; a.key = (uint64_t)(uintptr_t)k; a.next_key = (uint64_t)(uintptr_t)nk;
  if (sys_bpf(BPF_MAP_GET_NEXT_KEY, &a) < 0) {
    if (errno == ENOENT) return nr_bool(env, false);
    nr_throw_errno(env, "bpf(BPF_MAP_GET_NEXT_KEY)", errno);
    return NULL;
  }
  return nr_bool(env, true);
}

/* bpfPossibleCpus() -> the number of per-CPU slots in a per-CPU map value */
static napi_value n_bpf_possible_cpus(napi_env env, napi_callback_info info) {
  int n = possible_cpus();
  if (n < 0) { nr_throw_errno(env, "read /sys/devices/system/cpu/possible", -n); return NULL; }
  return nr_num(env, n);
}

/* --------------------------------------------------------------- links --- */

/* bpfLinkCreate(progFd, target, attachType, flags?) -> link fd.
 * target is an ifindex for BPF_XDP (flags = XDP_FLAGS_*) and BPF_TCX_INGRESS /
 * BPF_TCX_EGRESS, else a target fd. */
static napi_value n_bpf_link_create(napi_env env, napi_callback_info info) {
  ARGS(3); I32(0, progFd); U32(1, target); U32(2, attachType);
  uint32_t flags;
  if (!opt_u32(env, argv, argc, 3, "flags", 0, &flags)) return NULL;
  union bpf_attr a;
  memset(&a, 0, sizeof a);
  a.link_create.prog_fd = (uint32_t)progFd;
  a.link_create.target_fd = target; /* union with target_ifindex */
  a.link_create.attach_type = attachType;
  a.link_create.flags = flags;
  int fd = sys_bpf(BPF_LINK_CREATE, &a);
  if (fd < 0) { nr_throw_errno(env, "bpf(BPF_LINK_CREATE)", errno); return NULL; }
  return nr_num(env, fd);
}

/* bpfLinkDetach(linkFd): detach the program now (the fd stays open, defunct) */
static napi_value n_bpf_link_detach(napi_env env, napi_callback_info info) {
  ARGS(1); I32(0, linkFd);
  union bpf_attr a;
  memset(&a, 0, sizeof a);
  a.link_detach.link_fd = (uint32_t)linkFd;
  if (sys_bpf(BPF_LINK_DETACH, &a) < 0) { nr_throw_errno(env, "bpf(BPF_LINK_DETACH)", errno); return NULL; }
  return nr_undef(env);
}

/* ------------------------------------------------------------ test run --- */

/* bpfProgTestRun(progFd, dataIn, dataOut | null, repeat?, ctxIn | null, ctxOut | null, flags?)
 *   -> [retval, durationNs, dataSizeOut, ctxSizeOut]
 * The kernel copies at most dataOut.length / ctxOut.length bytes back; when
 * the output is longer it fails with ENOSPC. */
static napi_value n_bpf_prog_test_run(napi_env env, napi_callback_info info) {
  ARGS(2); I32(0, progFd);
  void *din, *dout, *cin, *cout; size_t dinl, doutl, cinl, coutl;
  uint32_t repeat, flags;
  if (!nr_arg_bytes(env, argv[1], &din, &dinl) || !opt_bytes(env, argv, argc, 2, &dout, &doutl) ||
      !opt_u32(env, argv, argc, 3, "repeat", 1, &repeat) || !opt_bytes(env, argv, argc, 4, &cin, &cinl) ||
      !opt_bytes(env, argv, argc, 5, &cout, &coutl) || !opt_u32(env, argv, argc, 6, "flags", 0, &flags)) return NULL;
  if (dinl > 0xffffffffu || doutl > 0xffffffffu || cinl > 0xffffffffu || coutl > 0xffffffffu) {
    nr_throw_range(env, "test run buffers are at most 4 GiB");
    return NULL;
  }
  union bpf_attr a;
  memset(&a, 0, sizeof a);
  a.test.prog_fd = (uint32_t)progFd;
  a.test.data_in = (uint64_t)(uintptr_t)din; a.test.data_size_in = (uint32_t)dinl;
  a.test.data_out = (uint64_t)(uintptr_t)dout; a.test.data_size_out = (uint32_t)doutl;
  a.test.ctx_in = (uint64_t)(uintptr_t)cin; a.test.ctx_size_in = (uint32_t)cinl;
  a.test.ctx_out = (uint64_t)(uintptr_t)cout; a.test.ctx_size_out = (uint32_t)coutl;
  a.test.repeat = repeat;
  a.test.flags = flags;
  if (sys_bpf(BPF_PROG_TEST_RUN, &a) < 0) { nr_throw_errno(env, "bpf(BPF_PROG_TEST_RUN)", errno); return NULL; }
  napi_value arr;
  napi_create_array_with_length(env, 4, &arr);
  napi_set_element(env, arr, 0, nr_num(env, a.test.retval));
  napi_set_element(env, arr, 1, nr_num(env, a.test.duration));
  napi_set_element(env, arr, 2, nr_num(env, dout ? a.test.data_size_out : 0));
  napi_set_element(env, arr, 3, nr_num(env, cout ? a.test.ctx_size_out : 0));
  return arr;
}

/* ------------------------------------------------------------- sockets --- */

/* attachBpf(sockFd, progFd): SO_ATTACH_BPF (an eBPF SOCKET_FILTER program) */
static napi_value n_attach_bpf(napi_env env, napi_callback_info info) {
  ARGS(2); I32(0, fd); I32(1, progFd);
  if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_BPF, &progFd, sizeof progFd) < 0) {
    nr_throw_errno(env, "setsockopt(SO_ATTACH_BPF)", errno);
    return NULL;
  }
  return nr_undef(env);
}

void init_bpf(napi_env env, napi_value exports) {
  static const napi_property_descriptor props[] = {
    NR_FN("bpfProgLoad", n_bpf_prog_load), NR_FN("bpfMapCreate", n_bpf_map_create),
    NR_FN("bpfMapInfo", n_bpf_map_info), NR_FN("bpfMapLookup", n_bpf_map_lookup),
    NR_FN("bpfMapUpdate", n_bpf_map_update), NR_FN("bpfMapDelete", n_bpf_map_delete),
    NR_FN("bpfMapNextKey", n_bpf_map_next_key), NR_FN("bpfPossibleCpus", n_bpf_possible_cpus),
    NR_FN("bpfLinkCreate", n_bpf_link_create), NR_FN("bpfLinkDetach", n_bpf_link_detach),
    NR_FN("bpfProgTestRun", n_bpf_prog_test_run), NR_FN("attachBpf", n_attach_bpf),
  };
  NR_DEFINE(env, exports, props);
}
