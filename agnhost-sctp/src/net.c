#define _GNU_SOURCE
#include "net.h"
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/icmp6.h>
#include <netinet/ip_icmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

long parse_duration_ms(const char *s) {
  char *end;
  double v = strtod(s, &end);
  if (end == s || v < 0) return -1;
  if (*end == 0 || strcmp(end, "s") == 0) return (long)(v * 1000 + 0.5);
  if (strcmp(end, "ms") == 0) return (long)(v + 0.5);
  if (strcmp(end, "m") == 0) return (long)(v * 60000 + 0.5);
  return -1;
}

const char *cls_name(int c) {
  switch (c) {
#define CLS_CASE(sym, name) case sym: return name;
  EXIT_CLASSES(CLS_CASE)
#undef CLS_CASE
  default: return "OTHER";
  }
}

int icmp_class(int family, int type, int code) {
  if (family == AF_INET) {
    if (type != ICMP_DEST_UNREACH) return CLS_OTHER;
    switch (code) {
    case ICMP_PORT_UNREACH: case ICMP_PROT_UNREACH: return CLS_REFUSED;
    case ICMP_NET_ANO: case ICMP_HOST_ANO: case ICMP_PKT_FILTERED: return CLS_PROHIBITED;
    default: return CLS_UNREACHABLE;
    }
  }
  if (type == ICMP6_DST_UNREACH) {
    switch (code) {
    case ICMP6_DST_UNREACH_NOPORT: return CLS_REFUSED;
    case ICMP6_DST_UNREACH_ADMIN: case 5: case 6: return CLS_PROHIBITED; /* 5 policy, 6 reject route */
    default: return CLS_UNREACHABLE;
    }
  }
  if (type == ICMP6_PARAM_PROB && code == ICMP6_PARAMPROB_NEXTHEADER) return CLS_REFUSED;
  return CLS_OTHER;
}

int errno_class(int e) {
  switch (e) {
  case ETIMEDOUT: return CLS_TIMEOUT;
  case ECONNREFUSED: case ECONNRESET: return CLS_REFUSED;
  case EHOSTUNREACH: case ENETUNREACH: return CLS_UNREACHABLE;
  case EACCES: case EPERM: return CLS_PROHIBITED;
  default: return CLS_OTHER;
  }
}

const char *addr_ip(const struct sockaddr *sa, char *buf, size_t len) {
  if (sa->sa_family == AF_INET6) inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, buf, (socklen_t)len);
  else inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, buf, (socklen_t)len);
  return buf;
}

const char *addr_str(const struct sockaddr *sa, char *buf, size_t len) {
  char ip[INET6_ADDRSTRLEN];
  addr_ip(sa, ip, sizeof ip);
  if (sa->sa_family == AF_INET6) snprintf(buf, len, "[%s]:%u", ip, ntohs(((const struct sockaddr_in6 *)sa)->sin6_port));
  else snprintf(buf, len, "%s:%u", ip, ntohs(((const struct sockaddr_in *)sa)->sin_port));
  return buf;
}

int resolve_host(const char *host, int port, struct sockaddr_storage *out, socklen_t *len, char *msg, size_t msglen) {
  memset(out, 0, sizeof *out);
  struct sockaddr_in *a4 = (struct sockaddr_in *)out;
  struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)out;
  if (port < 0 || port > 65535) { snprintf(msg, msglen, "port %d out of range", port); return CLS_USAGE; }
  if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
    a4->sin_family = AF_INET; a4->sin_port = htons((uint16_t)port); *len = sizeof *a4; return 0;
  }
  if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
    a6->sin6_family = AF_INET6; a6->sin6_port = htons((uint16_t)port); *len = sizeof *a6; return 0;
  }
  struct addrinfo hints, *res = NULL;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC; hints.ai_socktype = SOCK_DGRAM;
  int r = getaddrinfo(host, NULL, &hints, &res);
  if (r != 0 || !res) { snprintf(msg, msglen, "cannot resolve %s: %s", host, gai_strerror(r)); return CLS_DNS; }
  struct addrinfo *pick = res;
  for (struct addrinfo *p = res; p; p = p->ai_next) if (p->ai_family == AF_INET) { pick = p; break; }
  memcpy(out, pick->ai_addr, pick->ai_addrlen);
  *len = pick->ai_addrlen;
  if (out->ss_family == AF_INET) a4->sin_port = htons((uint16_t)port); else a6->sin6_port = htons((uint16_t)port);
  freeaddrinfo(res);
  return 0;
}

