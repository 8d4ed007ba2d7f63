/* test_json.c: the strict JSON parser used for token headers and claims.
 * Every RFC 8259 rule it enforces, and the stricter ones it adds (no NUL,
 * no duplicate names, bounded depth), each has a case here. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "core/json.h"

static kc_arena *arena;

static void setup(void) { arena = kc_arena_new(4096); }
static void teardown(void) { kc_arena_free(arena); }

TestSuite(json, .init = setup, .fini = teardown);

static const kc_json *
parse(const char *text, kc_json_error *err)
{
	return kc_json_parse(arena, text, strlen(text), 64, err);
}

static kc_json_error
error_of(const char *text)
{
	kc_json_error err;
	const kc_json *v = parse(text, &err);
	cr_assert_eq(v == NULL, err != KC_JSON_OK, "result and error disagree for %s", text);
	return err;
}

Test(json, scalars)
{
	kc_json_error err;
	cr_assert_eq(kc_json_typeof(parse("null", &err)), KC_JSON_NULL);
	cr_assert_eq(kc_json_typeof(parse(" true ", &err)), KC_JSON_TRUE);
	cr_assert_eq(kc_json_typeof(parse("false", &err)), KC_JSON_FALSE);
	size_t len;
	cr_assert_str_eq(kc_json_string(parse("\"abc\"", &err), &len), "abc");
	cr_assert_eq(len, 3);
}

Test(json, integers_and_reals)
{
	kc_json_error err;
	int64_t i;
	cr_assert(kc_json_integer(parse("0", &err), &i));
	cr_assert_eq(i, 0);
	cr_assert(kc_json_integer(parse("-12", &err), &i));
	cr_assert_eq(i, -12);
	cr_assert(kc_json_integer(parse("9223372036854775807", &err), &i));
	cr_assert_eq(i, INT64_MAX);
	cr_assert(kc_json_integer(parse("-9223372036854775808", &err), &i));
	cr_assert_eq(i, INT64_MIN);
	/* Past int64: still a number, as a double. */
	const kc_json *big = parse("99999999999999999999", &err);
	cr_assert(kc_json_is_number(big));
	cr_assert_not(kc_json_integer(big, &i));
	cr_assert_float_eq(kc_json_number(big), 1e20, 1e6);
	const kc_json *r = parse("1.5e3", &err);
	cr_assert_not(kc_json_integer(r, &i));
	cr_assert_float_eq(kc_json_number(r), 1500.0, 1e-9);
	cr_assert_float_eq(kc_json_number(parse("-0.25", &err)), -0.25, 1e-12);
	cr_assert_float_eq(kc_json_number(parse("1E+2", &err)), 100.0, 1e-12);
}

