/* The servers behind netexec and porter (serve.h). Every server survives empty reads, ABORTs,
 * resets and half-open peers, and serves each association/connection in its own thread. */
#define _GNU_SOURCE
#include "serve.h"
#include "common.h"
#include "net.h"
#include "stack.h"
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

const char *g_bind_address; /* --bind-address for userspace SCTP servers */

/* ---------- address helpers ---------- */

static void unmap(struct sockaddr_storage *ss) {
  struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
  if (ss->ss_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&a6->sin6_addr)) {
    struct sockaddr_in a4;
    memset(&a4, 0, sizeof a4);
    a4.sin_family = AF_INET; a4.sin_port = a6->sin6_port;
    memcpy(&a4.sin_addr, &a6->sin6_addr.s6_addr[12], 4);
    memset(ss, 0, sizeof *ss);
    memcpy(ss, &a4, sizeof a4);
  }
}

/* Dual-stack wildcard socket for TCP/UDP, falling back to IPv4. */
static int listen_inet(int type, int port, char *err, size_t errlen) {
  int one = 1, zero = 0;
  int fd = socket(AF_INET6, type | SOCK_CLOEXEC, 0);
  if (fd >= 0) {
    struct sockaddr_in6 a;
    memset(&a, 0, sizeof a);
    a.sin6_family = AF_INET6; a.sin6_port = htons((uint16_t)port); a.sin6_addr = in6addr_any;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 && (type != SOCK_STREAM || listen(fd, 1024) == 0)) return fd;
    close(fd);
  }
  fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
  if (fd < 0) { snprintf(err, errlen, "socket: %s", strerror(errno)); return -1; }
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET; a.sin_port = htons((uint16_t)port);
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || (type == SOCK_STREAM && listen(fd, 1024) < 0)) {
    snprintf(err, errlen, "bind port %d: %s", port, strerror(errno)); close(fd); return -1;
  }
  return fd;
}

/* The addresses SCTP servers bind. Kernel: the dual-stack wildcard, like agnhost. Userspace:
 * --bind-address, else one listener on the netns' single non-loopback IPv4 address and one on its
 * single global IPv6 address, so INIT-ACK lists no extra addresses that would bypass DNAT; with
 * several addresses of a family, the IPv4 wildcard (warned) and no IPv6 listener. */
static int sctp_bind_addrs(int port, struct sockaddr_storage ss[2], socklen_t len[2]) {
  memset(ss, 0, 2 * sizeof ss[0]);
  if (g_bind_address) {
    char msg[200];
    if (resolve_host(g_bind_address, port, &ss[0], &len[0], msg, sizeof msg) != 0) die_usage("--bind-address: %s", msg);
    return 1;
  }
  if (sstack_kind() == STACK_KERNEL) {
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss[0];
    int fd = socket(AF_INET6, SOCK_STREAM, IPPROTO_SCTP);
    if (fd >= 0) {
      close(fd);
      a6->sin6_family = AF_INET6; a6->sin6_port = htons((uint16_t)port); a6->sin6_addr = in6addr_any;
      len[0] = sizeof *a6;
      return 1;
    }
    struct sockaddr_in *a4 = (struct sockaddr_in *)&ss[0];
    a4->sin_family = AF_INET; a4->sin_port = htons((uint16_t)port); a4->sin_addr.s_addr = htonl(INADDR_ANY);
    len[0] = sizeof *a4;
    return 1;
  }
  struct ifaddrs *ifs = NULL, *p;
  struct in_addr v4 = { 0 };
  struct in6_addr v6 = IN6ADDR_ANY_INIT;
  int n4 = 0, n6 = 0;
  char names[512] = "";
  if (getifaddrs(&ifs) == 0) {
    for (p = ifs; p; p = p->ifa_next) {
      if (!p->ifa_addr || (p->ifa_flags & IFF_LOOPBACK) || !(p->ifa_flags & IFF_UP)) continue;
      char ip[INET6_ADDRSTRLEN] = "";
      if (p->ifa_addr->sa_family == AF_INET) {
        v4 = ((struct sockaddr_in *)p->ifa_addr)->sin_addr; n4++;
        inet_ntop(AF_INET, &v4, ip, sizeof ip);
      } else if (p->ifa_addr->sa_family == AF_INET6) {
        struct in6_addr a = ((struct sockaddr_in6 *)p->ifa_addr)->sin6_addr;
        if (IN6_IS_ADDR_LINKLOCAL(&a) || IN6_IS_ADDR_LOOPBACK(&a)) continue;
        v6 = a; n6++;
        inet_ntop(AF_INET6, &v6, ip, sizeof ip);
      } else continue;
      size_t l = strlen(names);
      snprintf(names + l, sizeof names - l, "%s%s", l ? "," : "", ip);
    }
    freeifaddrs(ifs);
  }
  struct sockaddr_in *a4 = (struct sockaddr_in *)&ss[0];
  a4->sin_family = AF_INET; a4->sin_port = htons((uint16_t)port);
  a4->sin_addr.s_addr = n4 == 1 ? v4.s_addr : htonl(INADDR_ANY);
  len[0] = sizeof *a4;
  if (n4 != 1 || n6 > 1)
    fprintf(stderr, "agnhost-sctp: userspace SCTP server on port %d: %d IPv4 and %d global IPv6 addresses (%s): %s; pass --bind-address=POD_IP to keep INIT-ACK single-homed\n",
            port, n4, n6, names[0] ? names : "none", n4 != 1 ? "binding the IPv4 wildcard" : "no IPv6 listener");
  if (n6 != 1) return 1;
  struct sockaddr_in6 *b6 = (struct sockaddr_in6 *)&ss[1];
  b6->sin6_family = AF_INET6; b6->sin6_port = htons((uint16_t)port); b6->sin6_addr = v6;
  len[1] = sizeof *b6;
  return 2;
}

