/// The only file that includes <ev.h>. libev's watcher set-up API is preprocessor macros, which
/// Swift cannot import, so each macro chatd uses gets one prefixed static inline wrapper here.
/// No logic lives in this file.
#ifndef CLIBEV_SHIM_H
#define CLIBEV_SHIM_H

#include <ev.h>
#include <sys/socket.h>
#include <pthread.h>

/// ev_io_init is a macro (ev_init + ev_io_set).
static inline void clibev_io_init(ev_io *w, void (*cb)(struct ev_loop *, ev_io *, int), int fd, int events) {
    ev_io_init(w, cb, fd, events);
}

/// ev_timer_init is a macro.
static inline void clibev_timer_init(ev_timer *w, void (*cb)(struct ev_loop *, ev_timer *, int), ev_tstamp after, ev_tstamp repeat) {
    ev_timer_init(w, cb, after, repeat);
}

/// ev_timer_set is a macro; needed to change a stopped timer's timeout.
static inline void clibev_timer_set(ev_timer *w, ev_tstamp after, ev_tstamp repeat) {
    ev_timer_set(w, after, repeat);
}

/// ev_signal_init is a macro.
static inline void clibev_signal_init(ev_signal *w, void (*cb)(struct ev_loop *, ev_signal *, int), int signum) {
    ev_signal_init(w, cb, signum);
}

/// ev_prepare_init is a macro.
static inline void clibev_prepare_init(ev_prepare *w, void (*cb)(struct ev_loop *, ev_prepare *, int)) {
    ev_prepare_init(w, cb);
}

/// ev_check_init is a macro (the loop-iteration clock's wake-up mark).
static inline void clibev_check_init(ev_check *w, void (*cb)(struct ev_loop *, ev_check *, int)) {
    ev_check_init(w, cb);
}

/// ev_async_init is a macro.
static inline void clibev_async_init(ev_async *w, void (*cb)(struct ev_loop *, ev_async *, int)) {
    ev_async_init(w, cb);
}

/// ev_is_active is a macro over the common watcher header.
static inline int clibev_is_active(const void *w) {
    return ev_is_active((const ev_watcher *)w);
}

/// Swift's Glibc module is built without _GNU_SOURCE, so accept4(2) has no visible prototype.
extern int accept4(int sockfd, struct sockaddr *addr, socklen_t *addrlen, int flags);

/// Same cause: pthread_setname_np(3) (names the history and hashing threads for top/perf).
extern int pthread_setname_np(pthread_t thread, const char *name);

/// glibc's <malloc.h> is not in Swift's Glibc module: mallopt(3) fixes the mmap threshold so
/// large buffers freed after a burst go back to the kernel (see `MemoryReturn`).
#include <malloc.h>

#endif
