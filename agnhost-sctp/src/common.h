/* Helpers every subcommand shares: usage errors, flag parsing, detached threads, the connect-style
 * "CLASS: detail" line. The subcommands themselves are in cmd_*.c, dispatched by main.c. */
#ifndef AGNHOST_SCTP_COMMON_H
#define AGNHOST_SCTP_COMMON_H
#include <stddef.h>

#ifndef AGNHOST_VERSION
#define AGNHOST_VERSION "dev"
#endif

/* "agnhost-sctp: <message>" on stderr, exit CLS_USAGE (64). */
void die_usage(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
/* Runs fn(arg) in a detached thread with a 512 KiB stack. */
void spawn(void *(*fn)(void *), void *arg);
/* Matches --name=value or --name value at argv[*i] (advancing *i for the latter); returns the
 * value or NULL. A trailing --name without a value is a usage error. */
const char *flag(int argc, char **argv, int *i, const char *name);
/* A port number -1..65535, else a usage error naming --name. */
int to_port(const char *name, const char *v);
/* Sleeps until a signal ends the process (servers, pause). */
void wait_forever(void) __attribute__((noreturn));
/* Strips leading and trailing white space in place. */
void trim(char *s);
/* Prints "CLASS: <detail>" on stdout (CLASS = cls_name(cls)), flushes, returns cls. */
int report(int cls, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The subcommands (cmd_<name>.c); main.c's table maps the command word to them. argv[0] is the
 * command word, global flags are already removed. The return value is the exit code. */
int cmd_netexec(int argc, char **argv);
int cmd_connect(int argc, char **argv);
int cmd_porter(int argc, char **argv);
int cmd_bench(int argc, char **argv);
#endif
