/* SCTP stack abstraction: the kernel's SOCK_STREAM/IPPROTO_SCTP sockets, or usrsctp over raw IP. */
#ifndef AGNHOST_SCTP_STACK_H
#define AGNHOST_SCTP_STACK_H
#include <stdint.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

enum stack_kind { STACK_NONE = 0, STACK_KERNEL = 1, STACK_USERSPACE = 2 };

/* Which stack to use: "auto", "kernel" or "userspace". Set once from the command line. */
extern const char *g_stack_mode;
/* usrsctp blackhole sysctl (0: ABORT out-of-the-blue packets, 2: never answer them). */
extern int g_blackhole;
/* 1 in single-association client processes (connect): bind a random port and filter the raw
 * sockets to it. Never in servers, whose stack serves many ports. */
extern int g_client_filter;

/* Initialises the chosen stack once (thread-safe); prints one "sctp stack: ..." line on stderr.
 * Returns the kind, or STACK_NONE with a one-sentence reason in err. */
int sstack_init(char *err, size_t errlen);
int sstack_kind(void);
const char *sstack_name(int kind);

struct icmpw;
typedef struct ssock ssock;

ssock *ss_listen(const struct sockaddr *bind_addr, socklen_t len, int backlog, char *err, size_t errlen);
/* Blocks until an association arrives; NULL on error (errno set). */
ssock *ss_accept(ssock *l, struct sockaddr_storage *peer, socklen_t *peerlen);
/* Connects within timeout_ms. On failure returns NULL and sets *errout to an errno value
 * (ETIMEDOUT for the deadline; EHOSTUNREACH when the ICMP watcher w matched an error). */
ssock *ss_connect(const struct sockaddr *to, socklen_t len, int timeout_ms, struct icmpw *w, int *errout);
ssize_t ss_send(ssock *s, const void *buf, size_t len);
/* -1 with errno ETIMEDOUT after timeout_ms (<0: wait forever); 0 when the peer shut down. */
ssize_t ss_recv(ssock *s, void *buf, size_t len, int timeout_ms);
int ss_local(ssock *s, struct sockaddr_storage *out);
void ss_close(ssock *s);
/* Graceful end: SHUTDOWN, then wait up to ms for the peer's SHUTDOWN-ACK (our SHUTDOWN-COMPLETE is
 * sent before the socket reports EOF). 0 when the association ended cleanly. */
int ss_shutdown_wait(ssock *s, int ms);
/* Closes every association and waits up to ms for the userspace stack to finish shutdowns. */
void sstack_finish(int ms);

/* Kernel stack (kstack.c): plain sockets API. */
int kstack_probe(char *err, size_t errlen);
int kstack_set_init_bounds(int fd, int timeout_ms);
/* RTO.Initial and RTO.Max (ms) that let a blocked connect give up within timeout_ms, for either stack. */
void sctp_rto_bounds(int timeout_ms, uint32_t *initial, uint32_t *max);

#endif
