/* porter: for every SERVE_PORT_<N>=v an HTTP server on N answering v; SERVE_TCP_PORT_<N> raw TCP
 * (writes v, closes); SERVE_UDP_PORT_<N> (answers v to every datagram); SERVE_SCTP_PORT_<N>
 * (writes v on every association, closes, never reads). The servers are in serve.c. */
#define _GNU_SOURCE
#include "common.h"
#include "serve.h"
#include <stdio.h>
#include <string.h>

extern char **environ;

int cmd_porter(int argc, char **argv) {
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
