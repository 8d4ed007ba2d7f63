/* test_lexer.c: the scanner of policy files (grammar/policy.l, design §2.3).
 * It guards what every later stage trusts: token kinds and values, byte
 * spans (the basis of every caret), strings that are valid UTF-8 without NUL
 * (so a decoded string cannot differ from what the author saw, nor be cut
 * short by C string functions), paths that end where the design says
 * (`route GET /a/{id} {`), keywords that become names after '.', and the
 * bookkeeping behind the missing-';' message and the error-recovery skip. */
#include "config.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "core/arena.h"
#include "core/diag.h"
#include "policy/parse_int.h"
#include "policy-parse.h"

static kc_diag *diag;
static kc_arena *arena;
static struct kc_lex lx;
static yyscan_t scanner;

static void setup(void) { diag = kc_diag_new(); arena = kc_arena_new(4096); scanner = NULL; }

static void
teardown(void)
{
	kc_lex_close(scanner);
	kc_arena_free(arena);
	kc_diag_free(diag);
}

TestSuite(lexer, .init = setup, .fini = teardown);

/* Starts scanning n bytes of text (which may hold NULs). */
static void
start_n(const char *text, size_t n)
{
	kc_lex_close(scanner);
	scanner = NULL;
	char *copy = malloc(n + 1);
	cr_assert_not_null(copy);
	memcpy(copy, text, n);
	copy[n] = '\0';
	const kc_source *src = kc_diag_add_source(diag, "t.kc", copy, n);
	cr_assert_not_null(src);
	memset(&lx, 0, sizeof(lx));
	lx.arena = arena;
	lx.diag = diag;
	lx.src = src;
	lx.text = kc_source_text(src, NULL);
	lx.len = (uint32_t)n;
	cr_assert_eq(kc_lex_open(&lx, &scanner), 0);
}

static void start(const char *text) { start_n(text, strlen(text)); }

static KC_YYSTYPE val;
static kc_span loc;

static int next(void) { return kc_yylex(&val, &loc, scanner); }

/* The token kinds of the whole text, up to the end (at most max). */
static size_t
kinds(const char *text, int *out, size_t max)
{
	start(text);
	size_t n = 0;
	int t;
	while ((t = next()) != TOK_YYEOF) {
		cr_assert_lt(n, max, "more tokens than expected in %s", text);
		out[n++] = t;
	}
	return n;
}

#define EXPECT_KINDS(text, ...)                                                      \
	do {                                                                         \
		const int want_[] = { __VA_ARGS__ };                                 \
		int got_[64];                                                        \
		size_t n_ = kinds(text, got_, 64);                                   \
		cr_assert_eq(n_, sizeof(want_) / sizeof(want_[0]), "token count of %s: %zu", \
		    text, n_);                                                       \
		for (size_t i_ = 0; i_ < n_; i_++)                                   \
			cr_assert_eq(got_[i_], want_[i_], "token %zu of %s: %d, want %d", \
			    i_, text, got_[i_], want_[i_]);                          \
	} while (0)

static void
expect_span(unsigned start_off, unsigned end_off)
{
	cr_assert_eq(loc.start, start_off, "span starts at %u, want %u", loc.start, start_off);
	cr_assert_eq(loc.end, end_off, "span ends at %u, want %u", loc.end, end_off);
	cr_assert_eq(loc.src, lx.src);
}

/* The whole diagnostic output, for checking messages. */
static char *
diag_text(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	cr_assert_not_null(f);
	kc_diag_print(diag, f, false);
	fclose(f);
	return buf;
}

static void
expect_diag(const char *needle)
{
	char *t = diag_text();
	cr_assert_not_null(strstr(t, needle), "diagnostics lack \"%s\":\n%s", needle, t);
	free(t);
}

/* ---- punctuation, operators, spans ------------------------------------------ */

