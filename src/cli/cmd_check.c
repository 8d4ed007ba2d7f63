/* cmd_check.c: keycard check: compile a policy and report every problem. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/diag.h"
#include "policy/policy.h"

static const char usage_text[] =
"usage: keycard check CONFIG [--routes] [--format=text|json]\n"
"\n"
"Compiles the policy CONFIG and everything it includes, runs the static\n"
"checks and prints every error and warning as file:line:col with the source\n"
"line (or one JSON array with --format=json). --routes prints the effective\n"
"route table. Exit status: 0 no errors, 1 errors, 2 usage error.\n";

int
kc_cmd_check(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "routes", no_argument, NULL, 'r' },
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool routes = false, json = false;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'r': routes = true; break;
		case 'f':
			if (strcmp(optarg, "json") == 0)
				json = true;
			else if (strcmp(optarg, "text") != 0)
				return kc_cli_usage_error("--format %s: expected text or json", optarg);
			break;
		case 'h': fputs(usage_text, stdout); return KC_EXIT_OK;
		default: fputs(usage_text, stderr); return KC_EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		fputs(usage_text, stderr);
		return KC_EXIT_USAGE;
	}
	const char *path = argv[optind];
	kc_diag *diag = kc_diag_new();
	if (diag == NULL)
		return kc_cli_usage_error("out of memory");
	kc_policy *p = kc_policy_load(path, NULL, diag);
	unsigned errors = kc_diag_errors(diag), warnings = kc_diag_warnings(diag);
	kc_diag_print(diag, json ? stdout : stderr, json);
	if (p != NULL && routes && !json)
		kc_policy_print_routes(p, stdout);
	if (!json) {
		if (p != NULL && warnings > 0)
			fprintf(stderr, "%s: policy OK, %u warning%s\n", path, warnings,
			    warnings == 1 ? "" : "s");
		else if (p != NULL)
			fprintf(stderr, "%s: policy OK\n", path);
		else
			fprintf(stderr, "keycard: %u error%s, policy not loaded\n", errors, errors == 1 ? "" : "s");
	}
	int status = p != NULL ? KC_EXIT_OK : KC_EXIT_REJECTED;
	kc_policy_free(p);
	kc_diag_free(diag);
	return status;
}
