/* keycard.c: the keycard command: dispatches to the subcommands. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static const struct {
	const char *name;
	int (*run)(int, char **);
	const char *summary;
} commands[] = {
	{ "check", kc_cmd_check, "compile a policy and report every problem" },
	{ "eval", kc_cmd_eval, "decide one request with a policy and explain why" },
	{ "test", kc_cmd_test, "run policy test files (.kct)" },
	{ "verify", kc_cmd_verify, "verify one JWT access token and print its claims" },
	{ "keygen", kc_cmd_keygen, "generate a signing key (private JWK) and its public JWKS" },
	{ "mint", kc_cmd_mint, "sign a test token with a private key" },
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: keycard COMMAND [OPTIONS]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\n'keycard COMMAND --help' describes each; see keycard(1).\n");
}

void
kc_cli_warn(void *ctx, const char *msg)
{
	(void)ctx;
	fprintf(stderr, "keycard: warning: %s\n", msg);
}

int
kc_cli_usage_error(const char *fmt, ...)
{
	va_list ap;
	fputs("keycard: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return KC_EXIT_USAGE;
}

int
kc_cli_parse_int(const char *s, int64_t *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0')
		return -1;
	*out = v;
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return KC_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return KC_EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("keycard %s\n", PACKAGE_VERSION);
		return KC_EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "keycard: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return KC_EXIT_USAGE;
}