Test(lexer, punctuation_and_operators)
{
	EXPECT_KINDS("; { } ( ) [ ] , . = | < > == != <= >= ?? ->",
	    ';', TOK_LBRACE, '}', '(', ')', '[', ']', ',', '.', '=', '|', '<', '>',
	    TOK_EQ, TOK_NE, TOK_LE, TOK_GE, TOK_COALESCE, TOK_ARROW);
	/* Longest match: "<=" is one token, "< =" two. */
	EXPECT_KINDS("a<=b", TOK_IDENT, TOK_LE, TOK_IDENT);
	EXPECT_KINDS("a< =b", TOK_IDENT, '<', '=', TOK_IDENT);
	cr_assert_eq(kc_diag_errors(diag), 0);
}

Test(lexer, spans_are_byte_offsets)
{
	/* "é" is two bytes: offsets count bytes, not characters. */
	start("  realm \"é\";\n\tallow");
	cr_assert_eq(next(), TOK_REALM);
	expect_span(2, 7);
	cr_assert_eq(next(), TOK_STRING);
	expect_span(8, 12);
	cr_assert_eq(next(), ';');
	expect_span(12, 13);
	cr_assert_eq(next(), TOK_ALLOW);
	expect_span(15, 20);
	cr_assert_eq(next(), TOK_YYEOF);
	cr_assert_eq(next(), TOK_YYEOF, "the end stays the end");
}

Test(lexer, comments_and_whitespace)
{
	EXPECT_KINDS("# a comment ; { \"x\n"
	    "realm # trailing ; }\r\n"
	    "\t\"x\" ;#\n", TOK_REALM, TOK_STRING, ';');
	int got[4];
	cr_assert_eq(kinds("", got, 4), 0);
	cr_assert_eq(kinds("   # only a comment", got, 4), 0);
	cr_assert_eq(kc_diag_errors(diag), 0);
}

/* ---- words ----------------------------------------------------------------------- */

Test(lexer, keywords_identifiers_and_methods)
{
	EXPECT_KINDS("allow allowed Allow deny require issuer scopes scope",
	    TOK_ALLOW, TOK_IDENT, TOK_IDENT, TOK_DENY, TOK_REQUIRE, TOK_ISSUER, TOK_SCOPES,
	    TOK_SCOPE);
	/* Error codes, algorithms, permission letters and builtins are names. */
	EXPECT_KINDS("insufficient_scope RS256 r has_entity client_id",
	    TOK_IDENT, TOK_IDENT, TOK_IDENT, TOK_IDENT, TOK_IDENT);
	EXPECT_KINDS("string int bool time list required",
	    TOK_T_STRING, TOK_T_INT, TOK_T_BOOL, TOK_T_TIME, TOK_LIST, TOK_REQUIRED);

	start("GET|HEAD POST PUT PATCH DELETE OPTIONS ANY get");
	static const unsigned masks[] = { KC_M_GET, 0, KC_M_HEAD, KC_M_POST, KC_M_PUT, KC_M_PATCH,
		KC_M_DELETE, KC_M_OPTIONS, KC_M_ANY };
	for (size_t i = 0; i < sizeof(masks) / sizeof(masks[0]); i++) {
		int t = next();
		if (masks[i] == 0) {
			cr_assert_eq(t, '|');
			continue;
		}
		cr_assert_eq(t, TOK_METHOD, "token %zu", i);
		cr_assert_eq(val.TOK_METHOD, masks[i]);
	}
	cr_assert_eq(next(), TOK_IDENT, "methods are upper-case");
	cr_assert_str_eq(val.TOK_IDENT.s, "get");
}

Test(lexer, identifier_value_and_span)
{
	start("  tenant_2x ");
	cr_assert_eq(next(), TOK_IDENT);
	cr_assert_str_eq(val.TOK_IDENT.s, "tenant_2x");
	cr_assert_eq(val.TOK_IDENT.len, 9);
	cr_assert_eq(val.TOK_IDENT.span.start, 2);
	cr_assert_eq(val.TOK_IDENT.span.end, 11);
}

