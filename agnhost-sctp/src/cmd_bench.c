/* bench HOST:PORT [--associations=200] [--messages=20] [--concurrency=8] [--seconds=3] [--size=100]
 * Against a netexec SCTP server: association setup time and echo round-trip time (sequential),
 * then echo throughput with --concurrency associations in parallel. One JSON line on stdout.
 * Used by `npm run agnhost:bench`. */
#define _GNU_SOURCE
#include "common.h"
#include "net.h"
#include "stack.h"
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

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

int cmd_bench(int argc, char **argv) {
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
