/* The reference the performance issue measures chatd against: a minimal single-threaded C
 * server on libev with coalesced per-connection output. Every line a client sends is copied
 * into every other client's output buffer; dirty clients are written once per loop iteration
 * from an ev_prepare watcher. No names, rooms, sanitising or limits: a speed ceiling, not a
 * chat server. Build: cc -O2 -o refserver refserver.c -lev ; run: refserver PORT */
#define _GNU_SOURCE
#include <ev.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_CLIENTS 20000
typedef struct client {
    ev_io io;
    int fd, dirty;
    char *out; size_t out_len, out_cap;
    char in[4096]; size_t in_len;
} client;

static client *clients[MAX_CLIENTS];
static client *live[MAX_CLIENTS];
static int live_count;
static int dirty_list[MAX_CLIENTS], dirty_count;

static void append(client *c, const char *p, size_t n) {
    if (c->out_len + n > c->out_cap) {
        c->out_cap = (c->out_len + n) * 2;
        c->out = realloc(c->out, c->out_cap);
    }
    memcpy(c->out + c->out_len, p, n);
    c->out_len += n;
    if (!c->dirty) { c->dirty = 1; dirty_list[dirty_count++] = c->fd; }
}

static void drop(struct ev_loop *loop, client *c) {
    ev_io_stop(loop, &c->io);
    for (int i = 0; i < live_count; i++) if (live[i] == c) { live[i] = live[--live_count]; break; }
    close(c->fd);
    clients[c->fd] = NULL;
    free(c->out);
    free(c);
}

static void read_cb(struct ev_loop *loop, ev_io *w, int revents) {
    client *c = (client *)w;
    char buf[65536];
    ssize_t n = read(c->fd, buf, sizeof buf);
    if (n <= 0) { if (n < 0 && errno == EAGAIN) return; drop(loop, c); return; }
    ssize_t start = 0;
    for (ssize_t i = 0; i < n; i++) {
        if (buf[i] != '\n') continue;
        for (int k = 0; k < live_count; k++) {
            client *o = live[k];
            if (o == c) continue;
            if (c->in_len) append(o, c->in, c->in_len);
            append(o, buf + start, i + 1 - start);
        }
        c->in_len = 0;
        start = i + 1;
    }
    if (start < n && c->in_len + (n - start) <= sizeof c->in) {
        memcpy(c->in + c->in_len, buf + start, n - start);
        c->in_len += n - start;
    }
}

static void prepare_cb(struct ev_loop *loop, ev_prepare *w, int revents) {
    for (int i = 0; i < dirty_count; i++) {
        client *c = clients[dirty_list[i]];
        if (!c) continue;
        ssize_t n = write(c->fd, c->out, c->out_len);
        if (n > 0) { memmove(c->out, c->out + n, c->out_len - n); c->out_len -= n; }
        c->dirty = 0;
        if (c->out_len) { c->dirty = 1; dirty_list[i] = c->fd; /* retried next iteration */ }
    }
    int kept = 0;
    for (int i = 0; i < dirty_count; i++) {
        client *c = clients[dirty_list[i]];
        if (c && c->out_len) dirty_list[kept++] = c->fd; else if (c) c->dirty = 0;
    }
    dirty_count = kept;
}

static void accept_cb(struct ev_loop *loop, ev_io *w, int revents) {
    for (int i = 0; i < 128; i++) {
        int fd = accept4(w->fd, NULL, NULL, SOCK_NONBLOCK);
        if (fd < 0) return;
        if (fd >= MAX_CLIENTS) { close(fd); continue; }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        client *c = calloc(1, sizeof *c);
        c->fd = fd;
        clients[fd] = c;
        live[live_count++] = c;
        ev_io_init(&c->io, read_cb, fd, EV_READ);
        ev_io_start(loop, &c->io);
        append(c, "welcome\n", 8);
    }
}

int main(int argc, char **argv) {
    signal(SIGPIPE, SIG_IGN);
    int port = argc > 1 ? atoi(argv[1]) : 7879;
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    if (bind(lfd, (struct sockaddr *)&a, sizeof a) || listen(lfd, 511)) { perror("bind/listen"); return 1; }
    struct ev_loop *loop = ev_default_loop(EVBACKEND_EPOLL);
    ev_io lw; ev_io_init(&lw, accept_cb, lfd, EV_READ); ev_io_start(loop, &lw);
    ev_prepare pw; ev_prepare_init(&pw, prepare_cb); ev_prepare_start(loop, &pw);
    ev_run(loop, 0);
    return 0;
}