Test(lexer, words_after_dot_are_names)
{
	/* `claims.scope`, `token.in`: the field is a name even if it is a keyword;
	 * a keyword after that is a keyword again. */
	EXPECT_KINDS("claims.scope scope", TOK_CLAIMS, '.', TOK_IDENT, TOK_SCOPE);
	EXPECT_KINDS("token.in.status in", TOK_TOKEN, '.', TOK_IDENT, '.', TOK_IDENT, TOK_IN);
	EXPECT_KINDS("request . header [\"x\"]", TOK_REQUEST, '.', TOK_IDENT, '[', TOK_STRING, ']');
	EXPECT_KINDS("client.GET", TOK_CLIENT, '.', TOK_IDENT);
	start("path.path");
	cr_assert_eq(next(), TOK_PATH);
	cr_assert_eq(next(), '.');
	cr_assert_eq(next(), TOK_IDENT);
	cr_assert_str_eq(val.TOK_IDENT.s, "path");
}

Test(lexer, aliases)
{
	start("@office_nets @");
	cr_assert_eq(next(), TOK_ALIASNAME);
	cr_assert_str_eq(val.TOK_ALIASNAME.s, "office_nets", "the name is kept without '@'");
	expect_span(0, 12);
	cr_assert_eq(kc_diag_errors(diag), 0);
	cr_assert_eq(next(), TOK_KC_YYerror);
	cr_assert_eq(kc_diag_errors(diag), 1);
	expect_diag("t.kc:1:14: error: expected a name after '@'");
}

/* ---- numbers and durations ------------------------------------------------------------ */

Test(lexer, integers)
{
	start("0 42 007 9223372036854775807");
	static const int64_t want[] = { 0, 42, 7, INT64_MAX };
	for (size_t i = 0; i < 4; i++) {
		cr_assert_eq(next(), TOK_INT);
		cr_assert_eq(val.TOK_INT, want[i]);
	}
	cr_assert_eq(kc_diag_errors(diag), 0);
}

Test(lexer, integer_overflow_is_an_error)
{
	start("keycard 9223372036854775808;");
	cr_assert_eq(next(), TOK_KEYCARD);
	cr_assert_eq(next(), TOK_INT, "still a number, so parsing goes on");
	cr_assert_eq(kc_diag_errors(diag), 1);
	expect_diag("error: integer '9223372036854775808' is too large");
}

Test(lexer, durations_in_milliseconds)
{
	start("250ms 30s 10m 12h 7d 0s");
	static const int64_t want[] = { 250, 30000, 600000, 43200000, 604800000, 0 };
	for (size_t i = 0; i < 6; i++) {
		cr_assert_eq(next(), TOK_DURATION, "duration %zu", i);
		cr_assert_eq(val.TOK_DURATION, want[i], "duration %zu: %" PRId64, i, val.TOK_DURATION);
	}
	cr_assert_eq(kc_diag_errors(diag), 0);
}

Test(lexer, bad_durations)
{
	/* "10min" is not 10m followed by `in`, and units are not stackable. */
	start("10min 5sec 3mss 1x");
	for (int i = 0; i < 4; i++)
		cr_assert_eq(next(), TOK_KC_YYerror);
	cr_assert_eq(kc_diag_errors(diag), 4);
	expect_diag("t.kc:1:1: error: invalid number or duration '10min'");
	expect_diag("hint: a duration is digits and one unit: ms, s, m, h or d");
	start("106751991167301d 9223372036854775807ms");
	cr_assert_eq(next(), TOK_DURATION);
	cr_assert_eq(val.TOK_DURATION, INT64_MAX);
	cr_assert_eq(next(), TOK_DURATION);
	cr_assert_eq(val.TOK_DURATION, INT64_MAX);
	expect_diag("error: duration '106751991167301d' is too large");
	cr_assert_eq(kc_diag_errors(diag), 5, "9223372036854775807ms fits");
}

Test(lexer, floats)
{
	start("0.001 1.5");
	cr_assert_eq(next(), TOK_FLOAT);
	cr_assert_float_eq(val.TOK_FLOAT, 0.001, 1e-12);
	cr_assert_eq(next(), TOK_FLOAT);
	cr_assert_float_eq(val.TOK_FLOAT, 1.5, 1e-12);
}

/* ---- strings --------------------------------------------------------------------------- */

static const char *
one_string(const char *text)
{
	start(text);
	cr_assert_eq(next(), TOK_STRING, "%s is a string", text);
	cr_assert_eq(strlen(val.TOK_STRING.s), val.TOK_STRING.len, "no NUL inside");
	return val.TOK_STRING.s;
}

