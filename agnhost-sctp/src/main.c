/* agnhost-sctp: the parts of agnhost the SCTP suite uses (netexec, connect, porter, pause),
 * with SCTP over the kernel or over usrsctp on raw IP. See ../README.md. */
#define _GNU_SOURCE
#include "net.h"
#include "stack.h"
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef AGNHOST_VERSION
#define AGNHOST_VERSION "dev"
#endif

extern char **environ;
static const char *g_bind_address; /* --bind-address for userspace SCTP servers */

static void die_usage(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "agnhost-sctp: ");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n");
  va_end(ap);
  exit(CLS_USAGE);
}

static void spawn(void *(*fn)(void *), void *arg) {
  pthread_t t;
  pthread_attr_t a;
  pthread_attr_init(&a);
  pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize(&a, 512 * 1024);
  if (pthread_create(&t, &a, fn, arg) != 0) { perror("agnhost-sctp: pthread_create"); }
  pthread_attr_destroy(&a);
}

/* ---------- flags ---------- */

/* Matches --name=value or --name value; returns the value or NULL. */
static const char *flag(int argc, char **argv, int *i, const char *name) {
  size_t n = strlen(name);
  const char *a = argv[*i];
  if (a[0] != '-') return NULL;
  a += a[1] == '-' ? 2 : 1;
  if (strncmp(a, name, n) != 0) return NULL;
  if (a[n] == '=') return a + n + 1;
  if (a[n] == 0) {
    if (*i + 1 >= argc) die_usage("--%s needs a value", name);
    return argv[++*i];
  }
  return NULL;
}

static int to_port(const char *name, const char *v) {
  char *end;
  long p = strtol(v, &end, 10);
  if (*end || p < -1 || p > 65535) die_usage("--%s: bad port %s", name, v);
  return (int)p;
}

/* Global flags, accepted anywhere; removed from argv. */
static int take_global_flags(int argc, char **argv) {
  int out = 0;
  for (int i = 0; i < argc; i++) {
    const char *v;
    if ((v = flag(argc, argv, &i, "sctp-stack"))) {
      if (strcmp(v, "auto") && strcmp(v, "kernel") && strcmp(v, "userspace")) die_usage("--sctp-stack must be auto, kernel or userspace, got %s", v);
      g_stack_mode = v;
    } else if ((v = flag(argc, argv, &i, "sctp-blackhole"))) {
      g_blackhole = atoi(v);
      if (g_blackhole < 0 || g_blackhole > 2) die_usage("--sctp-blackhole must be 0, 1 or 2");
    } else if ((v = flag(argc, argv, &i, "bind-address"))) {
      g_bind_address = v;
    } else argv[out++] = argv[i];
  }
  return out;
}

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

/* ---------- netexec commands ---------- */

static void trim(char *s) {
  size_t n = strlen(s);
  while (n && isspace((unsigned char)s[n - 1])) s[--n] = 0;
  size_t i = 0;
  while (s[i] && isspace((unsigned char)s[i])) i++;
  if (i) memmove(s, s + i, n - i + 1);
}

/* hostname | echo <msg> | clientip | serveraddress; the command word is case-insensitive. */
static void handle_cmd(const char *req, size_t n, const struct sockaddr *peer, const struct sockaddr *local, char *out, size_t outlen) {
  char buf[1100];
  if (n > 1024) n = 1024;
  memcpy(buf, req, n); buf[n] = 0;
  trim(buf);
  out[0] = 0;
  char word[32];
  size_t w = 0;
  while (buf[w] && !isspace((unsigned char)buf[w]) && w < sizeof word - 1) { word[w] = (char)tolower((unsigned char)buf[w]); w++; }
  word[w] = 0;
  if (strcmp(word, "hostname") == 0) gethostname(out, outlen);
  else if (strcmp(word, "echo") == 0) { const char *m = buf + w; while (isspace((unsigned char)*m)) m++; snprintf(out, outlen, "%s", m); }
  else if (strcmp(word, "clientip") == 0 && peer) addr_str(peer, out, outlen);
  else if (strcmp(word, "serveraddress") == 0 && local) addr_str(local, out, outlen);
}

enum srvkind { SRV_CMD, SRV_VALUE };
struct srv { int port; int kind; const char *value; int fd; ssock *ls; };
struct conn { struct srv *srv; int fd; ssock *s; struct sockaddr_storage peer; };

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

