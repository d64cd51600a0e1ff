/* SCTP stack selection and the userspace (usrsctp over raw IP) implementation. */
#define _GNU_SOURCE
#include "stack.h"
#include "net.h"
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <linux/filter.h>
#include <usrsctp.h>

const char *g_stack_mode = "auto";
int g_blackhole = 2;
int g_client_filter = 0;

struct ssock {
  int kind;
  int fd;              /* kernel socket */
  struct socket *us;   /* usrsctp socket */
  int evfd;            /* usrsctp: eventfd written by the upcall */
};

static pthread_mutex_t init_mu = PTHREAD_MUTEX_INITIALIZER;
static int g_kind = STACK_NONE;
static char g_init_err[256];
static int g_init_done;

const char *sstack_name(int kind) {
  return kind == STACK_KERNEL ? "kernel" : kind == STACK_USERSPACE ? "userspace" : "none";
}
int sstack_kind(void) { return g_kind; }

/* Every raw IPPROTO_SCTP socket in a netns receives every SCTP packet of that netns. Two things
 * keep several stacks in one netns (parallel clients, a client exec'd into a server pod) from
 * breaking each other's associations:
 * - usrsctp resets its sysctls inside usrsctp_init and starts reading its raw sockets at once, so
 *   for a moment it runs with blackhole=0 and ABORTs any other association's packet. socket() is
 *   wrapped at link time (-Wl,--wrap=socket): raw SCTP sockets are born with a drop-all filter,
 *   lifted only after blackhole is set.
 * - A client process owns one association; its filter then keeps only packets for its own port,
 *   so other stacks' packets neither fill its queue nor draw out-of-the-blue replies. */
enum { FILTER_NONE, FILTER_DROP_ALL, FILTER_PORT };
static int raw_gate;

static void filter_fd(int fd, int dom, int mode, uint16_t port) {
  struct sock_filter drop[] = { BPF_STMT(BPF_RET | BPF_K, 0) };
  struct sock_filter v4[] = {
    BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 0),        /* X = IPv4 header length */
    BPF_STMT(BPF_LD | BPF_H | BPF_IND, 2),         /* SCTP destination port */
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, port, 0, 1),
    BPF_STMT(BPF_RET | BPF_K, 0xffffffff),
    BPF_STMT(BPF_RET | BPF_K, 0),
  };
  struct sock_filter v6[] = {                      /* IPv6 raw sockets start at the SCTP header */
    BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 2),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, port, 0, 1),
    BPF_STMT(BPF_RET | BPF_K, 0xffffffff),
    BPF_STMT(BPF_RET | BPF_K, 0),
  };
  struct sock_fprog prog;
  int dummy = 0;
  if (mode == FILTER_NONE) { setsockopt(fd, SOL_SOCKET, SO_DETACH_FILTER, &dummy, sizeof dummy); return; }
  if (mode == FILTER_DROP_ALL) { prog.len = 1; prog.filter = drop; }
  else if (dom == AF_INET6) { prog.len = sizeof v6 / sizeof v6[0]; prog.filter = v6; }
  else { prog.len = sizeof v4 / sizeof v4[0]; prog.filter = v4; }
  if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) < 0)
    fprintf(stderr, "agnhost-sctp: cannot filter raw SCTP socket %d: %s\n", fd, strerror(errno));
}

static void filter_raw_sockets(int mode, uint16_t port) {
  for (int fd = 3; fd < 1024; fd++) {
    int type = 0, proto = 0, dom = 0;
    socklen_t l = sizeof type;
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &l) < 0 || type != SOCK_RAW) continue;
    l = sizeof proto;
    if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &l) < 0 || proto != IPPROTO_SCTP) continue;
    l = sizeof dom;
    getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &dom, &l);
    filter_fd(fd, dom, mode, port);
  }
}