/* ---------- TCP, UDP and SCTP servers ---------- */

static void *sctp_conn_thread(void *arg) {
  struct conn *c = arg;
  char buf[65536], out[1200];
  if (c->srv->kind == SRV_VALUE) {
    ss_send(c->s, c->srv->value, strlen(c->srv->value));
  } else {
    struct sockaddr_storage local;
    int have_local = ss_local(c->s, &local) == 0;
    for (;;) {
      /* one reply per message; ends on EOF, error, ABORT or 60 s idle (half-open peers) */
      ssize_t n = ss_recv(c->s, buf, sizeof buf, 60000);
      if (n <= 0) break;
      handle_cmd(buf, (size_t)n, (struct sockaddr *)&c->peer, have_local ? (struct sockaddr *)&local : NULL, out, sizeof out);
      /* an unknown command gets no answer (SCTP has no empty messages); keep the association */
      if (out[0] && ss_send(c->s, out, strlen(out)) < 0) break;
    }
  }
  ss_close(c->s);
  free(c);
  return NULL;
}

static void *sctp_accept_thread(void *arg) {
  struct srv *sv = arg;
  for (;;) {
    struct conn *c = calloc(1, sizeof *c);
    socklen_t pl;
    c->srv = sv;
    c->s = ss_accept(sv->ls, &c->peer, &pl);
    if (!c->s) { free(c); usleep(10000); continue; }
    unmap(&c->peer);
    spawn(sctp_conn_thread, c);
  }
  return NULL;
}

void start_sctp(int port, int kind, const char *value) {
  char err[300];
  if (sstack_init(err, sizeof err) == STACK_NONE) { fprintf(stderr, "agnhost-sctp: cannot serve SCTP on port %d: %s\n", port, err); exit(CLS_NOSTACK); }
  struct sockaddr_storage ss[2];
  socklen_t len[2];
  char a[80];
  int n = sctp_bind_addrs(port, ss, len);
  for (int i = 0; i < n; i++) {
    struct srv *sv = calloc(1, sizeof *sv);
    sv->port = port; sv->kind = kind; sv->value = value;
    sv->ls = ss_listen((struct sockaddr *)&ss[i], len[i], 1024, err, sizeof err);
    if (!sv->ls) { fprintf(stderr, "agnhost-sctp: SCTP listen on %s failed: %s\n", addr_str((struct sockaddr *)&ss[i], a, sizeof a), err); exit(1); }
    fprintf(stderr, "agnhost-sctp: serving SCTP on %s (%s stack)\n", addr_str((struct sockaddr *)&ss[i], a, sizeof a), sstack_name(sstack_kind()));
    spawn(sctp_accept_thread, sv);
  }
}

static void *udp_thread(void *arg) {
  struct srv *sv = arg;
  char buf[65536], out[1200];
  for (;;) {
    struct sockaddr_storage peer;
    socklen_t pl = sizeof peer;
    ssize_t n = recvfrom(sv->fd, buf, sizeof buf, 0, (struct sockaddr *)&peer, &pl);
    if (n < 0) { if (errno == EINTR) continue; usleep(1000); continue; }
    struct sockaddr_storage up = peer;
    unmap(&up);
    if (sv->kind == SRV_VALUE) snprintf(out, sizeof out, "%s", sv->value);
    else handle_cmd(buf, (size_t)n, (struct sockaddr *)&up, NULL, out, sizeof out);
    sendto(sv->fd, out, strlen(out), 0, (struct sockaddr *)&peer, pl);
  }
  return NULL;
}