Test(lexer, string_escapes)
{
	cr_assert_str_eq(one_string("\"plain\""), "plain");
	cr_assert_str_eq(one_string("\"\""), "");
	cr_assert_str_eq(one_string("\"a\\\"b\\\\c\\nd\\te\""), "a\"b\\c\nd\te");
	cr_assert_str_eq(one_string("\"\\u{e9}\\u{20AC}\\u{1F600}\\u{41}\""),
	    "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80" "A");
	cr_assert_str_eq(one_string("\"\\u{10FFFF}\""), "\xf4\x8f\xbf\xbf");
	cr_assert_str_eq(one_string("\"raw é € 😀 # ; } {\""), "raw é € 😀 # ; } {");
	cr_assert_eq(kc_diag_errors(diag), 0);
	/* The span covers the quotes. */
	start("x \"ab\\n\"");
	next();
	cr_assert_eq(next(), TOK_STRING);
	expect_span(2, 8);
	cr_assert_eq(val.TOK_STRING.span.start, 2);
	cr_assert_eq(val.TOK_STRING.len, 3);
}

Test(lexer, unknown_escapes)
{
	const char *s = one_string("\"a\\qb\\/c\\rd\"");
	cr_assert_eq(kc_diag_errors(diag), 3);
	cr_assert_str_eq(s, "aqb/crd", "the backslash is dropped, the text kept");
	expect_diag("t.kc:1:3: error: unknown escape sequence '\\q'");
	expect_diag("hint: the escapes are \\\", \\\\, \\n, \\t and \\u{hex}");
}

Test(lexer, unicode_escape_errors)
{
	static const char *bad[] = {
		"\"\\u{0}\"", "\"\\u{d800}\"", "\"\\u{DFFF}\"", "\"\\u{110000}\"", "\"\\u{}\"",
		"\"\\u{1234567}\"", "\"\\u41\"", "\"\\u{12\"", "\"\\u{g}\"",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		unsigned before = kc_diag_errors(diag);
		one_string(bad[i]);
		cr_assert_eq(kc_diag_errors(diag), before + 1, "%s is refused", bad[i]);
	}
	expect_diag("error: '\\u{0}' (NUL) is not allowed in a string");
	expect_diag("error: '\\u{d800}' is not a Unicode scalar value");
	expect_diag("error: malformed '\\u' escape");
}

Test(lexer, strings_must_be_utf8)
{
	static const char *bad[] = {
		"\"\xff\"",                 /* never valid */
		"\"\xc0\xaf\"",             /* overlong '/' */
		"\"\xe0\x80\xaf\"",         /* overlong, three bytes */
		"\"\xed\xa0\x80\"",         /* a surrogate */
		"\"\xf4\x90\x80\x80\"",     /* above U+10FFFF */
		"\"\xc3\"",                 /* cut short */
		"\"\x80\"",                 /* a lone continuation byte */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		unsigned before = kc_diag_errors(diag);
		one_string(bad[i]);
		cr_assert_gt(kc_diag_errors(diag), before, "string %zu is refused", i);
	}
	expect_diag("t.kc:1:2: error: invalid UTF-8 in a string (byte 0xff)");
}

Test(lexer, strings_hold_no_nul)
{
	start_n("\"a\0b\"", 5);
	cr_assert_eq(next(), TOK_STRING);
	cr_assert_str_eq(val.TOK_STRING.s, "ab");
	cr_assert_eq(kc_diag_errors(diag), 1);
	expect_diag("t.kc:1:3: error: NUL byte in a string");
}

Test(lexer, unterminated_strings)
{
	/* A raw newline ends nothing: the string is unterminated, and the
	 * next line scans normally. */
	start("realm \"abc\nrealm \"x\\\"\nrealm \"ok\";");
	cr_assert_eq(next(), TOK_REALM);
	cr_assert_eq(next(), TOK_KC_YYerror);
	expect_span(6, 10);
	cr_assert_eq(next(), TOK_REALM);
	cr_assert_eq(next(), TOK_KC_YYerror, "an escaped quote does not close the string");
	cr_assert_eq(next(), TOK_REALM);
	cr_assert_eq(next(), TOK_STRING);
	cr_assert_str_eq(val.TOK_STRING.s, "ok");
	cr_assert_eq(kc_diag_errors(diag), 2);
	expect_diag("t.kc:1:7: error: missing terminating '\"' character");
}