int __real_socket(int domain, int type, int protocol);
int __wrap_socket(int domain, int type, int protocol) {
  int fd = __real_socket(domain, type, protocol);
  if (fd >= 0 && raw_gate && (type & 0xf) == SOCK_RAW && protocol == IPPROTO_SCTP) filter_fd(fd, domain, FILTER_DROP_ALL, 0);
  return fd;
}

static int user_init(char *err, size_t errlen) {
  /* usrsctp degrades silently (connect just times out) without its raw IP-132 socket. */
  int fd = socket(AF_INET, SOCK_RAW, IPPROTO_SCTP);
  if (fd < 0) {
    snprintf(err, errlen, "cannot open a raw IPPROTO_SCTP socket for the userspace stack: %s (the container needs CAP_NET_RAW)", strerror(errno));
    return -1;
  }
  close(fd);
  raw_gate = 1;
  usrsctp_init(0, NULL, NULL); /* UDP encapsulation port 0: plain SCTP over raw IP */
  raw_gate = 0;
  usrsctp_sysctl_set_sctp_blackhole((uint32_t)g_blackhole);
  /* valid CRC32c also between addresses of the same netns, for middleboxes that check it */
  usrsctp_sysctl_set_sctp_no_csum_on_loopback(0);
  /* clients keep drop-all until connect narrows it to their port */
  if (!g_client_filter) filter_raw_sockets(FILTER_NONE, 0);
  return 0;
}

int sstack_init(char *err, size_t errlen) {
  pthread_mutex_lock(&init_mu);
  if (!g_init_done) {
    char kerr[160] = "";
    int kernel_ok = 0;
    g_init_done = 1;
    if (strcmp(g_stack_mode, "userspace") != 0) kernel_ok = kstack_probe(kerr, sizeof kerr);
    if (kernel_ok) {
      g_kind = STACK_KERNEL;
      fprintf(stderr, "agnhost-sctp: sctp stack: kernel (socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP) works; --sctp-stack=%s)\n", g_stack_mode);
    } else if (strcmp(g_stack_mode, "kernel") == 0) {
      snprintf(g_init_err, sizeof g_init_err, "--sctp-stack=kernel but the kernel has no usable SCTP: %s", kerr);
    } else if (user_init(g_init_err, sizeof g_init_err) == 0) {
      g_kind = STACK_USERSPACE;
      fprintf(stderr, "agnhost-sctp: sctp stack: userspace (usrsctp over raw IP, blackhole=%d; --sctp-stack=%s%s%s)\n",
              g_blackhole, g_stack_mode, kerr[0] ? "; kernel SCTP: " : "", kerr);
    }
    if (g_kind == STACK_NONE) fprintf(stderr, "agnhost-sctp: sctp stack: none: %s\n", g_init_err);
  }
  pthread_mutex_unlock(&init_mu);
  if (g_kind == STACK_NONE) snprintf(err, errlen, "%s", g_init_err);
  return g_kind;
}

/* ---------- userspace helpers ---------- */

static void upcall(struct socket *so, void *arg, int flags) {
  (void)so; (void)flags;
  ssock *s = arg;
  if (s) { uint64_t one = 1; ssize_t r = write(s->evfd, &one, sizeof one); (void)r; }
}
static void noop_upcall(struct socket *so, void *arg, int flags) { (void)so; (void)arg; (void)flags; }

static ssock *wrap_user(struct socket *so) {
  ssock *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  s->kind = STACK_USERSPACE; s->fd = -1; s->us = so;
  s->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  usrsctp_set_non_blocking(so, 1);
  usrsctp_set_upcall(so, upcall, s);
  return s;
}

