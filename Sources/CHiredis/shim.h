/// The only file that includes hiredis (Debian's libhiredis-dev, 0.14): the async API and its
/// libev adapter, so a Redis connection's socket is one more pair of watchers on chatd's own
/// loop (no thread, no second loop). The adapter's functions are `static` in its header;
/// each one chatd calls gets a prefixed static inline wrapper here. No logic lives in this file.
#ifndef CHIREDIS_SHIM_H
#define CHIREDIS_SHIM_H

#include <hiredis/hiredis.h>
#include <hiredis/async.h>
#include <hiredis/adapters/libev.h>

/// redisLibevAttach is `static` in adapters/libev.h: attaches the context's read and write
/// watchers to `loop` (a `struct ev_loop *`).
static inline int chiredis_libev_attach(struct ev_loop *loop, redisAsyncContext *context) {
    return redisLibevAttach(loop, context);
}

#endif
