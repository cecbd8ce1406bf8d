/*
 * The guest's wire into libslirp, for test/slirp.test.ts.
 *
 * stdin:  u32 big-endian length + Ethernet frame, each handed to slirp_input() as a guest's NIC
 *         would (the test writes our engine's output here).
 * stdout: u32 big-endian length + Ethernet frame, each frame slirp sends to the guest
 *         (send_packet: ARP / NDP replies, SYN-ACK, ACKs, ICMP errors).
 * stderr: one line "ready libslirp VERSION mtu N mru N" once slirp is up, then diagnostics; at
 *         the end one line "done in FRAMES BYTES out FRAMES BYTES".
 *
 * Options: --mtu N, --mru N (SlirpConfig if_mtu / if_mru; 0 = libslirp's default, 1500),
 *          --no-ipv6. Network as QEMU's -netdev user defaults: guest net 10.0.2.0/24, host
 *          10.0.2.2 (fec0::2 in fec0::/64), which slirp connects out to as 127.0.0.1 (::1)
 *          since disable_host_loopback is false.
 * One thread: poll() over stdin and slirp's sockets, with slirp's timeout and our timers.
 */
#include <libslirp.h>

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#if !SLIRP_CHECK_VERSION(4, 1, 0)
#error "libslirp 4.1.0 or later is needed (slirp_new, SlirpConfig)"
#endif

/* 4.9.0 renamed the poll API around slirp_os_socket (an int on Unix); the old names stay valid. */
#if SLIRP_CHECK_VERSION(4, 9, 0)
typedef slirp_os_socket poll_socket;
#define POLLFDS_FILL slirp_pollfds_fill_socket
#else
typedef int poll_socket;
#define POLLFDS_FILL slirp_pollfds_fill
#endif

#define MAX_FRAME (1 << 20)
#define MAX_FDS 256
#define MAX_TIMERS 16

static struct pollfd fds[MAX_FDS];
static int nfds;
static unsigned long long frames_in, bytes_in, frames_out, bytes_out;

struct timer {
    int used;
    SlirpTimerCb cb;
    void *cb_opaque;
    int64_t expire_ms; /* -1: not armed */
};
static struct timer timers[MAX_TIMERS];

static void die(const char *what)
{
    fprintf(stderr, "harness: %s: %s\n", what, strerror(errno));
    exit(2);
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            die("write to stdout");
        p += w;
        n -= (size_t)w;
    }
}

static ssize_t send_packet(const void *buf, size_t len, void *opaque)
{
    (void)opaque;
    uint8_t head[4] = { (uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8), (uint8_t)len };
    write_all(1, head, 4);
    write_all(1, buf, len);
    frames_out++;
    bytes_out += len;
    return (ssize_t)len;
}

static void guest_error(const char *msg, void *opaque)
{
    (void)opaque;
    fprintf(stderr, "harness: slirp guest error: %s\n", msg);
}

static int64_t clock_get_ns(void *opaque)
{
    (void)opaque;
    return now_ns();
}

static void *timer_new(SlirpTimerCb cb, void *cb_opaque, void *opaque)
{
    (void)opaque;
    for (int i = 0; i < MAX_TIMERS; i++) {
        if (!timers[i].used) {
            timers[i] = (struct timer){ 1, cb, cb_opaque, -1 };
            return &timers[i];
        }
    }
    fprintf(stderr, "harness: out of timers\n");
    exit(2);
}

static void timer_free(void *timer, void *opaque)
{
    (void)opaque;
    ((struct timer *)timer)->used = 0;
}

static void timer_mod(void *timer, int64_t expire_ms, void *opaque)
{
    (void)opaque;
    ((struct timer *)timer)->expire_ms = expire_ms;
}

static void register_poll_fd(int fd, void *opaque) { (void)fd; (void)opaque; }
static void unregister_poll_fd(int fd, void *opaque) { (void)fd; (void)opaque; }
static void notify(void *opaque) { (void)opaque; }

/* Milliseconds until the next armed timer (capped at `cap`). */
static uint32_t timers_wait(uint32_t cap)
{
    int64_t now = now_ns() / 1000000;
    for (int i = 0; i < MAX_TIMERS; i++) {
        if (timers[i].used && timers[i].expire_ms >= 0) {
            int64_t d = timers[i].expire_ms - now;
            if (d < 0)
                d = 0;
            if (d < cap)
                cap = (uint32_t)d;
        }
    }
    return cap;
}

static void timers_run(void)
{
    int64_t now = now_ns() / 1000000;
    for (int i = 0; i < MAX_TIMERS; i++) {
        if (timers[i].used && timers[i].expire_ms >= 0 && timers[i].expire_ms <= now) {
            timers[i].expire_ms = -1;
            timers[i].cb(timers[i].cb_opaque);
        }
    }
}

static int add_poll(poll_socket fd, int events, void *opaque)
{
    (void)opaque;
    if (nfds == MAX_FDS) {
        fprintf(stderr, "harness: too many sockets\n");
        exit(2);
    }
    short ev = 0;
    if (events & SLIRP_POLL_IN)
        ev |= POLLIN;
    if (events & SLIRP_POLL_OUT)
        ev |= POLLOUT;
    if (events & SLIRP_POLL_PRI)
        ev |= POLLPRI;
    fds[nfds] = (struct pollfd){ .fd = (int)fd, .events = ev };
    return nfds++;
}

