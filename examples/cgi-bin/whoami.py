#!/usr/bin/python3
"""whoami.py: a legacy CGI program in Python that prints the identity it was given."""
import os
import sys

NAMES = ("REMOTE_USER", "AUTH_TYPE", "KEYCARD_SUBJECT", "KEYCARD_ISSUER",
         "KEYCARD_CLIENT_ID", "KEYCARD_CLIENT_NAME", "KEYCARD_SCOPES", "KEYCARD_RULE")
out = ["Content-Type: text/plain\r\n\r\n", "lang=python\n"]
out += ["%s=%s\n" % (n, os.environ.get(n, "")) for n in NAMES]
sys.stdout.write("".join(out))
