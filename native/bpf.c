/*
 * bpf(2): program load, map create and element operations.
 * Every pointer handed to the kernel points into a JS buffer whose length has
 * been checked against what the kernel will read or write.
 */
#include "napi-util.h"

#include <errno.h>
#include <linux/bpf.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static int sys_bpf(int cmd, union bpf_attr *a) {
  return (int)syscall(__NR_bpf, cmd, a, sizeof *a);
}

/* bpfProgLoad(progType, insns bytes, license, logBytes) -> fd; on failure the
 * verifier log is attached to the error as .log */
static napi_value n_bpf_prog_load(napi_env env, napi_callback_info info) {
  ARGS(4); I32(0, type);
  void *insns; size_t ilen;
  if (!nr_arg_bytes(env, argv[1], &insns, &ilen)) return NULL;
  char license[64]; size_t n;
  CHECK(napi_get_value_string_utf8(env, argv[2], license, sizeof license, &n));
  void *logbuf; size_t loglen;
  if (!nr_arg_bytes(env, argv[3], &logbuf, &loglen)) return NULL;
  union bpf_attr a;
  memset(&a, 0, sizeof a);
  a.prog_type = (uint32_t)type;
  a.insn_cnt = (uint32_t)(ilen / 8);
  a.insns = (uint64_t)(uintptr_t)insns;
  a.license = (uint64_t)(uintptr_t)license;
  if (loglen > 0) { a.log_level = 1; a.log_buf = (uint64_t)(uintptr_t)logbuf; a.log_size = (uint32_t)loglen; }
  int fd = sys_bpf(BPF_PROG_LOAD, &a);
  if (fd < 0) { nr_throw_errno(env, "bpf(BPF_PROG_LOAD)", errno); return NULL; }
  return nr_num(env, fd);
}

/* bpfMapCreate(mapType, keySize, valueSize, maxEntries) -> fd */
static napi_value n_bpf_map_create(napi_env env, napi_callback_info info) {
  ARGS(4); I32(0, type); I32(1, ks); I32(2, vs); I32(3, max);
  union bpf_attr a;
  memset(&a, 0, sizeof a);
  a.map_type = (uint32_t)type; a.key_size = (uint32_t)ks; a.value_size = (uint32_t)vs; a.max_entries = (uint32_t)max;
  int fd = sys_bpf(BPF_MAP_CREATE, &a);
  if (fd < 0) { nr_throw_errno(env, "bpf(BPF_MAP_CREATE)", errno); return NULL; }
  return nr_num(env, fd);
}

/* bpfMapOp(cmd, mapFd, key bytes, value bytes, flags) -> 0, or -errno for ENOENT */
static napi_value n_bpf_map_op(napi_env env, napi_callback_info info) {
  ARGS(5); I32(0, cmd); I32(1, mfd); I32(4, flags);
  void *k, *v; size_t kl, vl;
  if (!nr_arg_bytes(env, argv[2], &k, &kl) || !nr_arg_bytes(env, argv[3], &v, &vl)) return NULL;
  union bpf_attr a;
  memset(&a, 0, sizeof a);
  a.map_fd = (uint32_t)mfd; a.key = (uint64_t)(uintptr_t)k; a.value = (uint64_t)(uintptr_t)v; a.flags = (uint64_t)flags;
  int r = sys_bpf(cmd, &a);
  if (r < 0) { if (errno == ENOENT) return nr_num(env, -ENOENT); nr_throw_errno(env, "bpf(map op)", errno); return NULL; }
  return nr_num(env, 0);
}

void init_bpf(napi_env env, napi_value exports) {
  static const napi_property_descriptor props[] = {
    NR_FN("bpfProgLoad", n_bpf_prog_load), NR_FN("bpfMapCreate", n_bpf_map_create), NR_FN("bpfMapOp", n_bpf_map_op),
  };
  NR_DEFINE(env, exports, props);
}
