/* The TCP, UDP, SCTP and HTTP servers behind netexec and porter: listeners, one thread per
 * association/connection, and what they answer (netexec's commands, or porter's fixed value). */
#ifndef AGNHOST_SCTP_SERVE_H
#define AGNHOST_SCTP_SERVE_H
#include "stack.h"
#include <stddef.h>
#include <sys/socket.h>

/* What a server answers. SRV_CMD: netexec's commands (netexec_command); SRV_VALUE: porter's value,
 * then close; SRV_HTTP_NETEXEC: netexec's HTTP endpoints (netexec_http); SRV_HTTP_VALUE: porter's
 * value over HTTP. */
enum srvkind { SRV_CMD, SRV_VALUE };
enum { SRV_HTTP_NETEXEC = 10, SRV_HTTP_VALUE = 11 };
struct srv { int port; int kind; const char *value; int fd; ssock *ls; };
struct conn { struct srv *srv; int fd; ssock *s; struct sockaddr_storage peer; };

/* --bind-address for userspace SCTP servers (main.c's global flags set it). */
extern const char *g_bind_address;

/* Each starts a listener and its accept thread, or exits (1; CLS_NOSTACK without an SCTP stack). */
void start_sctp(int port, int kind, const char *value);
void start_udp(int port, int kind, const char *value);
void start_tcp(int port, int kind, const char *value);   /* HTTP for SRV_HTTP_* kinds */

/* An HTTP/1.1 response with Content-Length and Connection: close. */
void http_reply(int fd, int status, const char *ctype, const char *body);

/* netexec's side (cmd_netexec.c). One command (hostname | echo <msg> | clientip | serveraddress)
 * → its reply in out, empty when unknown; peer/local may be NULL. */
void handle_cmd(const char *req, size_t n, const struct sockaddr *peer, const struct sockaddr *local, char *out, size_t outlen);
/* Answers one HTTP request for target ("/path?query", modified in place) from peer on fd. */
void netexec_http(int fd, const struct sockaddr *peer, char *target);
#endif
