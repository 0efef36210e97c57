/*
 * netring native core: gathered writes from ring memory to a file.
 *
 * writev(fd, buffers, table, count) -> bytes written
 * writevAsync(fd, buffers, table, count, callback(err, bytes))
 *
 * `buffers` is a short array of ArrayBuffers (the mapped ring, a header
 * arena). `table` is a Uint32Array of `count` pairs (byte offset, buffer
 * index << 29 | length): the pieces of the output in order (a piece of
 * buffer 0, the ring, has its length as the second word). JS builds the
 * table in place (no object per piece); every piece is checked against its buffer's
 * size before anything is written, adjacent pieces are joined, and the pieces
 * go to the kernel with writev(2) in runs of at most IOV_MAX, resuming after
 * short writes and EINTR and waiting for POLLOUT on a non-blocking fd. The
 * kernel copies ring -> page cache once; nothing else copies.
 *
 * Errors throw (or pass to the callback) an Error with .code (ENOSPC, EIO,
 * EPIPE...), .errno, .syscall and .written = bytes written before the
 * failure. The async form runs the writev loop on a libuv pool thread and
 * keeps the buffers referenced until it completes; the table may be reused
 * as soon as the call returns (the iovecs are built before it returns).
 */
#include "napi-util.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#define MAX_BUFFERS 8
/* second word of a table pair: buffer index in the top 3 bits, length below */
#define PIECE_BUF_SHIFT 29
#define PIECE_LEN_MASK ((1u << PIECE_BUF_SHIFT) - 1)
#ifndef IOV_MAX
#define IOV_MAX 1024
#endif

static const char *file_errno_name(int e) {
  switch (e) {
#define E(x) case x: return #x;
    E(EPERM) E(ENOENT) E(EINTR) E(EIO) E(ENXIO) E(EBADF) E(EAGAIN) E(ENOMEM)
    E(EACCES) E(EFAULT) E(EFBIG) E(EINVAL) E(ENOSPC) E(ESPIPE) E(EROFS)
    E(EPIPE) E(EDQUOT) E(ENODEV) E(ESTALE) E(ENOTCONN) E(ECONNRESET)
#undef E
    default: return "EUNKNOWN";
  }
}

static napi_value make_errno_error(napi_env env, int err, double written) {
  char msg[160];
  snprintf(msg, sizeof msg, "writev failed: %s (%s)", strerror(err), file_errno_name(err));
  napi_value m, e, v;
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &m);
  napi_create_error(env, NULL, m, &e);
  napi_create_string_utf8(env, file_errno_name(err), NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, e, "code", v);
  napi_create_int32(env, err, &v);
  napi_set_named_property(env, e, "errno", v);
  napi_create_string_utf8(env, "writev", NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, e, "syscall", v);
  napi_create_double(env, written, &v);
  napi_set_named_property(env, e, "written", v);
  return e;
}

/* The writev loop: all of iov[0..n) (modified in place), IOV_MAX at a time. */
static int write_all(int fd, struct iovec *iov, size_t n, size_t *written) {
  size_t done = 0;
  while (n > 0) {
    int cnt = n > IOV_MAX ? IOV_MAX : (int)n;
    ssize_t w = writev(fd, iov, cnt);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        struct pollfd p = { .fd = fd, .events = POLLOUT, .revents = 0 };
        if (poll(&p, 1, -1) < 0 && errno != EINTR) { *written = done; return errno; }
        continue;
      }
      *written = done;
      return errno;
    }
    if (w == 0) { *written = done; return EIO; }
    done += (size_t)w;
    size_t left = (size_t)w;
    while (n > 0 && left >= iov->iov_len) { left -= iov->iov_len; iov++; n--; }
    if (n > 0 && left > 0) { iov->iov_base = (char *)iov->iov_base + left; iov->iov_len -= left; }
  }
  *written = done;
  return 0;
}

/*
 * The iovec list of a call: one buffer per JS thread, kept between calls (a
 * block table is thousands of pieces; no malloc/free per block). A second
 * call while the first one's async write still uses it gets its own.
 * Taken and given back on the JS thread only (job_complete runs there).
 */
typedef struct { struct iovec *buf; size_t cap; int busy; int hooked; } iov_cache_t;
static _Thread_local iov_cache_t iov_cache;

