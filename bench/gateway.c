/* gateway.c: keycard-fcgi's own work per request, in process: the FastCGI
 * params of one authorizer request (as lighttpd sends them) through
 * kc_gw_handle() — params → request, the token cache, kc_decide(), the
 * Status/Variable-* answer, the decision log line — with no socket, so the
 * figure is keycard's share of a request, apart from the FastCGI hop that
 * every authorizer pays (bench/run-http.sh measures that).
 *
 *   bench/gateway POLICY TOKEN [--seconds S] [--rounds N] [--log FILE]
 *
 * The token is verified once and then comes from the validated-token cache,
 * as a token that arrives again does. Without --log the decision line is
 * not written (log_allow off); with it, every line goes to FILE with one
 * write(2), as in production. Prints "ns_per_request N" (the best round). */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gateway/fcgi.h"

static ssize_t
discard(void *ctx, const char *buf, size_t n)
{
	(void)ctx;
	(void)buf;
	return (ssize_t)n;
}

static void
no_err(void *ctx, const char *line, size_t n)
{
	(void)ctx;
	(void)line;
	(void)n;
}

static double
now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	double seconds = 0.5;
	int rounds = 5;
	const char *log = NULL;

	if (argc < 3) {
		fprintf(stderr, "usage: gateway POLICY TOKEN [--seconds S] [--rounds N] [--log FILE]\n");
		return 2;
	}
	for (int i = 3; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--seconds") == 0)
			seconds = atof(argv[i + 1]);
		else if (strcmp(argv[i], "--rounds") == 0)
			rounds = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--log") == 0)
			log = argv[i + 1];
	}
	if (log != NULL) {
		/* keycard-fcgi logs to fd 2: point it at the file. */
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0600);
		if (fd < 0 || dup2(fd, 2) < 0) {
			perror(log);
			return 1;
		}
		close(fd);
	}
	kc_gw_config cfg = { .policy_path = argv[1], .log_allow = log != NULL };
	kc_gw_server *s = kc_gw_server_new(&cfg);
	if (s == NULL) {
		fprintf(stdout, "gateway: %s does not load\n", argv[1]);
		return 1;
	}
	size_t tl = strlen(argv[2]);
	char *auth = malloc(tl + 32);
	if (auth == NULL)
		return 1;
	snprintf(auth, tl + 32, "HTTP_AUTHORIZATION=Bearer %s", argv[2]);
	/* What lighttpd 1.4 sends an authorizer for GET /static.html. */
	char *env[] = { "REQUEST_METHOD=GET", "REQUEST_URI=/static.html", "QUERY_STRING=",
		"REDIRECT_STATUS=200", "SCRIPT_FILENAME=/srv/www/static.html",
		"DOCUMENT_ROOT=/srv/www", "SERVER_PROTOCOL=HTTP/1.1",
		"SERVER_SOFTWARE=lighttpd/1.4.69", "GATEWAY_INTERFACE=CGI/1.1", "REQUEST_SCHEME=http",
		"SERVER_PORT=8080", "SERVER_ADDR=127.0.0.1", "SERVER_NAME=127.0.0.1",
		"REMOTE_ADDR=127.0.0.1", "REMOTE_PORT=40000", "HTTP_HOST=127.0.0.1:8080",
		"HTTP_USER_AGENT=wrk", auth, NULL };
	kc_cgi_io io = { NULL, discard, no_err, NULL };
	kc_arena *arena = kc_arena_new(64 * 1024);
	if (arena == NULL)
		return 1;

	if (kc_gw_handle(s, env, 2, NULL, &io, arena) != 200) {
		fprintf(stdout, "gateway: the request is not allowed: check the policy and token\n");
		return 1;
	}
	kc_arena_clear(arena);
	double best = 0;
	for (int r = 0; r < rounds; r++) {
		long n = 0;
		double t0 = now_s(), t1;
		do {
			for (int k = 0; k < 1000; k++) {
				kc_gw_handle(s, env, 2, NULL, &io, arena);
				kc_arena_clear(arena);
			}
			n += 1000;
			t1 = now_s();
		} while (t1 - t0 < seconds);
		double ns = (t1 - t0) * 1e9 / (double)n;
		if (r == 0 || ns < best)
			best = ns;
	}
	printf("ns_per_request %.0f\n", best);
	kc_arena_free(arena);
	kc_gw_server_free(s);
	free(auth);
	return 0;
}
