/*
 * Readiness: a libuv poll watcher that calls back into JS on the event loop,
 * and a blocking poll(2) for worker threads that own their loop.
 */
#include "napi-util.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <uv.h>

/* poll(fd, events, timeout_ms) -> revents (0 on timeout). Blocks: for worker threads. */
static napi_value n_poll(napi_env env, napi_callback_info info) {
  ARGS(3); I32(0, fd); I32(1, events); I32(2, timeout);
  struct pollfd p = {.fd = fd, .events = (short)events};
  int r;
  do { r = poll(&p, 1, timeout); } while (r < 0 && errno == EINTR && timeout < 0);
  if (r < 0) { if (errno == EINTR) return nr_num(env, 0); nr_throw_errno(env, "poll", errno); return NULL; }
  return nr_num(env, r == 0 ? 0 : p.revents);
}

/* A uv_poll_t watching one fd; calls back into JS with the revents mask.
 * JS starts it when it wants the next batch and stops it while it holds
 * blocks, so a level-triggered fd never spins the loop.
 *
 * Lifetime: the callback is stored on the watcher object itself (a JS
 * property), and the native reference to it is strong only while the watcher
 * is started (an active handle, like any pending I/O). While stopped, the
 * reference is weak, so an owner that drops its watcher without closing it
 * (capture -> watcher -> callback -> capture) is an ordinary JS cycle the
 * collector reclaims; the finalizer then releases the reference, the async
 * context and the uv handle. */
typedef struct {
  uv_poll_t poll;
  napi_env env;
  napi_ref cb;
  napi_async_context ctx;
  int closing;
  int started;
} watcher_t;

/* watchers allocated and not yet freed, all threads */
static int live_watchers = 0;

static void watcher_closed(uv_handle_t *h) {
  watcher_t *w = h->data;
  free(w);
  __atomic_sub_fetch(&live_watchers, 1, __ATOMIC_RELAXED);
}

static void watcher_cb(uv_poll_t *h, int status, int events) {
  watcher_t *w = h->data;
  if (w->closing) return;
  napi_env env = w->env;
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  napi_value cb = NULL, global, arg, res;
  napi_get_reference_value(env, w->cb, &cb);
  if (cb == NULL) { napi_close_handle_scope(env, scope); return; }
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

/* Strong reference while started, weak while stopped. */
static void hold(watcher_t *w, int on) {
  uint32_t rc;
  if (on && !w->started) { napi_reference_ref(w->env, w->cb, &rc); w->started = 1; }
  else if (!on && w->started) { napi_reference_unref(w->env, w->cb, &rc); w->started = 0; }
}

/* Release everything but the memory, which the uv close callback frees. */
static void watcher_dispose(napi_env env, watcher_t *w) {
  w->closing = 1;
  uv_poll_stop(&w->poll);
  napi_delete_reference(env, w->cb);
  napi_async_destroy(env, w->ctx);
  uv_close((uv_handle_t *)&w->poll, watcher_closed);
}

static void watcher_finalize(napi_env env, void *data, void *hint) {
  (void)hint;
  watcher_t *w = data;
  if (!w->closing) watcher_dispose(env, w);
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
  napi_valuetype t;
  CHECK(napi_typeof(env, argv[1], &t));
  if (t != napi_function) { napi_throw_type_error(env, NULL, "watch: expected a callback function"); return NULL; }
  uv_loop_t *loop;
  CHECK(napi_get_uv_event_loop(env, &loop));
  napi_value obj;
  CHECK(napi_create_object(env, &obj));
  /* the object owns the callback; the native reference starts weak */
  napi_property_descriptor keep = {"callback", NULL, NULL, NULL, NULL, argv[1], napi_default, NULL};
  CHECK(napi_define_properties(env, obj, 1, &keep));
  watcher_t *w = calloc(1, sizeof *w);
  if (!w) { nr_throw_errno(env, "calloc", ENOMEM); return NULL; }
  int r = uv_poll_init(loop, &w->poll, fd);
  if (r < 0) { free(w); nr_throw_errno(env, "uv_poll_init", -r); return NULL; }
  w->poll.data = w;
  w->env = env;
  __atomic_add_fetch(&live_watchers, 1, __ATOMIC_RELAXED);
  napi_value rname;
  napi_create_string_utf8(env, "netring:watch", NAPI_AUTO_LENGTH, &rname);
  if (napi_create_reference(env, argv[1], 0, &w->cb) != napi_ok ||
      napi_async_init(env, NULL, rname, &w->ctx) != napi_ok ||
      napi_wrap(env, obj, w, watcher_finalize, NULL, NULL) != napi_ok) {
    w->closing = 1;
    if (w->cb) napi_delete_reference(env, w->cb);
    if (w->ctx) napi_async_destroy(env, w->ctx);
    uv_close((uv_handle_t *)&w->poll, watcher_closed);
    napi_throw_error(env, NULL, "watch: napi call failed");
    return NULL;
  }
  return obj;
}

/* watcherStart(w, events) with POLLIN/POLLOUT bits */
static napi_value n_watcher_start(napi_env env, napi_callback_info info) {
  ARGS(2);
  watcher_t *w = get_watcher(env, argv[0]);
  if (!w) return NULL;
  I32(1, events);
  if (w->closing) return nr_undef(env);
  int uvev = (events & POLLIN ? UV_READABLE : 0) | (events & POLLOUT ? UV_WRITABLE : 0) | UV_DISCONNECT;
  int r = uv_poll_start(&w->poll, uvev, watcher_cb);
  if (r < 0) { nr_throw_errno(env, "uv_poll_start", -r); return NULL; }
  hold(w, 1);
  return nr_undef(env);
}

static napi_value n_watcher_stop(napi_env env, napi_callback_info info) {
  ARGS(1);
  watcher_t *w = get_watcher(env, argv[0]);
  if (!w) return NULL;
  if (!w->closing) { uv_poll_stop(&w->poll); hold(w, 0); }
  return nr_undef(env);
}

/* watcherClose(w): idempotent; must run before the fd is closed */
static napi_value n_watcher_close(napi_env env, napi_callback_info info) {
  ARGS(1);
  watcher_t *w = NULL;
  napi_remove_wrap(env, argv[0], (void **)&w);
  if (!w) return nr_undef(env);
  watcher_dispose(env, w);
  return nr_undef(env);
}

/* watcherCount() -> watchers alive (created, not yet freed): for leak tests */
static napi_value n_watcher_count(napi_env env, napi_callback_info info) {
  return nr_num(env, __atomic_load_n(&live_watchers, __ATOMIC_RELAXED));
}

void init_watch(napi_env env, napi_value exports) {
  static const napi_property_descriptor props[] = {
    NR_FN("poll", n_poll), NR_FN("watch", n_watch), NR_FN("watcherStart", n_watcher_start),
    NR_FN("watcherStop", n_watcher_stop), NR_FN("watcherClose", n_watcher_close),
    NR_FN("watcherCount", n_watcher_count),
  };
  NR_DEFINE(env, exports, props);
}
