/* Helpers every subcommand shares (common.h). */
#define _GNU_SOURCE
#include "common.h"
#include "net.h"
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>
#include <unistd.h>

void die_usage(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "agnhost-sctp: ");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n");
  va_end(ap);
  exit(CLS_USAGE);
}

void spawn(void *(*fn)(void *), void *arg) {
  pthread_t t;
  pthread_attr_t a;
  pthread_attr_init(&a);
  pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize(&a, 512 * 1024);
  if (pthread_create(&t, &a, fn, arg) != 0) { perror("agnhost-sctp: pthread_create"); }
  pthread_attr_destroy(&a);
}

/* ---------- flags ---------- */

const char *flag(int argc, char **argv, int *i, const char *name) {
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

int to_port(const char *name, const char *v) {
  char *end;
  long p = strtol(v, &end, 10);
  if (*end || p < -1 || p > 65535) die_usage("--%s: bad port %s", name, v);
  return (int)p;
}

void wait_forever(void) { for (;;) pause(); }

void trim(char *s) {
  size_t n = strlen(s);
  while (n && isspace((unsigned char)s[n - 1])) s[--n] = 0;
  size_t i = 0;
  while (s[i] && isspace((unsigned char)s[i])) i++;
  if (i) memmove(s, s + i, n - i + 1);
}

int report(int cls, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  printf("%s: ", cls_name(cls));
  vprintf(fmt, ap);
  printf("\n");
  va_end(ap);
  fflush(stdout);
  return cls;
}