static void iov_cache_free(void *arg) {
  (void)arg;
  /* a write still in flight frees its list when it completes (iov_give: no longer the cached one) */
  if (!iov_cache.busy) free(iov_cache.buf);
  iov_cache.buf = NULL;
  iov_cache.cap = 0;
}

static struct iovec *iov_take(napi_env env, size_t n) {
  iov_cache_t *c = &iov_cache;
  if (c->busy) return malloc(sizeof(struct iovec) * n);
  if (c->cap < n) {
    free(c->buf);
    c->cap = 0;
    c->buf = malloc(sizeof(struct iovec) * n);
    if (c->buf == NULL) return NULL;
    c->cap = n;
  }
  if (!c->hooked && napi_add_env_cleanup_hook(env, iov_cache_free, NULL) == napi_ok) c->hooked = 1;
  c->busy = 1;
  return c->buf;
}

static void iov_give(struct iovec *p) {
  if (p != NULL && p == iov_cache.buf) iov_cache.busy = 0;
  else free(p);
}

/* Parsed arguments: the iovec list (from iov_take) and the buffers' values. */
typedef struct {
  int fd;
  struct iovec *iov;
  size_t n;
  size_t total;
  uint32_t nbuf;
  napi_value bufs[MAX_BUFFERS];
} gather_t;

/* Validates every piece and builds the joined iovec list. Throws and returns 0 on bad input. */
static int gather(napi_env env, napi_value *argv, gather_t *g) {
  if (napi_get_value_int32(env, argv[0], &g->fd) != napi_ok || g->fd < 0) {
    napi_throw_type_error(env, NULL, "writev: fd must be a non-negative integer");
    return 0;
  }
  bool is = false;
  if (napi_is_array(env, argv[1], &is) != napi_ok || !is) {
    napi_throw_type_error(env, NULL, "writev: buffers must be an array of ArrayBuffers");
    return 0;
  }
  napi_get_array_length(env, argv[1], &g->nbuf);
  if (g->nbuf == 0 || g->nbuf > MAX_BUFFERS) {
    napi_throw_range_error(env, NULL, "writev: 1..8 buffers");
    return 0;
  }
  char *base[MAX_BUFFERS];
  size_t size[MAX_BUFFERS];
  for (uint32_t i = 0; i < g->nbuf; i++) {
    napi_get_element(env, argv[1], i, &g->bufs[i]);
    void *d = NULL;
    size_t len = 0;
    if (napi_is_arraybuffer(env, g->bufs[i], &is) != napi_ok || !is ||
        napi_get_arraybuffer_info(env, g->bufs[i], &d, &len) != napi_ok) {
      napi_throw_type_error(env, NULL, "writev: buffers must be an array of ArrayBuffers");
      return 0;
    }
    base[i] = d;
    size[i] = len;
  }
  napi_typedarray_type t;
  size_t tlen = 0;
  void *tdata = NULL;
  if (napi_is_typedarray(env, argv[2], &is) != napi_ok || !is ||
      napi_get_typedarray_info(env, argv[2], &t, &tlen, &tdata, NULL, NULL) != napi_ok || t != napi_uint32_array) {
    napi_throw_type_error(env, NULL, "writev: table must be a Uint32Array of (offset, buffer << 29 | length) pairs");
    return 0;
  }
  int64_t count = 0;
  if (napi_get_value_int64(env, argv[3], &count) != napi_ok || count < 0 || (uint64_t)count * 2 > tlen) {
    napi_throw_range_error(env, NULL, "writev: count must be 0..table.length/2");
    return 0;
  }
  const uint32_t *tab = tdata;
  g->iov = iov_take(env, count > 0 ? (size_t)count : 1);
  if (g->iov == NULL) { napi_throw_error(env, "ENOMEM", "writev: out of memory"); return 0; }
  /* locals, not g->...: the iovec stores (size_t lengths) could alias g->n and g->total, which would be reloaded every piece */
  struct iovec *iov = g->iov;
  size_t n = 0, total = 0;
  const uint32_t nbuf = g->nbuf;
  for (int64_t i = 0; i < count; i++) {
    uint32_t off = tab[2 * i], bl = tab[2 * i + 1];
    uint32_t b = bl >> PIECE_BUF_SHIFT, len = bl & PIECE_LEN_MASK;
    if (b >= nbuf || (uint64_t)off + len > size[b]) {
      char msg[160];
      snprintf(msg, sizeof msg, "writev: piece %lld (buffer %u, offset %u, length %u) is outside its buffer",
               (long long)i, b, off, len);
      iov_give(g->iov);
      g->iov = NULL;
      napi_throw_range_error(env, "ERANGE", msg);
      return 0;
    }
    if (len == 0) continue;
    char *p = base[b] + off;
    if (n > 0 && (char *)iov[n - 1].iov_base + iov[n - 1].iov_len == p) {
      iov[n - 1].iov_len += len;
    } else {
      iov[n].iov_base = p;
      iov[n].iov_len = len;
      n++;
    }
    total += len;
  }
  g->n = n;
  g->total = total;
  return 1;
}