static void start_sctp(int port, int kind, const char *value) {
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

static void start_udp(int port, int kind, const char *value) {
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

static void *http_conn_thread(void *arg);

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

enum { SRV_HTTP_NETEXEC = 10, SRV_HTTP_VALUE = 11 };

static void start_tcp(int port, int kind, const char *value) {
  char err[200];
  struct srv *sv = calloc(1, sizeof *sv);
  sv->port = port; sv->kind = kind; sv->value = value;
  sv->fd = listen_inet(SOCK_STREAM, port, err, sizeof err);
  if (sv->fd < 0) { fprintf(stderr, "agnhost-sctp: TCP port %d: %s\n", port, err); exit(1); }
  fprintf(stderr, "agnhost-sctp: serving %s on port %d\n", kind >= SRV_HTTP_NETEXEC ? "HTTP" : "TCP", port);
  spawn(tcp_accept_thread, sv);
}

/* ---------- HTTP ---------- */

static void url_decode(char *s) {
  char *o = s;
  for (; *s; s++) {
    if (*s == '+') *o++ = ' ';
    else if (*s == '%' && isxdigit((unsigned char)s[1]) && isxdigit((unsigned char)s[2])) {
      char h[3] = { s[1], s[2], 0 };
      *o++ = (char)strtol(h, NULL, 16); s += 2;
    } else *o++ = *s;
  }
  *o = 0;
}

/* Copies the decoded value of key from a query string; returns 1 if present. */
static int query_get(const char *q, const char *key, char *out, size_t outlen) {
  size_t kl = strlen(key);
  while (q && *q) {
    const char *amp = strchr(q, '&');
    size_t l = amp ? (size_t)(amp - q) : strlen(q);
    if (l >= kl && strncmp(q, key, kl) == 0 && (q[kl] == '=' || l == kl)) {
      size_t vl = l > kl ? l - kl - 1 : 0;
      if (vl >= outlen) vl = outlen - 1;
      memcpy(out, q + kl + 1, vl); out[vl] = 0;
      if (l == kl) out[0] = 0;
      url_decode(out);
      return 1;
    }
    q = amp ? amp + 1 : NULL;
  }
  return 0;
}

static void json_str(char *out, size_t outlen, const char *s) {
  size_t o = strlen(out);
  if (o + 2 >= outlen) return;
  out[o++] = '"';
  for (; *s && o + 8 < outlen; s++) {
    unsigned char ch = (unsigned char)*s;
    if (ch == '"' || ch == '\\') { out[o++] = '\\'; out[o++] = (char)ch; }
    else if (ch < 0x20) o += (size_t)snprintf(out + o, outlen - o, "\\u%04x", ch);
    else out[o++] = (char)ch;
  }
  out[o++] = '"';
  out[o] = 0;
}

static void http_reply(int fd, int status, const char *ctype, const char *body) {
  char h[256];
  const char *reason = status == 200 ? "OK" : status == 400 ? "Bad Request" : status == 404 ? "Not Found" : "Error";
  int n = snprintf(h, sizeof h, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
                   status, reason, ctype, strlen(body));
  send(fd, h, (size_t)n, MSG_NOSIGNAL);
  send(fd, body, strlen(body), MSG_NOSIGNAL);
}

/* One try of /dial over protocol; returns 0 with the response, or -1 with an error text. */
static int dial_once(const char *proto, const char *host, int port, const char *request, char *resp, size_t resplen) {
  struct sockaddr_storage ss;
  socklen_t len;
  char msg[300], a[80];
  const int timeout = 5000;
  resp[0] = 0;
  if (resolve_host(host, port, &ss, &len, msg, sizeof msg) != 0) { snprintf(resp, resplen, "%s", msg); return -1; }
  addr_str((struct sockaddr *)&ss, a, sizeof a);
  if (strcmp(proto, "sctp") == 0) {
    char err[300];
    int e;
    if (sstack_init(err, sizeof err) == STACK_NONE) { snprintf(resp, resplen, "sctp dial failed. err:%s", err); return -1; }
    ssock *s = ss_connect((struct sockaddr *)&ss, len, timeout, NULL, &e);
    if (!s) { snprintf(resp, resplen, "sctp dial failed. err:dial sctp %s: %s", a, strerror(e)); return -1; }
    if (ss_send(s, request, strlen(request)) < 0) { snprintf(resp, resplen, "sctp connection write failed. err:%s", strerror(errno)); ss_close(s); return -1; }
    char buf[1025];
    ssize_t n = ss_recv(s, buf, 1024, timeout);
    int ok = n >= 0;
    if (n < 0) snprintf(resp, resplen, "reading from sctp connection failed. err:'%s'", strerror(errno));
    else { buf[n] = 0; snprintf(resp, resplen, "%s", buf); }
    ss_close(s);
    return ok ? 0 : -1;
  }
  int udp = strcmp(proto, "udp") == 0;
  int fd = socket(ss.ss_family, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
  struct timeval tv = { timeout / 1000, 0 };
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (connect(fd, (struct sockaddr *)&ss, len) < 0) {
    snprintf(resp, resplen, "%s dial failed. err:dial %s %s: %s", proto, proto, a, strerror(errno)); close(fd); return -1;
  }
  char req[1300];
  if (udp) snprintf(req, sizeof req, "%s", request);
  else snprintf(req, sizeof req, "GET /%s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", request[0] == '/' ? request + 1 : request, a);
  if (send(fd, req, strlen(req), MSG_NOSIGNAL) < 0) { snprintf(resp, resplen, "%s write failed. err:%s", proto, strerror(errno)); close(fd); return -1; }
  char buf[8192];
  size_t got = 0;
  for (;;) {
    ssize_t n = recv(fd, buf + got, sizeof buf - 1 - got, 0);
    if (n < 0) { snprintf(resp, resplen, "reading from %s connection failed. err:'%s'", proto, strerror(errno)); close(fd); return -1; }
    got += (size_t)n;
    if (n == 0 || udp || got >= sizeof buf - 1) break;
  }
  buf[got] = 0;
  close(fd);
  const char *body = buf;
  if (!udp) {
    const char *e = strstr(buf, "\r\n\r\n");
    if (!e) { snprintf(resp, resplen, "http response without header end"); return -1; }
    body = e + 4;
  }
  snprintf(resp, resplen, "%.*s", (int)(resplen - 1), body);
  return 0;
}

static void http_dial(int fd, const char *q) {
  char request[1024], proto[16] = "http", host[256], portv[16], triesv[16] = "1";
  if (!query_get(q, "request", request, sizeof request) || !request[0]) { http_reply(fd, 400, "text/plain", "request parameter not specified"); return; }
  query_get(q, "protocol", proto, sizeof proto);
  if (!proto[0]) strcpy(proto, "http");
  if (strcmp(proto, "http") && strcmp(proto, "udp") && strcmp(proto, "sctp")) { http_reply(fd, 400, "text/plain", "unsupported protocol"); return; }
  if (!query_get(q, "host", host, sizeof host) || !query_get(q, "port", portv, sizeof portv)) { http_reply(fd, 400, "text/plain", "host and port parameters are required"); return; }
  query_get(q, "tries", triesv, sizeof triesv);
  char *end;
  long tries = strtol(triesv, &end, 10), port = strtol(portv, NULL, 10);
  if (*end || tries < 1 || tries > 100) { http_reply(fd, 400, "text/plain", "bad tries parameter"); return; }
  enum { LIST = 32768, BODY = 2 * LIST + 64 };
  char *responses = malloc(LIST), *errors = malloc(LIST), *body = malloc(BODY);
  char resp[1300];
  if (!responses || !errors || !body) { free(responses); free(errors); free(body); http_reply(fd, 500, "text/plain", "out of memory"); return; }
  int nr = 0, ne = 0, last_ok = 0;
  responses[0] = errors[0] = 0;
  for (long i = 0; i < tries; i++) {
    int r = dial_once(proto, host, (int)port, request, resp, sizeof resp);
    char *dst = r == 0 ? responses : errors;
    if (r == 0 ? nr++ : ne++) strncat(dst, ",", LIST - strlen(dst) - 1);
    json_str(dst, LIST, resp);
    last_ok = r == 0 && resp[0];
  }
  /* agnhost's shape: Go marshals map keys sorted ("errors" before "responses") */
  snprintf(body, BODY, "{");
  if (ne) { strcat(body, "\"errors\":["); strcat(body, errors); strcat(body, "]"); }
  if (nr && last_ok) { if (ne) strcat(body, ","); strcat(body, "\"responses\":["); strcat(body, responses); strcat(body, "]"); }
  strcat(body, "}");
  http_reply(fd, 200, "application/json", body);
  free(responses); free(errors); free(body);
}

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
  if (c->srv->kind == SRV_HTTP_VALUE) { http_reply(c->fd, 200, "text/plain", c->srv->value); close(c->fd); free(c); return NULL; }
  char *q = strchr(target, '?');
  if (q) *q++ = 0;
  char out[1300];
  if (strcmp(target, "/hostname") == 0 || strcmp(target, "/hostName") == 0) { gethostname(out, sizeof out); http_reply(c->fd, 200, "text/plain", out); }
  else if (strcmp(target, "/clientip") == 0) { addr_str((struct sockaddr *)&c->peer, out, sizeof out); http_reply(c->fd, 200, "text/plain", out); }
  else if (strcmp(target, "/echo") == 0) { out[0] = 0; query_get(q, "msg", out, sizeof out); http_reply(c->fd, 200, "text/plain", out); }
  else if (strcmp(target, "/healthz") == 0 || strcmp(target, "/readyz") == 0) http_reply(c->fd, 200, "text/plain", "ok");
  else if (strcmp(target, "/dial") == 0) http_dial(c->fd, q);
  else if (strcmp(target, "/sctpstack") == 0) http_reply(c->fd, 200, "text/plain", sstack_name(sstack_kind()));
  else if (strcmp(target, "/") == 0) http_reply(c->fd, 200, "text/plain", "NOW: agnhost-sctp " AGNHOST_VERSION);
  else http_reply(c->fd, 404, "text/plain", "404 page not found");
  close(c->fd);
  free(c);
  return NULL;
}

/* ---------- subcommands ---------- */

static void wait_forever(void) { for (;;) pause(); }

static int cmd_netexec(int argc, char **argv) {
  int http = 8080, udp = 8081, sctp = -1, tcp = -1;
  for (int i = 1; i < argc; i++) {
    const char *v;
    if ((v = flag(argc, argv, &i, "http-port"))) http = to_port("http-port", v);
    else if ((v = flag(argc, argv, &i, "udp-port"))) udp = to_port("udp-port", v);
    else if ((v = flag(argc, argv, &i, "sctp-port"))) sctp = to_port("sctp-port", v);
    else if ((v = flag(argc, argv, &i, "tcp-port"))) tcp = to_port("tcp-port", v);
    else if ((v = flag(argc, argv, &i, "udp-listen-addresses")) || (v = flag(argc, argv, &i, "delay-shutdown"))) { /* accepted, ignored */ }
    else die_usage("netexec: unknown flag %s", argv[i]);
  }
  if (sctp > 0) start_sctp(sctp, SRV_CMD, NULL);
  if (udp > 0) start_udp(udp, SRV_CMD, NULL);
  if (tcp > 0) start_tcp(tcp, SRV_CMD, NULL);
  if (http > 0) start_tcp(http, SRV_HTTP_NETEXEC, NULL);
  wait_forever();
  return 0;
}

static int cmd_porter(int argc, char **argv) {
  (void)argc; (void)argv;
  int n = 0;
  static const struct { const char *prefix; int proto; } pfx[] = {
    { "SERVE_PORT_", 0 }, { "SERVE_TCP_PORT_", 1 }, { "SERVE_UDP_PORT_", 2 }, { "SERVE_SCTP_PORT_", 3 },
  };
  for (char **e = environ; *e; e++) {
    for (size_t k = 0; k < sizeof pfx / sizeof pfx[0]; k++) {
      size_t pl = strlen(pfx[k].prefix);
      if (strncmp(*e, pfx[k].prefix, pl) != 0) continue;
      const char *eq = strchr(*e, '=');
      if (!eq) continue;
      char pnum[16];
      snprintf(pnum, sizeof pnum, "%.*s", (int)(eq - *e - (long)pl), *e + pl);
      int port = to_port(pfx[k].prefix, pnum);
      const char *value = eq + 1;
      if (pfx[k].proto == 0) start_tcp(port, SRV_HTTP_VALUE, value);
      else if (pfx[k].proto == 1) start_tcp(port, SRV_VALUE, value);
      else if (pfx[k].proto == 2) start_udp(port, SRV_VALUE, value);
      else start_sctp(port, SRV_VALUE, value);
      n++;
    }
  }
  if (n == 0) die_usage("porter: no SERVE_PORT_<N>, SERVE_TCP_PORT_<N>, SERVE_UDP_PORT_<N> or SERVE_SCTP_PORT_<N> variables set");
  wait_forever();
  return 0;
}

static int report(int cls, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  printf("%s: ", cls_name(cls));
  vprintf(fmt, ap);
  printf("\n");
  va_end(ap);
  fflush(stdout);
  return cls;
}

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

static int cmd_connect(int argc, char **argv) {
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


/* bench HOST:PORT [--associations=200] [--messages=20] [--concurrency=8] [--seconds=3] [--size=100]
 * Against a netexec SCTP server: association setup time and echo round-trip time (sequential),
 * then echo throughput with --concurrency associations in parallel. One JSON line on stdout. */
static int cmp_ll(const void *a, const void *b) { long long x = *(const long long *)a, y = *(const long long *)b; return x < y ? -1 : x > y; }
static double pct(long long *v, int n, double p) { if (n == 0) return 0; qsort(v, (size_t)n, sizeof *v, cmp_ll); int i = (int)(p * (n - 1) + 0.5); return (double)v[i] / 1000.0; }
static long long now_us(void) { struct timespec ts; clock_gettime(CLOCK_MONOTONIC, &ts); return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000; }

struct bench_arg { struct sockaddr_storage ss; socklen_t len; int size; long long until_us; long long msgs; long long errors; };

static void *bench_worker(void *arg) {
  struct bench_arg *b = arg;
  char msg[2048], buf[4096];
  int e;
  memcpy(msg, "echo ", 5);
  memset(msg + 5, 'x', (size_t)b->size);
  msg[5 + b->size] = 0;
  ssock *s = ss_connect((struct sockaddr *)&b->ss, b->len, 5000, NULL, &e);
  if (!s) { b->errors++; return NULL; }
  while (now_us() < b->until_us) {
    if (ss_send(s, msg, strlen(msg)) < 0 || ss_recv(s, buf, sizeof buf, 5000) != b->size) { b->errors++; break; }
    b->msgs++;
  }
  ss_close(s);
  return NULL;
}

static int cmd_bench(int argc, char **argv) {
  const char *target = NULL;
  int assocs = 200, msgs = 20, conc = 8, size = 100;
  double seconds = 3;
  for (int i = 1; i < argc; i++) {
    const char *v;
    if ((v = flag(argc, argv, &i, "associations"))) assocs = atoi(v);
    else if ((v = flag(argc, argv, &i, "messages"))) msgs = atoi(v);
    else if ((v = flag(argc, argv, &i, "concurrency"))) conc = atoi(v);
    else if ((v = flag(argc, argv, &i, "seconds"))) seconds = atof(v);
    else if ((v = flag(argc, argv, &i, "size"))) size = atoi(v);
    else if (argv[i][0] != '-' && !target) target = argv[i];
    else die_usage("bench: unexpected %s", argv[i]);
  }
  if (!target || assocs < 1 || msgs < 1 || conc < 1 || conc > 256 || size < 1 || size > 1000) die_usage("bench: want HOST:PORT, associations/messages/concurrency ≥ 1, concurrency ≤ 256, 1 ≤ size ≤ 1000");
  struct bench_arg base;
  char msg[300], err[300];
  memset(&base, 0, sizeof base);
  if (resolve_hostport(target, &base.ss, &base.len, msg, sizeof msg)) die_usage("bench: %s", msg);
  if (sstack_init(err, sizeof err) == STACK_NONE) return report(CLS_NOSTACK, "%s", err);
  long long *setup = calloc((size_t)assocs, sizeof *setup), *rtt = calloc((size_t)assocs * (size_t)msgs, sizeof *rtt);
  int ns = 0, nr = 0, failures = 0;
  char buf[4096];
  long long t_seq = now_us();
  for (int a = 0; a < assocs; a++) {
    int e;
    long long t0 = now_us();
    ssock *s = ss_connect((struct sockaddr *)&base.ss, base.len, 5000, NULL, &e);
    if (!s) { failures++; continue; }
    setup[ns++] = now_us() - t0;
    for (int m = 0; m < msgs; m++) {
      long long t1 = now_us();
      ssize_t n;
      if (ss_send(s, "echo ping", 9) < 0 || (n = ss_recv(s, buf, sizeof buf, 5000)) != 4 || memcmp(buf, "ping", 4) != 0) { failures++; break; }
      rtt[nr++] = now_us() - t1;
    }
    ss_close(s);
  }
  double seq_s = (double)(now_us() - t_seq) / 1e6;
  pthread_t *th = calloc((size_t)conc, sizeof *th);
  struct bench_arg *args = calloc((size_t)conc, sizeof *args);
  long long t_par = now_us();
  for (int c = 0; c < conc; c++) {
    args[c] = base; args[c].size = size; args[c].until_us = t_par + (long long)(seconds * 1e6);
    pthread_create(&th[c], NULL, bench_worker, &args[c]);
  }
  long long total = 0, errs = 0;
  for (int c = 0; c < conc; c++) { pthread_join(th[c], NULL); total += args[c].msgs; errs += args[c].errors; }
  double par_s = (double)(now_us() - t_par) / 1e6;
  printf("{\"stack\":\"%s\",\"target\":\"%s\",\"associations\":%d,\"setup_ms\":{\"p50\":%.3f,\"p95\":%.3f,\"max\":%.3f},"
         "\"echo_rtt_ms\":{\"n\":%d,\"p50\":%.3f,\"p95\":%.3f,\"max\":%.3f},\"sequential_s\":%.2f,\"failures\":%d,"
         "\"concurrent\":{\"associations\":%d,\"size\":%d,\"seconds\":%.2f,\"echoes\":%lld,\"echoes_per_s\":%.0f,\"payload_MBps\":%.3f,\"errors\":%lld}}\n",
         sstack_name(sstack_kind()), target, ns, pct(setup, ns, 0.5), pct(setup, ns, 0.95), pct(setup, ns, 1.0),
         nr, pct(rtt, nr, 0.5), pct(rtt, nr, 0.95), pct(rtt, nr, 1.0), seq_s, failures,
         conc, size, par_s, total, (double)total / par_s, (double)total * size * 2 / par_s / 1e6, errs);
  fflush(stdout);
  sstack_finish(1000);
  return failures || errs ? 1 : 0;
}

static int cmd_stack(void) {
  char err[300];
  int k = sstack_init(err, sizeof err);
  printf("%s\n", sstack_name(k));
  return k == STACK_NONE ? CLS_NOSTACK : 0;
}

static void on_term(int sig) { (void)sig; _exit(0); }

static void usage(FILE *f) {
  fprintf(f, "agnhost-sctp %s: agnhost's netexec/connect/porter/pause with SCTP over the kernel or usrsctp\n"
             "usage: agnhost-sctp [--sctp-stack=auto|kernel|userspace] [--sctp-blackhole=0|1|2] [--bind-address=IP] COMMAND ...\n"
             "  netexec [--http-port=8080] [--udp-port=8081] [--sctp-port=-1] [--tcp-port=-1]\n"
             "  connect HOST:PORT [--protocol=tcp|udp|sctp] [--timeout=5s] [--data=STR] [--udp-data=hostname] [--hold=30s --interval=1s]\n"
             "  porter            (SERVE_PORT_<N>, SERVE_TCP_PORT_<N>, SERVE_UDP_PORT_<N>, SERVE_SCTP_PORT_<N>=value)\n"
             "  bench HOST:PORT [--associations=200] [--messages=20] [--concurrency=8] [--seconds=3] [--size=100]\n"
             "  pause | stack | version\n", AGNHOST_VERSION);
}

int main(int argc, char **argv) {
  signal(SIGPIPE, SIG_IGN);
  signal(SIGTERM, on_term);
  signal(SIGINT, on_term);
  setvbuf(stderr, NULL, _IOLBF, 0);
  argc = take_global_flags(argc - 1, argv + 1);
  argv++;
  if (argc < 1) { usage(stderr); return CLS_USAGE; }
  const char *cmd = argv[0];
  if (strcmp(cmd, "netexec") == 0) return cmd_netexec(argc, argv);
  if (strcmp(cmd, "connect") == 0) return cmd_connect(argc, argv);
  if (strcmp(cmd, "porter") == 0) return cmd_porter(argc, argv);
  if (strcmp(cmd, "pause") == 0) { fprintf(stderr, "agnhost-sctp: paused\n"); wait_forever(); }
  if (strcmp(cmd, "stack") == 0) return cmd_stack();
  if (strcmp(cmd, "bench") == 0) return cmd_bench(argc, argv);
  if (strcmp(cmd, "version") == 0) { printf("%s\n", AGNHOST_VERSION); return 0; }
  if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) { usage(stdout); return 0; }
  usage(stderr);
  die_usage("unknown command %s", cmd);
  return CLS_USAGE;
}