/* Waits until one of mask (or ERROR) is set; 0 on deadline, -2 on a matching ICMP error. */
static int wait_user(ssock *s, int mask, long long deadline, struct icmpw *w) {
  for (;;) {
    int ev = usrsctp_get_events(s->us);
    if (ev & (mask | SCTP_EVENT_ERROR)) return ev;
    if (w && w->fd >= 0 && icmpw_poll(w)) return -2;
    long long rem = deadline < 0 ? 100 : deadline - now_ms();
    if (rem <= 0) return 0;
    struct pollfd p[2] = { { s->evfd, POLLIN, 0 }, { w ? w->fd : -1, POLLIN, 0 } };
    /* short cap: a missed upcall costs at most 50 ms, never a hang */
    int r = poll(p, 2, (int)(rem > 50 ? 50 : rem));
    if (r > 0 && (p[0].revents & POLLIN)) { uint64_t v; ssize_t n = read(s->evfd, &v, sizeof v); (void)n; }
  }
}

static void set_user_bounds(struct socket *so, int timeout_ms) {
  /* Bound INIT retransmissions so a blocked connect ends within timeout_ms: RFC defaults
   * (RTO.Initial 3 s, 8 INIT retransmissions) take minutes. */
  uint32_t initial, max;
  sctp_rto_bounds(timeout_ms, &initial, &max);
  int attempts = 0; long sum = 0; uint32_t rto = initial;
  while (attempts < 8 && sum + rto <= timeout_ms) { sum += rto; attempts++; rto = rto * 2 > max ? max : rto * 2; }
  if (attempts < 1) attempts = 1;
  struct sctp_initmsg im; memset(&im, 0, sizeof im);
  im.sinit_max_attempts = (uint16_t)attempts;
  im.sinit_max_init_timeo = (uint16_t)max;
  usrsctp_setsockopt(so, IPPROTO_SCTP, SCTP_INITMSG, &im, sizeof im);
  struct sctp_rtoinfo ri; memset(&ri, 0, sizeof ri);
  ri.srto_initial = initial; ri.srto_max = max; ri.srto_min = initial < 100 ? initial : 100;
  usrsctp_setsockopt(so, IPPROTO_SCTP, SCTP_RTOINFO, &ri, sizeof ri);
}

static void set_nodelay_user(struct socket *so) {
  int one = 1;
  usrsctp_setsockopt(so, IPPROTO_SCTP, SCTP_NODELAY, &one, sizeof one);
}

/* ---------- kernel helpers ---------- */

static ssock *wrap_kernel(int fd) {
  ssock *s = calloc(1, sizeof *s);
  if (!s) { close(fd); return NULL; }
  s->kind = STACK_KERNEL; s->fd = fd; s->evfd = -1;
  return s;
}

/* ---------- API ---------- */

ssock *ss_listen(const struct sockaddr *a, socklen_t len, int backlog, char *err, size_t errlen) {
  if (g_kind == STACK_KERNEL) {
    int fd = socket(a->sa_family, SOCK_STREAM, IPPROTO_SCTP), one = 1;
    if (fd < 0) { snprintf(err, errlen, "socket: %s", strerror(errno)); return NULL; }
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, a, len) < 0 || listen(fd, backlog) < 0) {
      snprintf(err, errlen, "bind/listen: %s", strerror(errno)); close(fd); return NULL;
    }
    return wrap_kernel(fd);
  }
  if (g_kind != STACK_USERSPACE) { snprintf(err, errlen, "no SCTP stack"); return NULL; }
  struct socket *so = usrsctp_socket(a->sa_family, SOCK_STREAM, IPPROTO_SCTP, NULL, NULL, 0, NULL);
  if (!so) { snprintf(err, errlen, "usrsctp_socket: %s", strerror(errno)); return NULL; }
  set_nodelay_user(so);
  if (usrsctp_bind(so, (struct sockaddr *)a, len) < 0 || usrsctp_listen(so, backlog) < 0) {
    snprintf(err, errlen, "bind/listen: %s", strerror(errno)); usrsctp_close(so); return NULL;
  }
  ssock *s = calloc(1, sizeof *s);
  s->kind = STACK_USERSPACE; s->fd = -1; s->us = so; s->evfd = -1; /* listener stays blocking */
  return s;
}