static napi_value n_writev(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 4) {
    napi_throw_type_error(env, NULL, "writev(fd, buffers, table, count)");
    return NULL;
  }
  gather_t g;
  if (!gather(env, argv, &g)) return NULL;
  size_t written = 0;
  int err = write_all(g.fd, g.iov, g.n, &written);
  iov_give(g.iov);
  if (err != 0) {
    napi_throw(env, make_errno_error(env, err, (double)written));
    return NULL;
  }
  napi_value r;
  napi_create_double(env, (double)written, &r);
  return r;
}

/* ------------------------------------------------------------- async --- */

typedef struct {
  gather_t g;
  napi_async_work work;
  napi_ref bufs[MAX_BUFFERS];
  napi_ref cb;
  int err;
  size_t written;
} job_t;

static void job_execute(napi_env env, void *data) {
  job_t *j = data;
  j->err = write_all(j->g.fd, j->g.iov, j->g.n, &j->written);
}

static void job_complete(napi_env env, napi_status status, void *data) {
  job_t *j = data;
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  napi_value cb, global, args[2];
  napi_get_reference_value(env, j->cb, &cb);
  napi_get_global(env, &global);
  if (status == napi_cancelled) j->err = ECANCELED;
  if (j->err != 0) {
    args[0] = make_errno_error(env, j->err, (double)j->written);
    napi_get_undefined(env, &args[1]);
  } else {
    napi_get_null(env, &args[0]);
    napi_create_double(env, (double)j->written, &args[1]);
  }
  for (uint32_t i = 0; i < j->g.nbuf; i++) napi_delete_reference(env, j->bufs[i]);
  napi_delete_reference(env, j->cb);
  napi_delete_async_work(env, j->work);
  iov_give(j->g.iov);
  free(j);
  napi_value ret;
  if (napi_call_function(env, global, cb, 2, args, &ret) == napi_pending_exception) {
    napi_value exc;
    napi_get_and_clear_last_exception(env, &exc);
    napi_fatal_exception(env, exc);
  }
  napi_close_handle_scope(env, scope);
}

static napi_value n_writev_async(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 5) {
    napi_throw_type_error(env, NULL, "writevAsync(fd, buffers, table, count, callback)");
    return NULL;
  }
  napi_valuetype vt;
  if (napi_typeof(env, argv[4], &vt) != napi_ok || vt != napi_function) {
    napi_throw_type_error(env, NULL, "writevAsync: callback must be a function");
    return NULL;
  }
  job_t *j = calloc(1, sizeof *j);
  if (j == NULL) { napi_throw_error(env, "ENOMEM", "writevAsync: out of memory"); return NULL; }
  if (!gather(env, argv, &j->g)) { free(j); return NULL; }
  for (uint32_t i = 0; i < j->g.nbuf; i++) napi_create_reference(env, j->g.bufs[i], 1, &j->bufs[i]);
  napi_create_reference(env, argv[4], 1, &j->cb);
  napi_value name;
  napi_create_string_utf8(env, "netring.writev", NAPI_AUTO_LENGTH, &name);
  napi_create_async_work(env, NULL, name, job_execute, job_complete, j, &j->work);
  napi_queue_async_work(env, j->work);
  return NULL;
}

/* -------------------------------------------------------------- init --- */

void init_file(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    NR_FN("writev", n_writev),
    NR_FN("writevAsync", n_writev_async),
  };
  NR_DEFINE(env, exports, props);
}