int resolve_hostport(const char *hp, struct sockaddr_storage *out, socklen_t *len, char *msg, size_t msglen) {
  char host[256];
  const char *colon;
  if (hp[0] == '[') {
    const char *rb = strchr(hp, ']');
    if (!rb || rb[1] != ':') { snprintf(msg, msglen, "bad address %s, want [v6]:port", hp); return CLS_USAGE; }
    snprintf(host, sizeof host, "%.*s", (int)(rb - hp - 1), hp + 1);
    colon = rb + 1;
  } else {
    colon = strrchr(hp, ':');
    if (!colon || colon == hp) { snprintf(msg, msglen, "bad address %s, want host:port", hp); return CLS_USAGE; }
    snprintf(host, sizeof host, "%.*s", (int)(colon - hp), hp);
  }
  char *end;
  long port = strtol(colon + 1, &end, 10);
  if (*end || end == colon + 1) { snprintf(msg, msglen, "bad port in %s", hp); return CLS_USAGE; }
  return resolve_host(host, (int)port, out, len, msg, msglen);
}

void icmpw_open(struct icmpw *w, const struct sockaddr *dst, int proto) {
  memset(w, 0, sizeof *w);
  w->family = dst->sa_family;
  w->proto = proto;
  memcpy(&w->dst, dst, dst->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
  w->fd = dst->sa_family == AF_INET6 ? socket(AF_INET6, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMPV6)
                                     : socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMP);
  if (w->fd >= 0 && dst->sa_family == AF_INET6) {
    struct icmp6_filter f;
    ICMP6_FILTER_SETBLOCKALL(&f);
    ICMP6_FILTER_SETPASS(ICMP6_DST_UNREACH, &f);
    ICMP6_FILTER_SETPASS(ICMP6_PARAM_PROB, &f);
    setsockopt(w->fd, IPPROTO_ICMPV6, ICMP6_FILTER, &f, sizeof f);
  }
}

int icmpw_poll(struct icmpw *w) {
  unsigned char b[2048];
  struct sockaddr_storage from;
  while (!w->matched && w->fd >= 0) {
    socklen_t fl = sizeof from;
    ssize_t n = recvfrom(w->fd, b, sizeof b, 0, (struct sockaddr *)&from, &fl);
    if (n <= 0) break;
    const unsigned char *ic, *in;
    size_t inlen;
    int type, code, proto;
    if (w->family == AF_INET) {
      if (n < 20) continue;
      size_t ihl = (size_t)(b[0] & 0x0f) * 4;
      if ((size_t)n < ihl + 8 + 20) continue;
      ic = b + ihl; type = ic[0]; code = ic[1];
      if (type != ICMP_DEST_UNREACH) continue;
      in = ic + 8; inlen = (size_t)n - ihl - 8;
      size_t iihl = (size_t)(in[0] & 0x0f) * 4;
      proto = in[9];
      if (inlen < iihl + 4 || proto != w->proto) continue;
      const struct sockaddr_in *d = (const struct sockaddr_in *)&w->dst;
      if (memcmp(in + 16, &d->sin_addr, 4) != 0 || memcmp(in + iihl + 2, &d->sin_port, 2) != 0) continue;
    } else {
      /* ICMPv6 raw sockets deliver the ICMPv6 message without the IPv6 header */
      if (n < 8 + 40 + 4) continue;
      ic = b; type = ic[0]; code = ic[1];
      in = ic + 8; inlen = (size_t)n - 8;
      proto = in[6]; /* no extension headers expected */
      if (proto != w->proto) continue;
      const struct sockaddr_in6 *d = (const struct sockaddr_in6 *)&w->dst;
      if (memcmp(in + 24, &d->sin6_addr, 16) != 0 || memcmp(in + 40 + 2, &d->sin6_port, 2) != 0) continue;
      (void)inlen;
    }
    w->matched = 1; w->type = type; w->code = code;
    addr_ip((struct sockaddr *)&from, w->from, sizeof w->from);
  }
  return w->matched;
}

void icmpw_close(struct icmpw *w) {
  if (w->fd >= 0) close(w->fd);
  w->fd = -1;
}
