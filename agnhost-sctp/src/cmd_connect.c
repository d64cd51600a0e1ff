/* connect HOST:PORT [--protocol=tcp|udp|sctp] [--timeout=5s] [--data=STR] [--udp-data=hostname]
 *                   [--hold=D --interval=1s]
 * Exit 0 when connected (and answered), else one "CLASS: detail" line on stdout and the class's
 * exit code (exit_classes.h, generated from ../exit-classes.json; README.md "connect result
 * classes"). ICMP errors are read by a raw ICMP socket opened before the first packet (net.c). */
#define _GNU_SOURCE
#include "common.h"
#include "net.h"
#include "stack.h"
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int icmp_report(struct icmpw *w, const char *proto, const char *a, long long t0) {
  int cls = icmp_class(w->family, w->type, w->code);
  return report(cls, "ICMP%s type %d code %d from %s for %s to %s after %lldms", w->family == AF_INET6 ? "v6" : "",
                w->type, w->code, w->from, proto, a, now_ms() - t0);
}

/* A connect process owns one association, already shut down (or never set up) here:
 * exit at once instead of usrsctp_finish(), which spends ~200 ms joining its receive threads. */
static int quick_exit_sctp(int cls) {
  fflush(stdout);
  fflush(stderr);
  _exit(cls);
}

/* ---------- connect --hold ---------- */

/* One association (sctp) or connection (tcp) held for --hold, one exchange every --interval. */
struct hold { int proto; ssock *s; int fd; const char *payload; long hold_ms, interval_ms, timeout_ms; const char *addr; };

/* Sends the payload and reads one reply: >0 bytes, 0 when the peer shut down, -1 with errno. */
static ssize_t hold_exchange(struct hold *h, char *buf, size_t buflen) {
  size_t len = strlen(h->payload);
  if (h->proto == IPPROTO_SCTP) {
    if (ss_send(h->s, h->payload, len) < 0) return -1;
    return ss_recv(h->s, buf, buflen, (int)h->timeout_ms);
  }
  if (send(h->fd, h->payload, len, MSG_NOSIGNAL) < 0) return -1;
  struct pollfd p = { h->fd, POLLIN, 0 };
  int r = poll(&p, 1, (int)h->timeout_ms);
  if (r == 0) { errno = ETIMEDOUT; return -1; }
  if (r < 0) return -1;
  return recv(h->fd, buf, buflen, 0);
}

static const char *fmt_secs(long long ms, char *b, size_t n) {
  if (ms % 1000 == 0) snprintf(b, n, "%llds", ms / 1000);
  else snprintf(b, n, "%.1fs", (double)ms / 1000);
  return b;
}

/* Exit 0 only when every exchange was answered, all with the same reply (the same backend for
 * "hostname"); otherwise the class of the first failure and how far the hold got. */
static int run_hold(struct hold *h) {
  const char *what = h->proto == IPPROTO_SCTP ? "association" : "connection";
  const char *pname = h->proto == IPPROTO_SCTP ? "sctp" : "tcp";
  long total = h->hold_ms / h->interval_ms;
  if (total < 1) total = 1;
  char buf[65536], first[1100] = "", hs[32], at[32], sent[32];
  long answered = 0;
  long long start = now_ms();
  fmt_secs(h->hold_ms, hs, sizeof hs);
  for (long k = 0; k < total; k++) {
    long long due = start + (long long)k * h->interval_ms, wait = due - now_ms();
    if (wait > 0) usleep((useconds_t)(wait * 1000));
    long long t = now_ms();
    ssize_t n = hold_exchange(h, buf, sizeof buf - 1);
    int e = errno;
    if (n > 0) {
      buf[n > 1024 ? 1024 : n] = 0; /* replies are compared on their first 1024 bytes */
      trim(buf);
      if (k == 0) snprintf(first, sizeof first, "%.1024s", buf);
      else if (strcmp(first, buf) != 0)
        return report(CLS_OTHER, "held %s %s to %s changed peer after %ld/%ld exchanges, %s into the %s hold: exchange %ld answered by %s, the earlier ones by %s",
                      pname, what, h->addr, answered, total, fmt_secs(t - start, at, sizeof at), hs, k + 1, buf, first);
      answered++;
      continue;
    }
    char by[1200] = "";
    if (answered) snprintf(by, sizeof by, " (answered by %s)", first);
    fmt_secs(now_ms() - start, at, sizeof at);
    if (n == 0)
      return report(CLS_OTHER, "held %s %s to %s ended after %ld/%ld exchanges%s, %s into the %s hold: the peer shut it down instead of answering exchange %ld",
                    pname, what, h->addr, answered, total, by, at, hs, k + 1);
    if (e == ETIMEDOUT)
      return report(CLS_TIMEOUT, "held %s %s to %s broke after %ld/%ld exchanges%s, %s into the %s hold: no reply to exchange %ld within %ldms (sent %s into the hold)",
                    pname, what, h->addr, answered, total, by, at, hs, k + 1, h->timeout_ms, fmt_secs(t - start, sent, sizeof sent));
    int cls = errno_class(e);
    return report(cls, "held %s %s to %s broke after %ld/%ld exchanges%s, %s into the %s hold: exchange %ld: %s%s",
                  pname, what, h->addr, answered, total, by, at, hs, k + 1, strerror(e),
                  cls == CLS_REFUSED ? (h->proto == IPPROTO_SCTP ? " (ABORT)" : " (RST)") : "");
  }
  long long rest = start + h->hold_ms - now_ms();
  if (rest > 0) usleep((useconds_t)(rest * 1000));
  printf("OK: held %s, %ld/%ld exchanges answered by %s on one %s %s (%s)\n", hs, answered, total, first, pname, what, h->addr);
  fflush(stdout);
  return CLS_OK;
}

