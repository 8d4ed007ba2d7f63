/* fcgi_main.c: keycard-fcgi, the program web servers run (keycard-fcgi(8)).
 *
 * FastCGI on the socket it inherits (fd 0, as libfcgi expects: lighttpd
 * bin-path, spawn-fcgi, systemd) or on --listen; a plain CGI for one
 * request when a server runs it as a CGI (Apache Action). Options a plain
 * CGI cannot get on its command line come from the environment the server
 * sets (SetEnv): KEYCARD_CONFIG, KEYCARD_CGI_ROOT (':'-separated),
 * KEYCARD_CGI_TIMEOUT, KEYCARD_PASS_AUTHORIZATION=1, KEYCARD_LOG_FORMAT. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <fcgiapp.h>

#include "decide.h"
#include "gateway/fcgi.h"
#include "policy/policy.h"

#ifndef KC_SYSCONFDIR
#define KC_SYSCONFDIR "/etc/keycard"
#endif

extern char **environ;

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: keycard-fcgi [-c CONFIG] [--threads N] [--listen unix:/path|host:port]\n"
	    "                    [--cgi-root DIR]... [--cgi-timeout MS] [--pass-authorization]\n"
	    "                    [--log-format kv|json] [--check]\n"
	    "CONFIG defaults to $KEYCARD_CONFIG, then %s/keycard.kc. See keycard-fcgi(8).\n",
	    KC_SYSCONFDIR);
}

static int
parse_num(const char *s, long lo, long hi, long *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

static int
set_log_format(kc_gw_config *cfg, const char *v, const char *what)
{
	if (strcmp(v, "kv") == 0 || strcmp(v, "json") == 0) {
		cfg->log_json = v[0] == 'j';
		return 0;
	}
	fprintf(stderr, "keycard-fcgi: %s wants kv or json\n", what);
	return -1;
}

static int
add_root(kc_gw_config *cfg, const char *dir)
{
	if (dir[0] == '\0')
		return 0;
	if (cfg->n_cgi_roots >= KC_GW_MAX_CGI_ROOTS) {
		fprintf(stderr, "keycard-fcgi: at most %d CGI roots\n", KC_GW_MAX_CGI_ROOTS);
		return -1;
	}
	cfg->cgi_roots[cfg->n_cgi_roots++] = dir;
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "threads", required_argument, NULL, 't' },
		{ "listen", required_argument, NULL, 'l' },
		{ "cgi-root", required_argument, NULL, 'r' },
		{ "cgi-timeout", required_argument, NULL, 'T' },
		{ "pass-authorization", no_argument, NULL, 'P' },
		{ "log-format", required_argument, NULL, 'L' },
		{ "check", no_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	kc_gw_config cfg = { .log_allow = true };
	bool check = false, timeout_set = false, log_format_set = false;
	long v;
	int c;

	/* Run as a CGI, keycard-fcgi takes no options: RFC 3875 §4.4 lets a
	 * server turn a query without '=' into command-line words, and Apache
	 * does, so every word after argv[0] is the client's ("?--pass-
	 * authorization" would hand the token on; php-cgi, CVE-2012-1823).
	 * A CGI's settings come from the environment the server sets. */
	if (getenv("GATEWAY_INTERFACE") != NULL && getenv("REQUEST_METHOD") != NULL &&
	    FCGX_IsCGI())
		argc = 1;

	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			cfg.policy_path = optarg;
			break;
		case 't':
			if (parse_num(optarg, 1, KC_GW_MAX_THREADS, &v) < 0) {
				fprintf(stderr, "keycard-fcgi: --threads wants 1..%d\n", KC_GW_MAX_THREADS);
				return 2;
			}
			cfg.threads = (int)v;
			break;
		case 'l':
			cfg.listen = optarg;
			break;
		case 'r':
			if (add_root(&cfg, optarg) < 0)
				return 2;
			break;
		case 'T':
			if (parse_num(optarg, 1, 3600000, &v) < 0) {
				fprintf(stderr, "keycard-fcgi: --cgi-timeout wants milliseconds, 1..3600000\n");
				return 2;
			}
			cfg.cgi_timeout_ms = (int)v;
			timeout_set = true;
			break;
		case 'P':
			cfg.pass_authorization = true;
			break;
		case 'L':
			if (set_log_format(&cfg, optarg, "--log-format") < 0)
				return 2;
			log_format_set = true;
			break;
		case 'k':
			check = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("keycard-fcgi %s\n", PACKAGE_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (cfg.policy_path == NULL)
		cfg.policy_path = getenv("KEYCARD_CONFIG");
	if (cfg.policy_path == NULL || cfg.policy_path[0] == '\0')
		cfg.policy_path = KC_SYSCONFDIR "/keycard.kc";

	const char *e;
	static char roots[8192];   /* cfg points into it for the life of the process */
	if (cfg.n_cgi_roots == 0 && (e = getenv("KEYCARD_CGI_ROOT")) != NULL) {
		if (strlen(e) >= sizeof(roots)) {
			fprintf(stderr, "keycard-fcgi: KEYCARD_CGI_ROOT is too long\n");
			return 2;
		}
		strcpy(roots, e);
		for (char *save = NULL, *r = strtok_r(roots, ":", &save); r != NULL;
		    r = strtok_r(NULL, ":", &save))
			if (add_root(&cfg, r) < 0)
				return 2;
	}
	if (!timeout_set && (e = getenv("KEYCARD_CGI_TIMEOUT")) != NULL) {
		if (parse_num(e, 1, 3600000, &v) < 0) {
			fprintf(stderr, "keycard-fcgi: KEYCARD_CGI_TIMEOUT wants milliseconds\n");
			return 2;
		}
		cfg.cgi_timeout_ms = (int)v;
	}
	if (!log_format_set && (e = getenv("KEYCARD_LOG_FORMAT")) != NULL &&
	    set_log_format(&cfg, e, "KEYCARD_LOG_FORMAT") < 0)
		return 2;
	if (!cfg.pass_authorization && (e = getenv("KEYCARD_PASS_AUTHORIZATION")) != NULL &&
	    strcmp(e, "1") == 0)
		cfg.pass_authorization = true;

	if (check) {
		kc_diag *diag = kc_diag_new();
		kc_policy *p = diag ? kc_policy_load(cfg.policy_path, NULL, diag) : NULL;
		if (diag != NULL)
			kc_diag_print(diag, stderr, false);
		int rc = p != NULL ? 0 : 1;
		kc_policy_free(p);
		kc_diag_free(diag);
		if (rc == 0)
			fprintf(stderr, "keycard-fcgi: %s: ok\n", cfg.policy_path);
		return rc;
	}

	bool plain_cgi = cfg.listen == NULL && FCGX_IsCGI();
	kc_gw_server *s = kc_gw_server_new(&cfg);
	if (s == NULL) {
		fprintf(stderr, "keycard-fcgi: %s: policy not loaded\n", cfg.policy_path);
		if (plain_cgi)
			printf("Status: 503 Service Unavailable\r\nContent-Type: text/plain\r\n"
			    "Cache-Control: no-store\r\nRetry-After: %d\r\n\r\n"
			    "503 Service Unavailable\n",
			    kc_retry_after((int64_t)time(NULL), getenv("REMOTE_ADDR")));
		fflush(stdout);
		return 1;
	}
	int rc = plain_cgi ? kc_gw_serve_cgi(s, environ) : kc_gw_server_run(s);
	kc_gw_server_free(s);
	return rc;
}
