/* cli.h: the keycard subcommands, each a main() of its own.
 * Exit codes follow ARCHITECTURE.md: 0 success/allow/valid, 1 refused or
 * rejected, 2 usage, configuration or internal error. */
#ifndef KC_CLI_H
#define KC_CLI_H

#include <stdint.h>

enum { KC_EXIT_OK = 0, KC_EXIT_REJECTED = 1, KC_EXIT_USAGE = 2 };

int kc_cmd_verify(int argc, char **argv);
int kc_cmd_keygen(int argc, char **argv);
int kc_cmd_mint(int argc, char **argv);
int kc_cmd_check(int argc, char **argv);
int kc_cmd_eval(int argc, char **argv);
int kc_cmd_test(int argc, char **argv);

/* kc_warn_fn that prints "keycard: warning: MSG" on stderr. */
void kc_cli_warn(void *ctx, const char *msg);
/* Prints "keycard: MSG" on stderr and returns KC_EXIT_USAGE. */
int kc_cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Parses a decimal integer (seconds since the epoch, or a byte count). */
int kc_cli_parse_int(const char *s, int64_t *out);

#endif
