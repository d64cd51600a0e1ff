#ifndef AGNHOST_SCTP_NET_H
#define AGNHOST_SCTP_NET_H
#include <stdint.h>
#include <sys/socket.h>
#include <netinet/in.h>

/* Watches ICMP/ICMPv6 destination-unreachable errors quoting a packet of protocol proto to
 * dst (address and port). Opened before the connect so the first error is not missed. */
struct icmpw {
  int fd;          /* -1 when no raw ICMP socket could be opened (no CAP_NET_RAW) */
  int family;
  int proto;
  struct sockaddr_storage dst;
  int matched;     /* 1 once a matching error arrived */
  int type, code;
  char from[64];
};
void icmpw_open(struct icmpw *w, const struct sockaddr *dst, int proto);
/* Reads what is queued (non-blocking); returns 1 when a matching error has been seen. */
int icmpw_poll(struct icmpw *w);
void icmpw_close(struct icmpw *w);

/* Classes for connect failures, with their exit codes: enum cls in exit_classes.h, generated from
 * ../exit-classes.json (README.md). cls_name: "OK", "TIMEOUT", …; "OTHER" for an unknown code. */
#include "exit_classes.h"
const char *cls_name(int c);
/* Class of an ICMP error (IPv4 type 3 / IPv6 type 1 or 4). */
int icmp_class(int family, int type, int code);
/* Class of an errno from connect/recv. */
int errno_class(int e);

/* "host:port" or "[v6]:port" → address; returns 0, or CLS_DNS / CLS_USAGE with msg. */
int resolve_hostport(const char *hp, struct sockaddr_storage *out, socklen_t *len, char *msg, size_t msglen);
int resolve_host(const char *host, int port, struct sockaddr_storage *out, socklen_t *len, char *msg, size_t msglen);
const char *addr_str(const struct sockaddr *sa, char *buf, size_t len);       /* "ip:port" / "[ip]:port" */
const char *addr_ip(const struct sockaddr *sa, char *buf, size_t len);        /* "ip" */
long long now_ms(void);
/* Parses "2s", "500ms", "1.5s", "3" (seconds); returns ms or -1. */
long parse_duration_ms(const char *s);
#endif
