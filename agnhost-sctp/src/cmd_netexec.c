/* netexec [--http-port=8080] [--udp-port=8081] [--sctp-port=-1] [--tcp-port=-1]
 * UDP, SCTP and TCP servers answering hostname | echo <msg> | clientip | serveraddress, and the
 * HTTP endpoints /hostname /clientip /echo /healthz /readyz /sctpstack /dial. The listeners and
 * threads are in serve.c; this file is what netexec answers. */
#define _GNU_SOURCE
#include "common.h"
#include "net.h"
#include "serve.h"
#include "stack.h"
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

/* ---------- commands (UDP, TCP, SCTP) ---------- */

/* hostname | echo <msg> | clientip | serveraddress; the command word is case-insensitive. */
void handle_cmd(const char *req, size_t n, const struct sockaddr *peer, const struct sockaddr *local, char *out, size_t outlen) {
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

void netexec_http(int fd, const struct sockaddr *peer, char *target) {
  char *q = strchr(target, '?');
  if (q) *q++ = 0;
  char out[1300];
  if (strcmp(target, "/hostname") == 0 || strcmp(target, "/hostName") == 0) { gethostname(out, sizeof out); http_reply(fd, 200, "text/plain", out); }
  else if (strcmp(target, "/clientip") == 0) { addr_str(peer, out, sizeof out); http_reply(fd, 200, "text/plain", out); }
  else if (strcmp(target, "/echo") == 0) { out[0] = 0; query_get(q, "msg", out, sizeof out); http_reply(fd, 200, "text/plain", out); }
  else if (strcmp(target, "/healthz") == 0 || strcmp(target, "/readyz") == 0) http_reply(fd, 200, "text/plain", "ok");
  else if (strcmp(target, "/dial") == 0) http_dial(fd, q);
  else if (strcmp(target, "/sctpstack") == 0) http_reply(fd, 200, "text/plain", sstack_name(sstack_kind()));
  else if (strcmp(target, "/") == 0) http_reply(fd, 200, "text/plain", "NOW: agnhost-sctp " AGNHOST_VERSION);
  else http_reply(fd, 404, "text/plain", "404 page not found");
}

/* ---------- the subcommand ---------- */

int cmd_netexec(int argc, char **argv) {
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