Test(json, number_grammar)
{
	const char *bad[] = { "01", "-", "+1", "1.", ".5", "1e", "1e+", "0x10", "NaN",
	    "Infinity", "-Infinity", "1e400", "--1", "1.2.3" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(error_of(bad[i]), KC_JSON_ERR_SYNTAX, "accepted %s", bad[i]);
}

Test(json, objects_and_arrays)
{
	kc_json_error err;
	const kc_json *v = parse("{\"a\": [1, \"x\", {\"b\": null}], \"c\": {}}", &err);
	cr_assert_not_null(v);
	cr_assert_eq(kc_json_size(v), 2);
	const kc_json *a = kc_json_get(v, "a");
	cr_assert(kc_json_is_array(a));
	cr_assert_eq(kc_json_size(a), 3);
	cr_assert(kc_json_string_equals(kc_json_at(a, 1), "x", 1));
	cr_assert_eq(kc_json_typeof(kc_json_get(kc_json_at(a, 2), "b")), KC_JSON_NULL);
	cr_assert_null(kc_json_at(a, 3));
	cr_assert_null(kc_json_get(v, "missing"));
	const kc_json *val;
	cr_assert_str_eq(kc_json_key_at(v, 1, &val), "c");
	cr_assert(kc_json_is_object(val));
	cr_assert_eq(kc_json_size(val), 0);
	cr_assert_eq(kc_json_size(parse("[]", &err)), 0);
}

Test(json, many_elements_grow)
{
	char buf[20000];
	size_t o = 0;
	buf[o++] = '[';
	for (int i = 0; i < 2000; i++)
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%d", i ? "," : "", i);
	buf[o++] = ']';
	buf[o] = '\0';
	kc_json_error err;
	const kc_json *v = parse(buf, &err);
	cr_assert_not_null(v);
	cr_assert_eq(kc_json_size(v), 2000);
	int64_t x;
	cr_assert(kc_json_integer(kc_json_at(v, 1999), &x));
	cr_assert_eq(x, 1999);
}

Test(json, structure_errors)
{
	const char *bad[] = { "", " ", "{", "}", "[1,]", "[,1]", "{\"a\":1,}", "{\"a\" 1}",
	    "{a:1}", "{'a':1}", "[1 2]", "tru", "nul", "true false", "{} x", "\"abc",
	    "[1]]", "{\"a\":}", "// c\n1" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(error_of(bad[i]), KC_JSON_ERR_SYNTAX, "accepted '%s'", bad[i]);
}

Test(json, escapes)
{
	kc_json_error err;
	size_t len;
	const char *s = kc_json_string(parse("\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\"", &err), &len);
	cr_assert_str_eq(s, "a\"b\\c/d\b\f\n\r\t");
	s = kc_json_string(parse("\"\\u00e9\\u20ac\\ud83d\\ude00\"", &err), &len);
	cr_assert_str_eq(s, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
	cr_assert_eq(len, 9);
	const char *bad[] = { "\"\\x\"", "\"\\u12\"", "\"\\u12g4\"", "\"\\ud800\"",
	    "\"\\udc00\"", "\"\\ud800\\u0041\"", "\"\\ud800x\"", "\"\\'\"" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(error_of(bad[i]), KC_JSON_ERR_SYNTAX, "accepted %s", bad[i]);
}

Test(json, nul_is_refused)
{
	/* A NUL would let "admin\u0000x" compare equal to "admin" in C. */
	cr_assert_eq(error_of("\"admin\\u0000x\""), KC_JSON_ERR_SYNTAX);
	kc_json_error err;
	const char raw[] = "\"a\0b\"";
	cr_assert_null(kc_json_parse(arena, raw, sizeof(raw) - 1, 64, &err));
	cr_assert_eq(err, KC_JSON_ERR_SYNTAX);
}

Test(json, control_characters_refused)
{
	cr_assert_eq(error_of("\"a\nb\""), KC_JSON_ERR_SYNTAX);
	cr_assert_eq(error_of("\"a\tb\""), KC_JSON_ERR_SYNTAX);
	cr_assert_eq(error_of("\"a\x1f\""), KC_JSON_ERR_SYNTAX);
}

Test(json, utf8_validation)
{
	kc_json_error err;
	cr_assert_not_null(parse("\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"", &err));
	const char *bad[] = {
		"\"\xc3\"",             /* truncated */
		"\"\xc0\xaf\"",         /* overlong '/' */
		"\"\xe0\x80\xaf\"",     /* overlong */
		"\"\xed\xa0\x80\"",     /* UTF-8 encoded surrogate */
		"\"\xf4\x90\x80\x80\"", /* above U+10FFFF */
		"\"\xff\"",
		"\"\x80\"",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(error_of(bad[i]), KC_JSON_ERR_SYNTAX, "accepted case %zu", i);
}

Test(json, duplicates_refused_small_and_large)
{
	cr_assert_eq(error_of("{\"a\":1,\"a\":2}"), KC_JSON_ERR_DUPLICATE);
	cr_assert_eq(error_of("{\"x\":{\"b\":1,\"b\":1}}"), KC_JSON_ERR_DUPLICATE);
	/* Escapes are compared after decoding: "\u0061" is "a". */
	cr_assert_eq(error_of("{\"a\":1,\"\\u0061\":2}"), KC_JSON_ERR_DUPLICATE);
	char buf[4096];
	size_t o = 0;
	buf[o++] = '{';
	for (int i = 0; i < 100; i++)
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s\"k%d\":%d", i ? "," : "", i, i);
	buf[o] = '\0';
	char ok[4200], dup[4200];
	snprintf(ok, sizeof(ok), "%s}", buf);
	snprintf(dup, sizeof(dup), "%s,\"k57\":0}", buf);
	kc_json_error err;
	cr_assert_not_null(parse(ok, &err));
	cr_assert_eq(error_of(dup), KC_JSON_ERR_DUPLICATE);
	snprintf(dup, sizeof(dup), "%s,\"k0\":0}", buf);   /* the first name, last */
	cr_assert_eq(error_of(dup), KC_JSON_ERR_DUPLICATE);
	snprintf(dup, sizeof(dup), "%s,\"k99\":0}", buf);  /* the last name, again */
	cr_assert_eq(error_of(dup), KC_JSON_ERR_DUPLICATE);
}

Test(json, depth_limit)
{
	char buf[300];
	for (int depth = 63; depth <= 66; depth++) {
		memset(buf, '[', (size_t)depth);
		memset(buf + depth, ']', (size_t)depth);
		buf[2 * depth] = '\0';
		kc_json_error err;
		const kc_json *v = parse(buf, &err);
		if (depth <= 64)
			cr_assert_not_null(v, "depth %d refused", depth);
		else
			cr_assert_eq(err, KC_JSON_ERR_DEPTH, "depth %d accepted", depth);
	}
	/* Brackets inside strings are not nesting. */
	kc_json_error err;
	cr_assert_not_null(parse("\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\"", &err));
}

Test(json, to_jansson_round_trip)
{
	kc_json_error err;
	const char *text = "{\"s\":\"\\u00e9\",\"i\":-3,\"r\":2.5,\"a\":[true,false,null],\"o\":{\"k\":1}}";
	json_t *j = kc_json_to_jansson(parse(text, &err));
	cr_assert_not_null(j);
	char *out = json_dumps(j, JSON_COMPACT);
	cr_assert_str_eq(out, "{\"s\":\"\xc3\xa9\",\"i\":-3,\"r\":2.5,\"a\":[true,false,null],\"o\":{\"k\":1}}");
	free(out);
	json_decref(j);
}