/* ---- paths ---------------------------------------------------------------------------- */

static void
expect_path(const char *text, const char *path)
{
	cr_assert_eq(next(), TOK_PATHLIT, "a path in %s", text);
	cr_assert_str_eq(val.TOK_PATHLIT.s, path);
}

Test(lexer, paths_end_at_whitespace_or_semicolon)
{
	const char *t = "route GET /a/{id} {";
	start(t);
	cr_assert_eq(next(), TOK_ROUTE);
	cr_assert_eq(next(), TOK_METHOD);
	expect_path(t, "/a/{id}");
	expect_span(10, 17);
	cr_assert_eq(next(), TOK_LBRACE);

	/* A '{' glued to the path opens the block unless it is a capture. */
	t = "route GET /a/{id}{ allow; }";
	start(t);
	next();
	next();
	expect_path(t, "/a/{id}");
	cr_assert_eq(next(), TOK_LBRACE);
	cr_assert_eq(next(), TOK_ALLOW);

	t = "route GET /devices{";
	start(t);
	next();
	next();
	expect_path(t, "/devices");
	cr_assert_eq(next(), TOK_LBRACE);

	t = "mount /; mount /api/v1;";
	start(t);
	next();
	expect_path(t, "/");
	cr_assert_eq(next(), ';');
	next();
	expect_path(t, "/api/v1");
	cr_assert_eq(next(), ';');

	t = "/devices/{id:slug}/commands /audit/{rest...} /{report:int}/export /a/b#c";
	start(t);
	expect_path(t, "/devices/{id:slug}/commands");
	expect_path(t, "/audit/{rest...}");
	expect_path(t, "/{report:int}/export");
	expect_path(t, "/a/b");
	cr_assert_eq(next(), TOK_YYEOF, "'#' starts a comment");

	/* Sub-delimiters and percent-encoding are path characters. */
	t = "/a%2Fb/x-y_z.~!$&'()*+,=:@";
	start(t);
	expect_path(t, t);
	cr_assert_eq(kc_diag_errors(diag), 0);
}

Test(lexer, captures_are_delimited_not_checked)
{
	/* Bad captures are one token; route.c explains what is wrong. */
	const char *t = "/a/{1x:bogus}/{} /b/{id";
	start(t);
	expect_path(t, "/a/{1x:bogus}/{}");
	expect_path(t, "/b/");
	cr_assert_eq(next(), TOK_LBRACE);
	cr_assert_eq(next(), TOK_IDENT);
	cr_assert_eq(kc_diag_errors(diag), 0);
}

/* ---- characters that start nothing ------------------------------------------------------ */

Test(lexer, stray_characters)
{
	start("$ && || ! & ' \x01 \xff \xe2\x80\x9c \xc2\xa0 -");
	for (int i = 0; i < 11; i++)
		cr_assert_eq(next(), TOK_KC_YYerror, "token %d", i);
	cr_assert_eq(next(), TOK_YYEOF);
	cr_assert_eq(kc_diag_errors(diag), 11);
	expect_diag("t.kc:1:1: error: unexpected character '$'");
	expect_diag("error: '&&' is not an operator here\n");
	expect_diag("hint: write 'and'\n");
	expect_diag("hint: write 'or' in a condition, and a single '|' between methods\n");
	expect_diag("hint: write 'not' to negate, or '!=' to compare");
	expect_diag("error: unexpected byte 0x01");
	expect_diag("error: unexpected byte 0xff");
	expect_diag("error: unexpected character '\xe2\x80\x9c'");
	expect_diag("hint: strings are written with plain double quotes");
	expect_diag("hint: this is a no-break space; use a plain space");
	expect_diag("error: unexpected character '-'");
}