ssock *ss_accept(ssock *l, struct sockaddr_storage *peer, socklen_t *plen) {
  *plen = sizeof *peer;
  if (l->kind == STACK_KERNEL) {
    int fd = accept4(l->fd, (struct sockaddr *)peer, plen, SOCK_CLOEXEC);
    return fd < 0 ? NULL : wrap_kernel(fd);
  }
  struct socket *c = usrsctp_accept(l->us, (struct sockaddr *)peer, plen);
  if (!c) return NULL;
  set_nodelay_user(c);
  return wrap_user(c);
}

/* Binds a client socket to a random ephemeral port (32768-60999) and returns it, or 0. */
static uint16_t bind_random_port(struct socket *so, int family) {
  unsigned seed = (unsigned)(now_ms() ^ (getpid() << 16));
  for (int i = 0; i < 64; i++) {
    uint16_t port = (uint16_t)(32768 + rand_r(&seed) % (61000 - 32768));
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    socklen_t len;
    if (family == AF_INET6) { struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss; a->sin6_family = AF_INET6; a->sin6_port = htons(port); len = sizeof *a; }
    else { struct sockaddr_in *a = (struct sockaddr_in *)&ss; a->sin_family = AF_INET; a->sin_port = htons(port); len = sizeof *a; }
    if (usrsctp_bind(so, (struct sockaddr *)&ss, len) == 0) return port;
  }
  return 0;
}

ssock *ss_connect(const struct sockaddr *to, socklen_t len, int timeout_ms, struct icmpw *w, int *errout) {
  long long deadline = now_ms() + timeout_ms;
  *errout = 0;
  if (g_kind == STACK_KERNEL) {
    int fd = socket(to->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_SCTP);
    if (fd < 0) { *errout = errno; return NULL; }
    kstack_set_init_bounds(fd, timeout_ms);
    if (connect(fd, to, len) < 0 && errno != EINPROGRESS) { *errout = errno; close(fd); return NULL; }
    for (;;) {
      if (w && w->fd >= 0 && icmpw_poll(w)) { *errout = EHOSTUNREACH; close(fd); return NULL; }
      long long rem = deadline - now_ms();
      if (rem <= 0) { *errout = ETIMEDOUT; close(fd); return NULL; }
      struct pollfd p[2] = { { fd, POLLOUT, 0 }, { w ? w->fd : -1, POLLIN, 0 } };
      if (poll(p, 2, (int)rem) > 0 && p[0].revents) {
        int e = 0; socklen_t el = sizeof e;
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el);
        if (e) { *errout = e; close(fd); return NULL; }
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
        return wrap_kernel(fd);
      }
    }
  }
  if (g_kind != STACK_USERSPACE) { *errout = EPROTONOSUPPORT; return NULL; }
  struct socket *so = usrsctp_socket(to->sa_family, SOCK_STREAM, IPPROTO_SCTP, NULL, NULL, 0, NULL);
  if (!so) { *errout = errno; return NULL; }
  set_user_bounds(so, timeout_ms);
  set_nodelay_user(so);
  if (g_client_filter) {
    uint16_t port = bind_random_port(so, to->sa_family);
    filter_raw_sockets(port ? FILTER_PORT : FILTER_NONE, port);
  }
  ssock *s = wrap_user(so);
  if (usrsctp_connect(so, (struct sockaddr *)to, len) < 0 && errno != EINPROGRESS) {
    *errout = errno; ss_close(s); return NULL;
  }
  int ev = wait_user(s, SCTP_EVENT_WRITE, deadline, w);
  if (ev == 0) { *errout = ETIMEDOUT; ss_close(s); return NULL; }
  if (ev == -2) { *errout = EHOSTUNREACH; ss_close(s); return NULL; }
  if (ev & SCTP_EVENT_ERROR) {
    int e = 0; socklen_t el = sizeof e;
    if (usrsctp_getsockopt(so, SOL_SOCKET, SO_ERROR, &e, &el) < 0 || e == 0) e = ECONNREFUSED;
    *errout = e; ss_close(s); return NULL;
  }
  return s;
}

