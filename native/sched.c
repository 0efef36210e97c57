/* Scheduling: CPU affinity of the calling thread, its kernel tid, its current CPU. */
#include "napi-util.h"

#include <errno.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

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
      nr_throw_range(env, "CPU numbers must be integers in 0..1023");
      return NULL;
    }
    CPU_SET(c, &set);
  }
  if (sched_setaffinity(0, sizeof set, &set) < 0) { nr_throw_errno(env, "sched_setaffinity", errno); return NULL; }
  return nr_undef(env);
}

/* getAffinity() -> CPUs the calling thread may run on */
static napi_value n_get_affinity(napi_env env, napi_callback_info info) {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) < 0) { nr_throw_errno(env, "sched_getaffinity", errno); return NULL; }
  napi_value arr;
  napi_create_array(env, &arr);
  uint32_t k = 0;
  for (int c = 0; c < CPU_SETSIZE; c++) if (CPU_ISSET(c, &set)) napi_set_element(env, arr, k++, nr_num(env, c));
  return arr;
}

/* threadId() -> kernel tid of the calling thread (gettid) */
static napi_value n_thread_id(napi_env env, napi_callback_info info) {
  return nr_num(env, (double)syscall(SYS_gettid));
}

/* currentCpu() -> sched_getcpu() */
static napi_value n_current_cpu(napi_env env, napi_callback_info info) {
  int c = sched_getcpu();
  if (c < 0) { nr_throw_errno(env, "sched_getcpu", errno); return NULL; }
  return nr_num(env, c);
}

void init_sched(napi_env env, napi_value exports) {
  static const napi_property_descriptor props[] = {
    NR_FN("setAffinity", n_set_affinity), NR_FN("getAffinity", n_get_affinity),
    NR_FN("threadId", n_thread_id), NR_FN("currentCpu", n_current_cpu),
  };
  NR_DEFINE(env, exports, props);
}
