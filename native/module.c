/*
 * netring native core: syscalls, mmap and readiness. Nothing else.
 *
 * This file is only the registration table: each subject lives in its own
 * file and defines its functions through its init_<subject>() hook. A new
 * native file adds one line here (and its name to binding.gyp).
 *
 *   socket.c  sockets, options, bind, send/recv, TX kick, classic BPF attach
 *   mmap.c    ring mapping and its release
 *   watch.c   libuv readiness watcher and blocking poll
 *   ioctl.c   ethtool timestamping info, hardware timestamp config
 *   bpf.c     bpf(2): programs, maps, links, test runs
 *   sched.c   CPU affinity, thread id, current CPU
 *   xsk.c     AF_XDP: UMEM, rings, bind, wakeups
 *   file.c    gathered writes (writev) from ring memory to capture files
 *
 * Failures throw a JS Error with .code = errno name ("EPERM"), .errno and
 * .syscall; bad arguments throw RangeError/TypeError. The TypeScript layer
 * adds the sentence that helps the user.
 */
#include "napi-util.h"

static napi_value init(napi_env env, napi_value exports) {
  init_socket(env, exports);
  init_mmap(env, exports);
  init_watch(env, exports);
  init_ioctl(env, exports);
  init_bpf(env, exports);
  init_sched(env, exports);
  init_xsk(env, exports);
  init_file(env, exports);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
