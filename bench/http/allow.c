/*
 * allow.c: a do-nothing, always-allow FastCGI program for bench/run-http.sh.
 * It measures the FastCGI hop itself: whatever a server pays to ask an
 * authorizer, with no decision made. It answers every request with
 * "Status: 200" and the Variable-* identity an authorizer would hand back
 * (as a responder, the same headers and a one-line body).
 *
 * It accepts on the socket it inherits on fd 0 (spawn-fcgi), one request at
 * a time per process: run several processes (spawn-fcgi -F N).
 *
 *   cc -O2 -o allow bench/http/allow.c -lfcgi
 */
#include <fcgiapp.h>
#include <string.h>

int main(void)
{
	FCGX_Request req;

	if (FCGX_Init() != 0 || FCGX_InitRequest(&req, 0, 0) != 0)
		return 1;
	while (FCGX_Accept_r(&req) >= 0) {
		const char *role = FCGX_GetParam("FCGI_ROLE", req.envp);
		FCGX_PutS("Status: 200\r\n"
			  "Variable-REMOTE_USER: user0000\r\n"
			  "Variable-AUTH_TYPE: Bearer\r\n"
			  "Content-Type: text/plain\r\n\r\n", req.out);
		if (role == NULL || strcmp(role, "AUTHORIZER") != 0)
			FCGX_PutS("allowed\n", req.out);
		FCGX_Finish_r(&req);
	}
	return 0;
}
