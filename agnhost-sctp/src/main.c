/* agnhost-sctp: the parts of agnhost the SCTP suite uses (netexec, connect, porter, pause),
 * with SCTP over the kernel or over usrsctp on raw IP. See ../README.md.
 *
 * This file: the global flags, the usage text and the table of subcommands. Each subcommand is
 * in cmd_<name>.c (the one-liners pause, stack and version are below); shared helpers are in
 * common.c, the servers of netexec and porter in serve.c, addresses/ICMP/exit classes in net.c,
 * the SCTP stacks in stack.c (usrsctp) and kstack.c (kernel). */
#define _GNU_SOURCE
#include "common.h"
#include "net.h"
#include "serve.h"
#include "stack.h"
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

static int cmd_pause(int argc, char **argv) {
  (void)argc; (void)argv;
  fprintf(stderr, "agnhost-sctp: paused\n");
  wait_forever();
}

static int cmd_stack(int argc, char **argv) {
  (void)argc; (void)argv;
  char err[300];
  int k = sstack_init(err, sizeof err);
  printf("%s\n", sstack_name(k));
  return k == STACK_NONE ? CLS_NOSTACK : 0;
}

static int cmd_version(int argc, char **argv) {
  (void)argc; (void)argv;
  printf("%s\n", AGNHOST_VERSION);
  return 0;
}

/* A new subcommand: a cmd_<name>.c with int cmd_<name>(int argc, char **argv), its prototype in
 * common.h, a row here, a line in usage() and in README.md's command table. */
static const struct { const char *name; int (*run)(int argc, char **argv); } commands[] = {
  { "netexec", cmd_netexec },
  { "connect", cmd_connect },
  { "porter", cmd_porter },
  { "pause", cmd_pause },
  { "stack", cmd_stack },
  { "bench", cmd_bench },
  { "version", cmd_version },
};

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
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    if (strcmp(cmd, commands[i].name) == 0) return commands[i].run(argc, argv);
  if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) { usage(stdout); return 0; }
  usage(stderr);
  die_usage("unknown command %s", cmd);
}