Test(lexer, nul_outside_strings)
{
	start_n("realm\0;", 7);
	cr_assert_eq(next(), TOK_REALM);
	cr_assert_eq(next(), TOK_KC_YYerror);
	expect_span(5, 6);
	cr_assert_eq(next(), ';');
	expect_diag("error: unexpected NUL byte");
}

/* ---- bookkeeping for the parser's messages ---------------------------------------------- */

Test(lexer, remembers_the_previous_token)
{
	/* After the lookahead '}' is read, prev_end is the end of `allow`:
	 * where a missing ';' goes. */
	start("route GET /a {\n  allow   # x\n}");
	int t;
	while ((t = next()) != '}')
		cr_assert_neq(t, TOK_YYEOF);
	cr_assert_eq(lx.prev_end, 22);
	cr_assert(lx.prev_in_rule, "`allow` begins a rule");
	cr_assert_eq(lx.last_end, 30);
}

Test(lexer, require_in_an_issuer_is_not_a_rule)
{
	start("issuer a \"x\" { require exp }");
	while (next() != '}')
		;
	cr_assert_not(lx.prev_in_rule);
	start("route GET /a { require x }");
	while (next() != '}')
		;
	cr_assert(lx.prev_in_rule);
	/* Where a ';' is missing, the token before the lookahead still
	 * belongs to the statement that lacks it. */
	start("realm \"x\"\nallow");
	next();
	next();
	next();
	cr_assert_not(lx.prev_in_rule, "the previous token belongs to `realm`");
	start("deny\nrealm");
	next();
	next();
	cr_assert(lx.prev_in_rule);
}

Test(lexer, tracks_open_braces)
{
	start("resource r {\n route GET /a { allow; }\n route GET /b {");
	while (next() != TOK_YYEOF)
		;
	cr_assert_eq(lx.depth, 2);
	cr_assert_eq(lx.braces[0].open, 11);
	cr_assert_eq(lx.braces[1].open, 52);
	cr_assert_eq(lx.braces[0].stmt_first, TOK_RESOURCE);
	cr_assert_eq(lx.braces[1].stmt_first, TOK_ROUTE);
}

Test(lexer, skips_a_block_for_error_recovery)
{
	/* The parser threw the '{' away: the block up to its '}' comes back
	 * as one ';' (at the '}'), braces in strings and comments do not
	 * count, and a ';' right after the block is absorbed. */
	start("x { a { \"}\" } # }\n b; } ; realm");
	cr_assert_eq(next(), TOK_IDENT);
	cr_assert_eq(next(), TOK_LBRACE);
	kc_lex_skip_block(&lx, val.TOK_LBRACE);
	cr_assert_eq(next(), ';');
	expect_span(22, 23);
	cr_assert_eq(next(), TOK_REALM);
	cr_assert_eq(lx.depth, 0);
	cr_assert_eq(kc_diag_errors(diag), 0);
}

Test(lexer, skip_reports_lexical_errors_but_returns_none)
{
	start("{ $ \"\\q\" } ;");
	cr_assert_eq(next(), TOK_LBRACE);
	kc_lex_skip_block(&lx, 0);
	cr_assert_eq(next(), ';');
	cr_assert_eq(next(), TOK_YYEOF);
	cr_assert_eq(kc_diag_errors(diag), 2);
}

Test(lexer, skip_of_a_popped_brace_before_semicolon)
{
	/* list @x string { "a" ; }: the lookahead ';' ends the recovery; the
	 * rest of the block then goes silently. */
	start("{ \"a\" ; \"b\" } realm");
	cr_assert_eq(next(), TOK_LBRACE);
	cr_assert_eq(next(), TOK_STRING);
	cr_assert_eq(next(), ';');
	kc_lex_skip_block(&lx, 0);
	cr_assert_eq(next(), TOK_REALM);
}

Test(lexer, skip_of_a_closed_block_does_nothing)
{
	start("{ } realm");
	cr_assert_eq(next(), TOK_LBRACE);
	cr_assert_eq(next(), '}');
	kc_lex_skip_block(&lx, 0);
	cr_assert_eq(next(), TOK_REALM);
}
