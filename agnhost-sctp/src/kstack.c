/* Kernel SCTP: plain sockets API, no lksctp headers needed. socket(..., IPPROTO_SCTP) auto-loads
 * sctp.ko on kernels with a modular SCTP: only this binary probes, and only when SCTP is used. */
#include "stack.h"
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef SOL_SCTP
#define SOL_SCTP 132
#endif
/* values from <linux/sctp.h> */
#define K_SCTP_RTOINFO 0
#define K_SCTP_INITMSG 2

struct k_initmsg { uint16_t num_ostreams, max_instreams, max_attempts, max_init_timeo; };
struct k_rtoinfo { int32_t assoc_id; uint32_t initial, max, min; };

int kstack_probe(char *err, size_t errlen) {
  int fd = socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP);
  if (fd < 0) { snprintf(err, errlen, "socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP): %s", strerror(errno)); return 0; }
  close(fd);
  return 1;
}

void sctp_rto_bounds(int timeout_ms, uint32_t *initial, uint32_t *max) {
  uint32_t i = (uint32_t)(timeout_ms / 6), m;
  if (i < 50) i = 50;
  if (i > 1000) i = 1000;
  m = (uint32_t)(timeout_ms / 3);
  if (m < i) m = i;
  if (m > 3000) m = 3000;
  *initial = i;
  *max = m;
}

int kstack_set_init_bounds(int fd, int timeout_ms) {
  uint32_t initial, max;
  sctp_rto_bounds(timeout_ms, &initial, &max);
  struct k_rtoinfo ri = { 0, initial, max, initial < 100 ? initial : 100 };
  struct k_initmsg im = { 0, 0, 4, (uint16_t)max };
  int r1 = setsockopt(fd, SOL_SCTP, K_SCTP_RTOINFO, &ri, sizeof ri);
  int r2 = setsockopt(fd, SOL_SCTP, K_SCTP_INITMSG, &im, sizeof im);
  return r1 < 0 || r2 < 0 ? -1 : 0;
}
