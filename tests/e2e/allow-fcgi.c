/*
 * allow-fcgi: a tiny always-allow FastCGI program for developing the
 * end-to-end harness (tests/e2e/) without keycard-fcgi. It allows every
 * request, as an authorizer ("Status: 200" + Variable-* identity) or as a
 * responder (the same headers and a one-line body). The e2e tests themselves
 * target keycard-fcgi; run them with KEYCARD_FCGI=path/to/allow-fcgi only to
 * check the servers' plumbing (decision cases then fail, as they should).
 *
 *   cc -O2 -o allow-fcgi tests/e2e/allow-fcgi.c -lfcgi
 */
#include <fcgiapp.h>
#include <stdio.h>
#include <string.h>

int main(void)
{
	FCGX_Stream *in, *out, *err;
	FCGX_ParamArray envp;

	while (FCGX_Accept(&in, &out, &err, &envp) >= 0) {
		const char *role = FCGX_GetParam("FCGI_ROLE", envp);
		FCGX_FPrintF(out, "Status: 200\r\n"
				  "Variable-REMOTE_USER: allow-fcgi\r\n"
				  "Variable-AUTH_TYPE: Bearer\r\n"
				  "Variable-KEYCARD_RULE: allow-fcgi\r\n"
				  "Content-Type: text/plain\r\n\r\n");
		if (role == NULL || strcmp(role, "AUTHORIZER") != 0)
			FCGX_FPrintF(out, "allowed\n");
	}
	return 0;
}
