#!/usr/bin/perl
# whoami.pl: a legacy CGI program in Perl that prints the identity it was given.
use strict;
use warnings;
print "Content-Type: text/plain\r\n\r\n";
print "lang=perl\n";
for my $v (qw(REMOTE_USER AUTH_TYPE KEYCARD_SUBJECT KEYCARD_ISSUER KEYCARD_CLIENT_ID
              KEYCARD_CLIENT_NAME KEYCARD_SCOPES KEYCARD_RULE)) {
    print "$v=", ($ENV{$v} // ''), "\n";
}