int cmd_connect(int argc, char **argv) {
  const char *target = NULL, *proto = "tcp", *data = NULL, *udp_data = "hostname";
  long timeout = 5000, hold_ms = 0, interval_ms = 1000;
  for (int i = 1; i < argc; i++) {
    const char *v;
    if ((v = flag(argc, argv, &i, "protocol"))) proto = v;
    else if ((v = flag(argc, argv, &i, "hold"))) { hold_ms = parse_duration_ms(v); if (hold_ms <= 0) die_usage("--hold: want a positive duration like 30s, got %s", v); }
    else if ((v = flag(argc, argv, &i, "interval"))) { interval_ms = parse_duration_ms(v); if (interval_ms <= 0) die_usage("--interval: want a positive duration like 500ms, got %s", v); }
    else if ((v = flag(argc, argv, &i, "timeout"))) { timeout = parse_duration_ms(v); if (timeout <= 0) die_usage("--timeout: want a positive duration like 2s or 500ms, got %s", v); }
    else if ((v = flag(argc, argv, &i, "udp-data"))) udp_data = v;
    else if ((v = flag(argc, argv, &i, "data"))) data = v;
    else if (argv[i][0] == '-') die_usage("connect: unknown flag %s", argv[i]);
    else if (!target) target = argv[i];
    else die_usage("connect: more than one target (%s)", argv[i]);
  }
  if (!target) die_usage("connect: want HOST:PORT");
  int ipproto = strcmp(proto, "sctp") == 0 ? IPPROTO_SCTP : strcmp(proto, "tcp") == 0 ? IPPROTO_TCP : strcmp(proto, "udp") == 0 ? IPPROTO_UDP : -1;
  if (ipproto < 0) die_usage("connect: --protocol must be tcp, udp or sctp, got %s", proto);
  if (hold_ms && ipproto == IPPROTO_UDP) die_usage("connect: --hold needs --protocol=sctp or tcp (UDP has no association to hold)");
  if (hold_ms && interval_ms > hold_ms) die_usage("connect: --interval (%ldms) longer than --hold (%ldms)", interval_ms, hold_ms);
  if (hold_ms && !data) data = "hostname";
  struct hold h = { ipproto, NULL, -1, data, hold_ms, interval_ms, timeout, NULL };
  struct sockaddr_storage ss;
  socklen_t len;
  char msg[300], a[80];
  int r = resolve_hostport(target, &ss, &len, msg, sizeof msg);
  if (r == CLS_USAGE) die_usage("connect: %s", msg);
  if (r) return report(r, "%s", msg);
  addr_str((struct sockaddr *)&ss, a, sizeof a);
  long long t0 = now_ms(), deadline = t0 + timeout;
  struct icmpw w;
  char buf[65536];

  if (ipproto == IPPROTO_SCTP) {
    char err[300];
    int e;
    g_blackhole = 2; /* a client never answers other stacks' packets in a shared netns */
    g_client_filter = 1;
    if (sstack_init(err, sizeof err) == STACK_NONE) return report(CLS_NOSTACK, "%s", err);
    icmpw_open(&w, (struct sockaddr *)&ss, IPPROTO_SCTP); /* before the first INIT */
    ssock *s = ss_connect((struct sockaddr *)&ss, len, (int)timeout, &w, &e);
    if (!s) {
      int cls = w.matched ? icmp_report(&w, "sctp", a, t0)
              : e == ETIMEDOUT ? report(CLS_TIMEOUT, "no SCTP association with %s within %ldms (%s stack)", a, timeout, sstack_name(sstack_kind()))
              : report(errno_class(e), "sctp connect to %s: %s", a, strerror(e));
      icmpw_close(&w);
      return quick_exit_sctp(cls);
    }
    icmpw_close(&w);
    int cls = CLS_OK;
    if (hold_ms) {
      h.s = s; h.addr = a;
      cls = run_hold(&h);
    } else if (data) {
      /* a porter-style server may already have written its answer and shut down: a failed
       * send is only an error when nothing can be read either */
      ssize_t sent = ss_send(s, data, strlen(data));
      int send_errno = sent < 0 ? errno : 0;
      ssize_t n = ss_recv(s, buf, sizeof buf - 1, (int)(deadline - now_ms() > 0 ? deadline - now_ms() : 1));
      if (n > 0) { buf[n] = 0; printf("%s\n", buf); fflush(stdout); }
      else if (send_errno) cls = report(errno_class(send_errno), "sctp send to %s: %s", a, strerror(send_errno));
      else if (n == 0) cls = report(CLS_OTHER, "sctp peer %s shut down without answering", a);
      else cls = report(errno == ETIMEDOUT ? CLS_TIMEOUT : errno_class(errno), "sctp exchange with %s: %s", a, strerror(errno));
    }
    ss_shutdown_wait(s, 500);
    return quick_exit_sctp(cls);
  }

  int udp = ipproto == IPPROTO_UDP;
  icmpw_open(&w, (struct sockaddr *)&ss, ipproto);
  int fd = socket(ss.ss_family, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int cls = CLS_OK;
  if (fd < 0) { cls = report(CLS_OTHER, "socket: %s", strerror(errno)); goto out; }
  if (connect(fd, (struct sockaddr *)&ss, len) < 0 && errno != EINPROGRESS) {
    cls = report(errno_class(errno), "%s connect to %s: %s", proto, a, strerror(errno)); goto out;
  }
  const char *payload = udp ? (data ? data : udp_data) : data;
  int sent = 0;
  for (;;) {
    if (icmpw_poll(&w)) { cls = icmp_report(&w, proto, a, t0); goto out; }
    long long rem = deadline - now_ms();
    if (rem <= 0) { cls = report(CLS_TIMEOUT, "no %s answer from %s within %ldms", udp ? "UDP" : "TCP", a, timeout); goto out; }
    if (udp && !sent) { if (send(fd, payload, strlen(payload), 0) < 0 && errno != EAGAIN) { cls = report(errno_class(errno), "udp send to %s: %s", a, strerror(errno)); goto out; } sent = 1; }
    struct pollfd p[2] = { { fd, (short)(udp || sent ? POLLIN : POLLOUT), 0 }, { w.fd, POLLIN, 0 } };
    if (poll(p, 2, (int)(rem > 100 ? 100 : rem)) <= 0 || !p[0].revents) continue;
    if (!udp && !sent) {
      int e = 0; socklen_t el = sizeof e;
      getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el);
      if (e) { if (icmpw_poll(&w)) cls = icmp_report(&w, proto, a, t0); else cls = report(errno_class(e), "tcp connect to %s: %s", a, strerror(e)); goto out; }
      if (hold_ms) { h.fd = fd; h.addr = a; icmpw_close(&w); cls = run_hold(&h); goto out; }
      if (!payload) goto out; /* connected, nothing to exchange */
      send(fd, payload, strlen(payload), MSG_NOSIGNAL);
      sent = 1;
      continue;
    }
    ssize_t n = recv(fd, buf, sizeof buf - 1, 0);
    if (n < 0) {
      if (errno == EAGAIN) continue;
      if (icmpw_poll(&w)) cls = icmp_report(&w, proto, a, t0); else cls = report(errno_class(errno), "%s receive from %s: %s", proto, a, strerror(errno));
      goto out;
    }
    buf[n] = 0;
    printf("%s\n", buf);
    goto out;
  }
out:
  fflush(stdout);
  if (fd >= 0) close(fd);
  icmpw_close(&w);
  return cls;
}