static int get_revents(int idx, void *opaque)
{
    (void)opaque;
    short r = fds[idx].revents;
    int ev = 0;
    if (r & POLLIN)
        ev |= SLIRP_POLL_IN;
    if (r & POLLOUT)
        ev |= SLIRP_POLL_OUT;
    if (r & POLLPRI)
        ev |= SLIRP_POLL_PRI;
    if (r & POLLERR)
        ev |= SLIRP_POLL_ERR;
    if (r & POLLHUP)
        ev |= SLIRP_POLL_HUP;
    return ev;
}

/* Bytes read from stdin and not yet handed over: whole frames go to slirp_input as they complete. */
static uint8_t inbuf[4 + MAX_FRAME + 65536];
static size_t inlen;

static void feed(Slirp *slirp)
{
    size_t at = 0;
    while (inlen - at >= 4) {
        uint32_t n = ((uint32_t)inbuf[at] << 24) | ((uint32_t)inbuf[at + 1] << 16) |
                     ((uint32_t)inbuf[at + 2] << 8) | inbuf[at + 3];
        if (n > MAX_FRAME) {
            fprintf(stderr, "harness: frame of %u bytes is over %d\n", n, MAX_FRAME);
            exit(2);
        }
        if (inlen - at - 4 < n)
            break;
        slirp_input(slirp, inbuf + at + 4, (int)n);
        frames_in++;
        bytes_in += n;
        at += 4 + n;
    }
    memmove(inbuf, inbuf + at, inlen - at);
    inlen -= at;
}

int main(int argc, char **argv)
{
    size_t mtu = 0, mru = 0;
    int ipv6 = 1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--mtu") && i + 1 < argc)
            mtu = strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--mru") && i + 1 < argc)
            mru = strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--no-ipv6"))
            ipv6 = 0;
        else {
            fprintf(stderr, "usage: harness [--mtu N] [--mru N] [--no-ipv6]\n");
            return 2;
        }
    }

    SlirpConfig cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.version = 1;
    cfg.in_enabled = true;
    inet_pton(AF_INET, "10.0.2.0", &cfg.vnetwork);
    inet_pton(AF_INET, "255.255.255.0", &cfg.vnetmask);
    inet_pton(AF_INET, "10.0.2.2", &cfg.vhost);
    inet_pton(AF_INET, "10.0.2.15", &cfg.vdhcp_start);
    inet_pton(AF_INET, "10.0.2.3", &cfg.vnameserver);
    cfg.in6_enabled = ipv6;
    inet_pton(AF_INET6, "fec0::", &cfg.vprefix_addr6);
    cfg.vprefix_len = 64;
    inet_pton(AF_INET6, "fec0::2", &cfg.vhost6);
    inet_pton(AF_INET6, "fec0::3", &cfg.vnameserver6);
    cfg.if_mtu = mtu;
    cfg.if_mru = mru;
    cfg.disable_host_loopback = false;

    SlirpCb cb;
    memset(&cb, 0, sizeof cb);
    cb.send_packet = send_packet;
    cb.guest_error = guest_error;
    cb.clock_get_ns = clock_get_ns;
    cb.timer_new = timer_new;
    cb.timer_free = timer_free;
    cb.timer_mod = timer_mod;
    cb.register_poll_fd = register_poll_fd;
    cb.unregister_poll_fd = unregister_poll_fd;
    cb.notify = notify;

    Slirp *slirp = slirp_new(&cfg, &cb, NULL);
    if (!slirp) {
        fprintf(stderr, "harness: slirp_new refused the configuration (mtu %zu, mru %zu)\n", mtu, mru);
        return 2;
    }
    fprintf(stderr, "ready libslirp %s mtu %zu mru %zu\n", slirp_version_string(), mtu ? mtu : 1500,
            mru ? mru : 1500);

    int eof = 0;
    int64_t eof_at = 0;
    for (;;) {
        nfds = 0;
        int in_idx = -1;
        if (!eof)
            in_idx = add_poll(0, SLIRP_POLL_IN, NULL);
        uint32_t timeout = 1000;
        POLLFDS_FILL(slirp, &timeout, add_poll, NULL);
        timeout = timers_wait(timeout);
        if (eof && timeout > 10)
            timeout = 10;
        int r = poll(fds, (nfds_t)nfds, (int)timeout);
        if (r < 0 && errno != EINTR)
            die("poll");
        slirp_pollfds_poll(slirp, r < 0, get_revents, NULL);
        timers_run();
        if (in_idx >= 0 && r > 0 && (fds[in_idx].revents & (POLLIN | POLLHUP))) {
            ssize_t n = read(0, inbuf + inlen, sizeof inbuf - inlen);
            if (n < 0 && errno != EINTR && errno != EAGAIN)
                die("read stdin");
            if (n == 0) {
                eof = 1;
                eof_at = now_ns();
            }
            if (n > 0) {
                inlen += (size_t)n;
                feed(slirp);
            }
        }
        /* After stdin closes, let slirp write what it holds to its host sockets for 200 ms. */
        if (eof && now_ns() - eof_at > 200000000)
            break;
    }
    if (inlen > 0)
        fprintf(stderr, "harness: %zu bytes of an unfinished frame at the end of stdin\n", inlen);
    slirp_cleanup(slirp);
    fprintf(stderr, "done in %llu %llu out %llu %llu\n", frames_in, bytes_in, frames_out, bytes_out);
    return 0;
}