void start_udp(int port, int kind, const char *value) {
  char err[200];
  struct srv *sv = calloc(1, sizeof *sv);
  sv->port = port; sv->kind = kind; sv->value = value;
  sv->fd = listen_inet(SOCK_DGRAM, port, err, sizeof err);
  if (sv->fd < 0) { fprintf(stderr, "agnhost-sctp: UDP port %d: %s\n", port, err); exit(1); }
  fprintf(stderr, "agnhost-sctp: serving UDP on port %d\n", port);
  spawn(udp_thread, sv);
}

static void *tcp_conn_thread(void *arg) {
  struct conn *c = arg;
  char buf[2048], out[1200];
  if (c->srv->kind == SRV_VALUE) {
    send(c->fd, c->srv->value, strlen(c->srv->value), MSG_NOSIGNAL);
  } else {
    /* one reply per read until EOF, error or 60 s idle (connect --hold exchanges on one connection) */
    struct pollfd p = { c->fd, POLLIN, 0 };
    struct sockaddr_storage local;
    socklen_t ll = sizeof local;
    getsockname(c->fd, (struct sockaddr *)&local, &ll);
    unmap(&local);
    while (poll(&p, 1, 60000) > 0) {
      ssize_t n = recv(c->fd, buf, sizeof buf - 1, 0);
      if (n <= 0) break;
      handle_cmd(buf, (size_t)n, (struct sockaddr *)&c->peer, (struct sockaddr *)&local, out, sizeof out);
      if (send(c->fd, out, strlen(out), MSG_NOSIGNAL) < 0) break;
    }
  }
  close(c->fd);
  free(c);
  return NULL;
}

static void *http_conn_thread(void *arg); /* below */

static void *tcp_accept_thread(void *arg) {
  struct srv *sv = arg;
  for (;;) {
    struct conn *c = calloc(1, sizeof *c);
    socklen_t pl = sizeof c->peer;
    c->srv = sv;
    c->fd = accept4(sv->fd, (struct sockaddr *)&c->peer, &pl, SOCK_CLOEXEC);
    if (c->fd < 0) { free(c); usleep(1000); continue; }
    unmap(&c->peer);
    spawn(sv->kind == SRV_CMD || sv->kind == SRV_VALUE ? tcp_conn_thread : http_conn_thread, c);
  }
  return NULL;
}

void start_tcp(int port, int kind, const char *value) {
  char err[200];
  struct srv *sv = calloc(1, sizeof *sv);
  sv->port = port; sv->kind = kind; sv->value = value;
  sv->fd = listen_inet(SOCK_STREAM, port, err, sizeof err);
  if (sv->fd < 0) { fprintf(stderr, "agnhost-sctp: TCP port %d: %s\n", port, err); exit(1); }
  fprintf(stderr, "agnhost-sctp: serving %s on port %d\n", kind >= SRV_HTTP_NETEXEC ? "HTTP" : "TCP", port);
  spawn(tcp_accept_thread, sv);
}

/* ---------- HTTP ---------- */

void http_reply(int fd, int status, const char *ctype, const char *body) {
  char h[256];
  const char *reason = status == 200 ? "OK" : status == 400 ? "Bad Request" : status == 404 ? "Not Found" : "Error";
  int n = snprintf(h, sizeof h, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
                   status, reason, ctype, strlen(body));
  send(fd, h, (size_t)n, MSG_NOSIGNAL);
  send(fd, body, strlen(body), MSG_NOSIGNAL);
}

/* One request per connection: reads up to the end of the header (10 s), answers, closes. */
static void *http_conn_thread(void *arg) {
  struct conn *c = arg;
  char buf[8192];
  size_t got = 0;
  long long deadline = now_ms() + 10000;
  while (got < sizeof buf - 1) {
    struct pollfd p = { c->fd, POLLIN, 0 };
    long long rem = deadline - now_ms();
    if (rem <= 0 || poll(&p, 1, (int)rem) <= 0) break;
    ssize_t n = recv(c->fd, buf + got, sizeof buf - 1 - got, 0);
    if (n <= 0) break;
    got += (size_t)n;
    buf[got] = 0;
    if (strstr(buf, "\r\n\r\n")) break;
  }
  buf[got] = 0;
  char method[16], target[4096];
  if (got == 0 || sscanf(buf, "%15s %4095s", method, target) != 2) { close(c->fd); free(c); return NULL; }
  if (c->srv->kind == SRV_HTTP_VALUE) http_reply(c->fd, 200, "text/plain", c->srv->value);
  else netexec_http(c->fd, (struct sockaddr *)&c->peer, target);
  close(c->fd);
  free(c);
  return NULL;
}