ssize_t ss_send(ssock *s, const void *buf, size_t len) {
  if (s->kind == STACK_KERNEL) return send(s->fd, buf, len, MSG_NOSIGNAL);
  for (;;) {
    ssize_t n = usrsctp_sendv(s->us, buf, len, NULL, 0, NULL, 0, SCTP_SENDV_NOINFO, 0);
    if (n >= 0 || (errno != EWOULDBLOCK && errno != EAGAIN)) return n;
    int ev = wait_user(s, SCTP_EVENT_WRITE, now_ms() + 30000, NULL);
    if (ev == 0) { errno = ETIMEDOUT; return -1; }
  }
}

ssize_t ss_recv(ssock *s, void *buf, size_t len, int timeout_ms) {
  long long deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
  if (s->kind == STACK_KERNEL) {
    struct pollfd p = { s->fd, POLLIN, 0 };
    int r = poll(&p, 1, timeout_ms);
    if (r == 0) { errno = ETIMEDOUT; return -1; }
    if (r < 0) return -1;
    return recv(s->fd, buf, len, 0);
  }
  for (;;) {
    struct sockaddr_storage from; socklen_t fl = sizeof from;
    struct sctp_rcvinfo ri; socklen_t il = sizeof ri; unsigned int it = 0; int flags = 0;
    ssize_t n = usrsctp_recvv(s->us, buf, len, (struct sockaddr *)&from, &fl, &ri, &il, &it, &flags);
    if (n > 0 && (flags & MSG_NOTIFICATION)) continue;
    if (n >= 0) return n;
    if (errno != EWOULDBLOCK && errno != EAGAIN) return -1;
    int ev = wait_user(s, SCTP_EVENT_READ, deadline, NULL);
    if (ev == 0) { errno = ETIMEDOUT; return -1; }
  }
}

int ss_local(ssock *s, struct sockaddr_storage *out) {
  memset(out, 0, sizeof *out);
  if (s->kind == STACK_KERNEL) { socklen_t l = sizeof *out; return getsockname(s->fd, (struct sockaddr *)out, &l); }
  struct sockaddr *addrs = NULL;
  int n = usrsctp_getladdrs(s->us, 0, &addrs);
  if (n <= 0 || !addrs) return -1;
  memcpy(out, addrs, addrs->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
  usrsctp_freeladdrs(addrs);
  return 0;
}

void ss_close(ssock *s) {
  if (!s) return;
  if (s->kind == STACK_KERNEL) close(s->fd);
  else {
    if (s->evfd >= 0) usrsctp_set_upcall(s->us, noop_upcall, NULL);
    usrsctp_close(s->us);
    if (s->evfd >= 0) close(s->evfd);
  }
  free(s);
}

int ss_shutdown_wait(ssock *s, int ms) {
  char buf[4096];
  if (s->kind == STACK_KERNEL) shutdown(s->fd, SHUT_WR);
  else usrsctp_shutdown(s->us, SHUT_WR);
  long long deadline = now_ms() + ms;
  for (;;) {
    long long rem = deadline - now_ms();
    if (rem <= 0) return -1;
    ssize_t n = ss_recv(s, buf, sizeof buf, (int)rem);
    if (n == 0) return 0;
    if (n < 0) return errno == ETIMEDOUT ? -1 : 0; /* ENOTCONN etc.: the association is gone */
  }
}

void sstack_finish(int ms) {
  if (g_kind != STACK_USERSPACE) return;
  long long deadline = now_ms() + ms;
  while (usrsctp_finish() != 0 && now_ms() < deadline) usleep(5000);
}
