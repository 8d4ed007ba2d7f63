/* compile.c: from syntax trees to an immutable kc_policy.
 *
 * Pass 1 collects the declarations of every file (realm, issuers, claims,
 * scopes, clients, lists, lets) so that order between files never matters;
 * pass 2 compiles gates, resources and routes into rules over shared atoms
 * and builds the route index. Names are resolved with did-you-mean hints;
 * everything is checked before anything is published. */
#include "config.h"

#include "policy/compile_int.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "core/util.h"
#include "token/alg.h"

static uint64_t hash_seed;

/* FNV-1a over the bytes, mixed with a per-process seed so that a crafted
 * input cannot aim at a bucket (policy-language.md §3.4). */
uint64_t
kc_policy_hash(const char *s, size_t len)
{
	uint64_t h = 1469598103934665603ull ^ hash_seed;
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ull;
	return h ^ (h >> 32);
}

static void *
zalloc(cc *c, size_t n)
{
	void *p = kc_arena_alloc(c->a, n ? n : 1);
	if (p != NULL)
		memset(p, 0, n ? n : 1);
	return p;
}

static char *
dup(cc *c, const char *s)
{
	return s ? kc_arena_strndup(c->a, s, strlen(s)) : NULL;
}

void
cc_err(cc *c, kc_span at, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	kc_diag_vreport(c->d, KC_SEV_ERROR, at, fmt, ap);
	va_end(ap);
}

static void
warn(cc *c, kc_span at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
warn(cc *c, kc_span at, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	kc_diag_vreport(c->d, KC_SEV_WARNING, at, fmt, ap);
	va_end(ap);
}

kc_istr
cc_intern(cc *c, const char *s, size_t len)
{
	kc_istr r = { kc_arena_strndup(c->a, s, len), (uint32_t)len, kc_policy_hash(s, len) };
	return r;
}

void
cc_suggest_prefixed(cc *c, const char *prefix, const char *name, const char *const *candidates,
    size_t n)
{
	const char *best = NULL;
	unsigned best_d = 3;
	for (size_t i = 0; i < n; i++) {
		if (candidates[i] == NULL)
			continue;
		unsigned d = kc_edit_distance(name, candidates[i], 2);
		if (d < best_d) {
			best_d = d;
			best = candidates[i];
		}
	}
	if (best != NULL)
		kc_diag_hint(c->d, "did you mean '%s%s'?", prefix, best);
}

void
cc_suggest(cc *c, const char *name, const char *const *candidates, size_t n)
{
	cc_suggest_prefixed(c, "", name, candidates, n);
}

/* ---- sets -------------------------------------------------------------------------- */

static int
istr_cmp(const void *pa, const void *pb)
{
	const kc_istr *a = pa, *b = pb;
	if (a->hash != b->hash)
		return a->hash < b->hash ? -1 : 1;
	if (a->len != b->len)
		return a->len < b->len ? -1 : 1;
	return memcmp(a->s, b->s, a->len);
}

void
cc_strset_build(cc *c, kc_istr *items, uint32_t n, kc_strset *out)
{
	(void)c;
	qsort(items, n, sizeof(*items), istr_cmp);
	uint32_t k = 0;
	for (uint32_t i = 0; i < n; i++)
		if (k == 0 || istr_cmp(&items[k - 1], &items[i]) != 0)
			items[k++] = items[i];
	out->items = items;
	out->n = k;
}

bool
cc_parse_cidr(const char *s, kc_cidr *out)
{
	char buf[64];
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	if (alen == 0 || alen >= sizeof(buf))
		return false;
	memcpy(buf, s, alen);
	buf[alen] = '\0';
	unsigned char addr[16];
	int family, bits;
	if (inet_pton(AF_INET, buf, addr) == 1) {
		family = 4;
		bits = 32;
	} else if (inet_pton(AF_INET6, buf, addr) == 1) {
		family = 6;
		bits = 128;
	} else {
		return false;
	}
	int prefix = bits;
	if (slash != NULL) {
		char *end;
		errno = 0;
		long v = strtol(slash + 1, &end, 10);
		if (slash[1] == '\0' || *end != '\0' || errno != 0 || v < 0 || v > bits ||
		    !isdigit((unsigned char)slash[1]))
			return false;
		prefix = (int)v;
	}
	size_t nbytes = (size_t)bits / 8;
	memset(out, 0, sizeof(*out));
	out->family = (uint8_t)family;
	for (size_t i = 0; i < nbytes; i++) {
		int keep = prefix - (int)i * 8;
		unsigned char mask = keep >= 8 ? 0xff : keep <= 0 ? 0 : (unsigned char)(0xff << (8 - keep));
		out->lo[i] = addr[i] & mask;
		out->hi[i] = (unsigned char)(addr[i] | (unsigned char)~mask);
	}
	return true;
}

static int
cidr_cmp(const void *pa, const void *pb)
{
	const kc_cidr *a = pa, *b = pb;
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	return memcmp(a->lo, b->lo, 16);
}

/* Adds one to a 16-byte big-endian number (for merging adjacent ranges). */
static bool
inc16(unsigned char *v, size_t n)
{
	for (size_t i = n; i-- > 0;)
		if (++v[i] != 0)
			return true;
	return false;
}

bool
cc_cidrset_build(cc *c, kc_cidr *items, uint32_t n, kc_cidrset *out)
{
	(void)c;
	qsort(items, n, sizeof(*items), cidr_cmp);
	uint32_t k = 0;
	for (uint32_t i = 0; i < n; i++) {
		if (k > 0 && items[k - 1].family == items[i].family) {
			kc_cidr *prev = &items[k - 1];
			size_t len = prev->family == 4 ? 4 : 16;
			unsigned char next[16];
			memcpy(next, prev->hi, 16);
			bool ok = inc16(next, len);
			/* Overlapping or adjacent: merge into one range. */
			if (memcmp(items[i].lo, prev->hi, len) <= 0 ||
			    (ok && memcmp(items[i].lo, next, len) == 0)) {
				if (memcmp(items[i].hi, prev->hi, len) > 0)
					memcpy(prev->hi, items[i].hi, 16);
				continue;
			}
		}
		items[k++] = items[i];
	}
	out->items = items;
	out->n = k;
	return true;
}

/* ---- lookups ---------------------------------------------------------------------- */

int
cc_claim_index(const cc *c, const char *name)
{
	for (uint32_t i = 0; i < c->p->n_claims; i++)
		if (strcmp(c->p->claims[i].name, name) == 0)
			return (int)i;
	return -1;
}

const kc_named_list *
cc_list(const cc *c, const char *name)
{
	for (uint32_t i = 0; i < c->p->n_lists; i++)
		if (strcmp(c->p->lists[i].name.s, name) == 0)
			return &c->p->lists[i];
	return NULL;
}

const cc_alias *
cc_alias_find(const cc *c, const char *name)
{
	for (uint32_t i = 0; i < c->n_aliases; i++)
		if (strcmp(c->aliases[i].name.s, name) == 0)
			return &c->aliases[i];
	return NULL;
}

int
cc_etype(const cc *c, const char *name, size_t len)
{
	for (uint32_t i = 0; i < c->p->n_etypes; i++)
		if (c->p->etypes[i].name.len == len && memcmp(c->p->etypes[i].name.s, name, len) == 0)
			return (int)i;
	return -1;
}

int
cc_perm(const cc *c, const char *name, size_t len)
{
	for (uint32_t i = 0; i < c->p->n_perms; i++)
		if (strlen(c->p->perm_letters[i]) == len && memcmp(c->p->perm_letters[i], name, len) == 0)
			return (int)i;
	return -1;
}

/* ---- scope ids -------------------------------------------------------------------- */

static bool
scope_table_grow(cc *c)
{
	kc_policy *p = c->p;
	uint32_t size = p->scope_table_size ? p->scope_table_size * 2 : 256;
	uint32_t *t = zalloc(c, size * sizeof(*t));
	if (t == NULL)
		return false;
	for (uint32_t id = 0; id < p->n_scopes; id++) {
		uint32_t h = (uint32_t)p->scope_names[id].hash & (size - 1);
		while (t[h] != 0)
			h = (h + 1) & (size - 1);
		t[h] = id + 1;
	}
	p->scope_table = t;
	p->scope_table_size = size;
	return true;
}

static int
scope_lookup(const kc_policy *p, const char *s, size_t len, uint64_t hash)
{
	if (p->scope_table_size == 0)
		return -1;
	uint32_t h = (uint32_t)hash & (p->scope_table_size - 1);
	while (p->scope_table[h] != 0) {
		const kc_istr *n = &p->scope_names[p->scope_table[h] - 1];
		if (n->hash == hash && n->len == len && memcmp(n->s, s, len) == 0)
			return (int)p->scope_table[h] - 1;
		h = (h + 1) & (p->scope_table_size - 1);
	}
	return -1;
}

int
kc_policy_scope_id(const kc_policy *p, const char *s, size_t len)
{
	return scope_lookup(p, s, len, kc_policy_hash(s, len));
}

/* The id of scope s, adding it when declaring (literal false) or when no
 * `declare` is in use. A literal that was never declared is an error when
 * the policy declares its vocabulary (policy-language.md §2.4.7). */
int
cc_scope_id(cc *c, const char *s, size_t len, kc_span at, bool literal)
{
	kc_policy *p = c->p;
	uint64_t hash = kc_policy_hash(s, len);
	int id = scope_lookup(p, s, len, hash);
	if (id >= 0)
		return id;
	if (literal && c->declared_scopes) {
		cc_err(c, at, "scope '%.*s' is not declared", (int)len, s);
		const char *cand[256];
		uint32_t n = p->n_scopes < 256 ? p->n_scopes : 256;
		for (uint32_t i = 0; i < n; i++)
			cand[i] = p->scope_names[i].s;
		char name[256];
		snprintf(name, sizeof(name), "%.*s", (int)len, s);
		cc_suggest(c, name, cand, n);
		kc_diag_note(c->d, (kc_span){ 0 },
		    "with 'declare' in the scopes block, every scope a rule names must be declared, so a typo cannot make a rule unreachable");
		return -1;
	}
	if (len == 0 || memchr(s, ' ', len) != NULL) {
		cc_err(c, at, "a scope name is not empty and has no spaces");
		return -1;
	}
	if (p->n_scopes >= KC_MAX_SCOPE_IDS) {
		cc_err(c, at, "more than %d distinct scopes", KC_MAX_SCOPE_IDS);
		return -1;
	}
	if (p->n_scopes == c->scope_cap) {
		uint32_t cap = c->scope_cap ? c->scope_cap * 2 : 64;
		kc_istr *names = zalloc(c, cap * sizeof(*names));
		if (names == NULL)
			return -1;
		if (p->n_scopes)
			memcpy(names, p->scope_names, p->n_scopes * sizeof(*names));
		p->scope_names = names;
		c->scope_cap = cap;
	}
	p->scope_names[p->n_scopes] = cc_intern(c, s, len);
	id = (int)p->n_scopes++;
	if (p->n_scopes * 2 > p->scope_table_size)
		return scope_table_grow(c) ? id : -1;   /* the rebuild inserts it */
	uint32_t h = (uint32_t)hash & (p->scope_table_size - 1);
	while (p->scope_table[h] != 0)
		h = (h + 1) & (p->scope_table_size - 1);
	p->scope_table[h] = (uint32_t)id + 1;
	return id;
}

static bool compile_response(cc *c, const kc_ast_response *r, kc_response *out, bool allow,
    kc_span at);

/* ---- pass 1: declarations ---------------------------------------------------------- */

/* A path relative to the directory of the file the span is in. */
static char *
relative_path(cc *c, kc_span at, const char *name)
{
	if (name[0] == '/' || at.src == NULL)
		return dup(c, name);
	const char *src = kc_source_path(at.src);
	const char *slash = strrchr(src, '/');
	size_t dlen = slash ? (size_t)(slash - src) : 0;
	size_t n = dlen + 1 + strlen(name) + 1;
	char *out = kc_arena_alloc(c->a, n);
	if (out == NULL)
		return NULL;
	if (slash == NULL)
		snprintf(out, n, "%s", name);
	else
		snprintf(out, n, "%.*s/%s", (int)dlen, src, name);
	return out;
}

/* Reads a list file: one entry a line, '#' comments and blank lines skipped. */
static char **
read_lines(cc *c, kc_span at, const char *path, uint32_t *n_out)
{
	size_t len;
	char *text = kc_file_read(path, 64 * 1024 * 1024, &len);
	if (text == NULL) {
		cc_err(c, at, "cannot read '%s': %s", path, strerror(errno));
		return NULL;
	}
	uint32_t cap = 64, n = 0;
	char **lines = malloc(cap * sizeof(*lines));
	char *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); lines != NULL && line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		size_t l = strlen(line);
		while (l > 0 && (line[l - 1] == '\r' || line[l - 1] == ' ' || line[l - 1] == '\t'))
			line[--l] = '\0';
		while (*line == ' ' || *line == '\t')
			line++;
		if (*line == '\0' || *line == '#')
			continue;
		if (n == cap) {
			cap *= 2;
			char **nl = realloc(lines, cap * sizeof(*nl));
			if (nl == NULL) {
				free(lines);
				lines = NULL;
				break;
			}
			lines = nl;
		}
		lines[n++] = dup(c, line);
	}
	free(text);
	if (lines == NULL) {
		cc_err(c, at, "out of memory reading '%s'", path);
		return NULL;
	}
	*n_out = n;
	return lines;
}

static void
declare_list(cc *c, const kc_ast_list *l, kc_span at)
{
	kc_policy *p = c->p;
	if (cc_list(c, l->name.s) != NULL) {
		cc_err(c, l->name.span, "list '@%s' is defined twice", l->name.s);
		return;
	}
	char **entries = NULL;
	uint32_t n = 0;
	kc_span where = l->file.s ? l->file.span : at;
	if (l->file.s != NULL) {
		char *path = relative_path(c, l->file.span, l->file.s);
		if (path == NULL || (entries = read_lines(c, l->file.span, path, &n)) == NULL)
			return;
	} else {
		for (kc_ast_strlist *s = l->items; s != NULL; s = s->next)
			n++;
		entries = malloc((n ? n : 1) * sizeof(*entries));
		if (entries == NULL)
			return;
		n = 0;
		for (kc_ast_strlist *s = l->items; s != NULL; s = s->next)
			entries[n++] = (char *)s->str.s;
	}
	kc_named_list *nl = &p->lists[p->n_lists];
	memset(nl, 0, sizeof(*nl));
	nl->name = cc_intern(c, l->name.s, l->name.len);
	nl->cidr = l->cidr;
	nl->span = l->name.span;
	if (l->cidr) {
		kc_cidr *items = zalloc(c, n * sizeof(*items));
		kc_ast_strlist *s = l->items;
		for (uint32_t i = 0; items != NULL && i < n; i++) {
			if (!cc_parse_cidr(entries[i], &items[i])) {
				cc_err(c, l->file.s ? where : s->str.span, "'%s' is not an IP address or CIDR range",
				    entries[i]);
				if (l->file.s)
					kc_diag_note(c->d, (kc_span){ 0 }, "in %s, entry %u", l->file.s, i + 1);
			}
			if (s != NULL)
				s = s->next;
		}
		if (items != NULL)
			cc_cidrset_build(c, items, n, &nl->ranges);
	} else {
		kc_istr *items = zalloc(c, n * sizeof(*items));
		for (uint32_t i = 0; items != NULL && i < n; i++)
			items[i] = cc_intern(c, entries[i], strlen(entries[i]));
		if (items != NULL)
			cc_strset_build(c, items, n, &nl->strings);
		if (items != NULL && nl->strings.n < n)
			warn(c, where, "list '@%s' has %u duplicate entr%s", l->name.s,
			    n - nl->strings.n, n - nl->strings.n == 1 ? "y" : "ies");
	}
	free(entries);
	p->n_lists++;
}

static void
declare_clients_file(cc *c, const kc_ast_item *it)
{
	char *path = relative_path(c, it->str.span, it->str.s);
	uint32_t n = 0;
	char **lines = path ? read_lines(c, it->str.span, path, &n) : NULL;
	if (lines == NULL)
		return;
	kc_client *nc = zalloc(c, (c->p->n_clients + n) * sizeof(*nc));
	if (nc != NULL) {
		if (c->p->n_clients)
			memcpy(nc, c->p->clients, c->p->n_clients * sizeof(*nc));
		for (uint32_t i = 0; i < n; i++) {
			char *tab = strchr(lines[i], '\t');
			if (tab == NULL) {
				cc_err(c, it->str.span, "%s: line %u: expected client_id<TAB>name", it->str.s, i + 1);
				continue;
			}
			*tab = '\0';
			nc[c->p->n_clients].id = cc_intern(c, lines[i], strlen(lines[i]));
			nc[c->p->n_clients].name = tab + 1;
			c->p->n_clients++;
		}
		c->p->clients = nc;
	}
	free(lines);
}

static kc_vtype
claim_type(kc_ast_type t)
{
	switch (t) {
	case KC_T_STRING: return KC_VT_STRING;
	case KC_T_INT: return KC_VT_INT;
	case KC_T_BOOL: return KC_VT_BOOL;
	case KC_T_TIME: return KC_VT_TIME;
	case KC_T_LIST_STRING: return KC_VT_LIST_STRING;
	case KC_T_LIST_INT: return KC_VT_LIST_INT;
	}
	return KC_VT_STRING;
}

static void
declare_claim(cc *c, const kc_ast_claim *cl)
{
	kc_policy *p = c->p;
	int prev = cc_claim_index(c, cl->name.s);
	if (prev >= 0) {
		cc_err(c, cl->name.span, "claim '%s' is declared twice", cl->name.s);
		kc_diag_note(c->d, p->claims[prev].span, "first declared here");
		return;
	}
	kc_claim_def *d = &p->claims[p->n_claims];
	memset(d, 0, sizeof(*d));   /* the slot may hold a claim refused before */
	d->name = dup(c, cl->name.s);
	d->type = claim_type(cl->type);
	d->required = cl->required;
	d->span = cl->name.span;
	const char *from = cl->from.s ? cl->from.s : cl->name.s;
	uint32_t parts = 1;
	for (const char *q = from; *q; q++)
		if (*q == '.')
			parts++;
	d->path = zalloc(c, parts * sizeof(*d->path));
	char *copy = dup(c, from);
	if (d->path == NULL || copy == NULL)
		return;
	char *save = NULL;
	uint32_t *lens = zalloc(c, parts * sizeof(*lens));
	if (lens == NULL)
		return;
	for (char *part = strtok_r(copy, ".", &save); part != NULL && d->path_len < parts;
	    part = strtok_r(NULL, ".", &save)) {
		lens[d->path_len] = (uint32_t)strlen(part);
		d->path[d->path_len++] = part;
	}
	d->path_lens = lens;
	if (d->path_len != parts || (cl->from.s && cl->from.len == 0)) {
		cc_err(c, cl->from.span, "'%s' is not a claim path (names separated by single dots)", from);
		return;
	}
	if (cl->split.s != NULL) {
		if (d->type != KC_VT_LIST_STRING) {
			cc_err(c, cl->split.span, "'split' reads a string claim as a list: declare it list<string>");
			return;
		}
		if (cl->split.len != 1) {
			cc_err(c, cl->split.span, "the separator of 'split' is one character, such as \" \"");
			return;
		}
		d->split = cl->split.s[0];
	}
	p->n_claims++;
}

static kc_token_reason dummy_reason;

static void
issuer_warn(void *ctx, const char *msg)
{
	cc *c = ctx;
	kc_diag_report(c->d, KC_SEV_WARNING, (kc_span){ 0 }, "%s", msg);
}

static void
declare_issuer(cc *c, const kc_ast_issuer *is)
{
	kc_policy *p = c->p;
	for (uint32_t i = 0; i < p->n_issuers; i++) {
		if (strcmp(p->issuers[i].name, is->name.s) == 0) {
			cc_err(c, is->name.span, "issuer '%s' is defined twice", is->name.s);
			kc_diag_note(c->d, p->issuers[i].span, "first defined here");
			return;
		}
		if (strcmp(p->issuers[i].iss, is->iss.s) == 0) {
			cc_err(c, is->iss.span, "two issuers have the URL '%s'", is->iss.s);
			kc_diag_note(c->d, p->issuers[i].span, "the other one");
			return;
		}
	}
	kc_verifier_opts vo = { 0 };
	bool ok = true;
	bool has_hs = false, has_asym = false;
	for (kc_ast_strlist *a = is->algorithms; a != NULL; a = a->next) {
		if (kc_alg_name_is_none(a->str.s, a->str.len)) {
			cc_err(c, a->str.span, "'none' is never an algorithm keycard accepts");
			ok = false;
			continue;
		}
		kc_alg alg = kc_alg_from_name(a->str.s, a->str.len);
		if (alg == KC_ALG_UNKNOWN) {
			static const char *const names[] = { "HS256", "HS384", "HS512", "RS256", "RS384",
			    "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA" };
			cc_err(c, a->str.span, "unknown algorithm '%s'", a->str.s);
			cc_suggest(c, a->str.s, names, 13);
			ok = false;
			continue;
		}
		vo.jws.algs |= KC_ALG_BIT(alg);
		if (kc_alg_keytype(alg) == KC_KEY_OCT)
			has_hs = true;
		else
			has_asym = true;
	}
	if (has_hs && has_asym) {
		cc_err(c, is->span, "issuer '%s' allows HS* next to asymmetric algorithms", is->name.s);
		kc_diag_note(c->d, (kc_span){ 0 },
		    "an HMAC key next to public keys invites algorithm confusion (RFC 8725 §2.1): a token signed with a public key as HMAC secret");
		kc_diag_hint(c->d, "use a separate issuer for the shared-secret tokens");
		ok = false;
	}

	kc_keyset *ks = kc_keyset_new();
	char msg[300];
	int sources = 0, r;
	if (ks == NULL)
		return;
	if (c->opts != NULL && c->opts->override_jwks != NULL) {
		r = kc_keyset_load_jwks(ks, c->opts->override_jwks, strlen(c->opts->override_jwks),
		    issuer_warn, c, msg, sizeof(msg));
		sources = 1;
		if (r < 0) {
			cc_err(c, is->span, "test keys: %s", msg);
			ok = false;
		}
	} else {
		if (is->jwks_file.s != NULL) {
			char *path = relative_path(c, is->jwks_file.span, is->jwks_file.s);
			sources++;
			if ((r = kc_keyset_load_jwks_file(ks, path, issuer_warn, c, msg, sizeof(msg))) < 0) {
				cc_err(c, is->jwks_file.span, "%s", msg);
				ok = false;
			}
		}
		if (is->pem_file.s != NULL) {
			char *path = relative_path(c, is->pem_file.span, is->pem_file.s);
			sources++;
			if (kc_keyset_load_pem_file(ks, path, NULL, NULL, issuer_warn, c, msg, sizeof(msg)) < 0) {
				cc_err(c, is->pem_file.span, "%s", msg);
				ok = false;
			}
		}
		if (is->secret_file.s != NULL) {
			char *path = relative_path(c, is->secret_file.span, is->secret_file.s);
			sources++;
			if (kc_keyset_load_secret_file(ks, path, NULL, NULL, issuer_warn, c, msg, sizeof(msg)) < 0) {
				cc_err(c, is->secret_file.span, "%s", msg);
				ok = false;
			}
		}
	}
	if (sources == 0) {
		cc_err(c, is->span, "issuer '%s' has no keys: give jwks file, key file or secret file",
		    is->name.s);
		ok = false;
	} else if (ok && kc_keyset_count(ks) == 0) {
		cc_err(c, is->span, "issuer '%s': no usable key was loaded", is->name.s);
		ok = false;
	}
	if (ok && c->opts == NULL) {
		kc_alg_set kinds = kc_keyset_algs(ks);
		bool oct = (kinds & (KC_ALG_BIT(KC_ALG_HS256) | KC_ALG_BIT(KC_ALG_HS384) |
		    KC_ALG_BIT(KC_ALG_HS512))) != 0;
		if (oct && (kinds & ~(KC_ALG_BIT(KC_ALG_HS256) | KC_ALG_BIT(KC_ALG_HS384) |
		    KC_ALG_BIT(KC_ALG_HS512))) != 0) {
			cc_err(c, is->span, "issuer '%s' has a shared secret next to public keys", is->name.s);
			kc_diag_hint(c->d, "use a separate issuer for the shared-secret tokens (RFC 8725 §2.1)");
			ok = false;
		}
	}

	const char *auds[32], *reqs[32];
	size_t n_auds = 0, n_reqs = 0;
	for (kc_ast_strlist *a = is->audiences; a != NULL && n_auds < 32; a = a->next)
		auds[n_auds++] = a->str.s;
	bool has_exp = false;
	for (kc_ast_strlist *a = is->require; a != NULL && n_reqs < 31; a = a->next) {
		reqs[n_reqs++] = a->str.s;
		has_exp |= strcmp(a->str.s, "exp") == 0;
	}
	/* exp is always required: a token that never expires is never taken. */
	if (!has_exp)
		reqs[n_reqs++] = "exp";
	if (is->audiences == NULL)
		warn(c, is->span, "issuer '%s' has no audience: tokens meant for any service of this issuer are accepted",
		    is->name.s);
	vo.issuer = is->iss.s;
	vo.audiences = auds;
	vo.n_audiences = n_auds;
	vo.required = reqs;
	vo.n_required = n_reqs;
	vo.leeway = is->leeway_ms > 0 ? is->leeway_ms / 1000 : 0;
	vo.jws.typ = is->typ.s;
	if (is->leeway_ms > 5 * 60 * 1000)
		warn(c, is->leeway_span, "a leeway over 5 minutes lets expired tokens through for long");
	if (!ok) {
		kc_keyset_free(ks);
		return;
	}
	kc_issuer *iss = &p->issuers[p->n_issuers];
	iss->name = dup(c, is->name.s);
	iss->iss = dup(c, is->iss.s);
	iss->span = is->name.span;
	iss->verifier = kc_verifier_new(ks, &vo);
	if (iss->verifier == NULL) {
		cc_err(c, is->span, "out of memory");
		return;
	}
	p->n_issuers++;
	(void)dummy_reason;
}

static void
declare_scopes(cc *c, const kc_ast_scope_stmt *st)
{
	kc_policy *p = c->p;
	switch (st->kind) {
	case KC_SS_SOURCE: {
		uint32_t n = 0;
		for (kc_ast_strlist *s = st->names; s != NULL; s = s->next)
			n++;
		const char **src = zalloc(c, (p->n_scope_sources + n) * sizeof(*src));
		if (src == NULL)
			return;
		if (p->n_scope_sources)
			memcpy(src, p->scope_sources, p->n_scope_sources * sizeof(*src));
		for (kc_ast_strlist *s = st->names; s != NULL; s = s->next)
			src[p->n_scope_sources++] = dup(c, s->str.s);
		p->scope_sources = src;
		break;
	}
	case KC_SS_DECLARE:
		c->declared_scopes = true;
		for (kc_ast_strlist *s = st->names; s != NULL; s = s->next)
			(void)cc_scope_id(c, s->str.s, s->str.len, s->str.span, false);
		break;
	case KC_SS_DECLARE_FILE: {
		c->declared_scopes = true;
		char *path = relative_path(c, st->subject.span, st->subject.s);
		uint32_t n = 0;
		char **lines = path ? read_lines(c, st->subject.span, path, &n) : NULL;
		for (uint32_t i = 0; lines != NULL && i < n; i++)
			(void)cc_scope_id(c, lines[i], strlen(lines[i]), st->subject.span, false);
		free(lines);
		break;
	}
	case KC_SS_ENTITY: {
		uint16_t perms = 0;
		for (kc_ast_strlist *s = st->perms; s != NULL; s = s->next) {
			int pi = cc_perm(c, s->str.s, s->str.len);
			if (pi < 0) {
				if (p->n_perms >= KC_MAX_PERMS || s->str.len >= sizeof(p->perm_letters[0])) {
					cc_err(c, s->str.span, "too many or too long permission names");
					continue;
				}
				snprintf(p->perm_letters[p->n_perms], sizeof(p->perm_letters[0]), "%s", s->str.s);
				pi = (int)p->n_perms++;
			}
			perms |= (uint16_t)(1u << pi);
		}
		int from = -1, to = -1;
		if (st->imp_from.s != NULL) {
			from = cc_perm(c, st->imp_from.s, st->imp_from.len);
			to = cc_perm(c, st->imp_to.s, st->imp_to.len);
			if (from < 0 || to < 0 || !(perms & (1u << from)) || !(perms & (1u << to))) {
				cc_err(c, from < 0 || !(perms & (1u << from)) ? st->imp_from.span : st->imp_to.span,
				    "'implies' names a permission not listed after 'perms'");
				from = -1;
			}
		}
		for (kc_ast_strlist *s = st->names; s != NULL; s = s->next) {
			if (cc_etype(c, s->str.s, s->str.len) >= 0) {
				cc_err(c, s->str.span, "entity type '%s' is declared twice", s->str.s);
				continue;
			}
			if (p->n_etypes >= KC_MAX_ENTITY_TYPES) {
				cc_err(c, s->str.span, "more than %d entity types", KC_MAX_ENTITY_TYPES);
				continue;
			}
			if (memchr(s->str.s, ':', s->str.len) != NULL) {
				cc_err(c, s->str.span, "an entity type has no ':'");
				continue;
			}
			kc_entity_type *t = &p->etypes[p->n_etypes++];
			t->name = cc_intern(c, s->str.s, s->str.len);
			t->perms = perms;
			for (int i = 0; i < KC_MAX_PERMS; i++)
				t->implies[i] = (uint16_t)(1u << i);
			if (from >= 0)
				t->implies[from] |= (uint16_t)(1u << to);
		}
		break;
	}
	case KC_SS_IMPLIES:
	case KC_SS_ALIAS:
		/* Resolved after every declaration is known (finish_scopes). */
		break;
	}
}

/* `implies` and aliases, once all declarations are in. */
static void
finish_scopes(cc *c, const kc_policy_files *files)
{
	kc_policy *p = c->p;
	for (size_t f = 0; f < files->n; f++) {
		for (kc_ast_item *it = files->files[f].ast->items; it != NULL; it = it->next) {
			if (it->kind != KC_I_SCOPES)
				continue;
			for (kc_ast_scope_stmt *st = it->scopes; st != NULL; st = st->next) {
				if (st->kind == KC_SS_ALIAS) {
					if (cc_alias_find(c, st->subject.s) != NULL) {
						cc_err(c, st->subject.span, "alias '@%s' is defined twice", st->subject.s);
						continue;
					}
					cc_alias *na = realloc(c->aliases, (c->n_aliases + 1) * sizeof(*na));
					if (na == NULL)
						continue;
					c->aliases = na;
					c->aliases[c->n_aliases].name = st->subject;
					c->aliases[c->n_aliases].members = st->names;
					c->aliases[c->n_aliases].span = st->span;
					c->n_aliases++;
					/* Members must be declared (or of entity shape): checked
					 * when a test uses the alias. */
				}
			}
		}
	}
	(void)p;
}

static void
build_implies(cc *c, const kc_policy_files *files)
{
	kc_policy *p = c->p;
	/* Every scope an implies names gets its id first, whatever the file
	 * order: the table is sized once, for all of them. */
	for (size_t f = 0; f < files->n; f++)
		for (kc_ast_item *it = files->files[f].ast->items; it != NULL; it = it->next)
			if (it->kind == KC_I_SCOPES)
				for (kc_ast_scope_stmt *st = it->scopes; st != NULL; st = st->next)
					if (st->kind == KC_SS_IMPLIES) {
						(void)cc_scope_id(c, st->subject.s, st->subject.len, st->subject.span, true);
						for (kc_ast_strlist *x = st->names; x != NULL; x = x->next)
							(void)cc_scope_id(c, x->str.s, x->str.len, x->str.span, true);
					}
	uint32_t n = p->n_scopes;
	p->implies = zalloc(c, (n ? n : 1) * sizeof(*p->implies));
	if (p->implies == NULL)
		return;
	for (uint32_t i = 0; i < n; i++)
		p->implies[i][i / 64] |= (uint64_t)1 << (i % 64);
	for (size_t f = 0; f < files->n; f++) {
		for (kc_ast_item *it = files->files[f].ast->items; it != NULL; it = it->next) {
			if (it->kind != KC_I_SCOPES)
				continue;
			for (kc_ast_scope_stmt *st = it->scopes; st != NULL; st = st->next) {
				if (st->kind != KC_SS_IMPLIES)
					continue;
				/* Ids were given (or refused, with an error) above. */
				int from = kc_policy_scope_id(p, st->subject.s, st->subject.len);
				for (kc_ast_strlist *s = st->names; s != NULL; s = s->next) {
					int to = kc_policy_scope_id(p, s->str.s, s->str.len);
					if (from >= 0 && to >= 0 && (uint32_t)from < n && (uint32_t)to < n)
						p->implies[from][to / 64] |= (uint64_t)1 << (to % 64);
				}
			}
		}
	}
	/* Transitive closure: a implies b and b implies c gives a implies c. */
	bool changed = true;
	while (changed) {
		changed = false;
		for (uint32_t i = 0; i < n; i++) {
			for (uint32_t j = 0; j < n; j++) {
				if (i == j || !(p->implies[i][j / 64] & ((uint64_t)1 << (j % 64))))
					continue;
				for (int w = 0; w < KC_SCOPE_WORDS; w++) {
					uint64_t m = p->implies[i][w] | p->implies[j][w];
					if (m != p->implies[i][w]) {
						p->implies[i][w] = m;
						changed = true;
					}
				}
			}
		}
	}
}

static bool
count_items(cc *c, const kc_policy_files *files)
{
	uint32_t issuers = 0, claims = 0, lists = 0, clients = 0, etypes = 0, resources = 0;
	for (size_t f = 0; f < files->n; f++) {
		for (kc_ast_item *it = files->files[f].ast->items; it != NULL; it = it->next) {
			switch (it->kind) {
			case KC_I_ISSUER: issuers++; break;
			case KC_I_LIST: lists++; break;
			case KC_I_CLIENT: clients++; break;
			case KC_I_RESOURCE: resources++; break;
			case KC_I_CLAIMS:
				for (kc_ast_claim *cl = it->claims; cl != NULL; cl = cl->next)
					claims++;
				break;
			default: break;
			}
		}
	}
	(void)etypes;
	kc_policy *p = c->p;
	p->issuers = zalloc(c, issuers * sizeof(*p->issuers));
	p->claims = zalloc(c, claims * sizeof(*p->claims));
	p->lists = zalloc(c, lists * sizeof(*p->lists));
	p->clients = zalloc(c, clients * sizeof(*p->clients));
	p->etypes = zalloc(c, KC_MAX_ENTITY_TYPES * sizeof(*p->etypes));
	p->resources = zalloc(c, resources * sizeof(*p->resources));
	return p->issuers && p->claims && p->lists && p->clients && p->etypes && p->resources;
}

static void
declarations(cc *c, const kc_policy_files *files)
{
	kc_policy *p = c->p;
	const kc_ast_item *version = NULL, *realm = NULL, *deflt = NULL;
	for (size_t f = 0; f < files->n; f++) {
		for (kc_ast_item *it = files->files[f].ast->items; it != NULL; it = it->next) {
			switch (it->kind) {
			case KC_I_VERSION:
				if (it->version != 1) {
					cc_err(c, it->span, "this keycard reads version 1 policies, not version %lld",
					    (long long)it->version);
				} else if (version != NULL && f == 0) {
					cc_err(c, it->span, "'keycard 1;' is given twice");
				}
				if (f == 0)
					version = it;
				break;
			case KC_I_REALM:
				if (realm != NULL) {
					cc_err(c, it->span, "'realm' is given twice");
					kc_diag_note(c->d, realm->span, "first given here");
				}
				realm = it;
				break;
			case KC_I_DEFAULT:
				if (deflt != NULL) {
					cc_err(c, it->span, "'default' is given twice");
					kc_diag_note(c->d, deflt->span, "first given here");
				}
				deflt = it;
				break;
			case KC_I_CLIENT:
				p->clients[p->n_clients].id = cc_intern(c, it->str.s, it->str.len);
				p->clients[p->n_clients].name = dup(c, it->str2.s);
				p->n_clients++;
				break;
			case KC_I_CLIENTS_FILE:
				declare_clients_file(c, it);
				break;
			case KC_I_ISSUER:
				declare_issuer(c, it->issuer);
				break;
			case KC_I_CLAIMS:
				for (kc_ast_claim *cl = it->claims; cl != NULL; cl = cl->next)
					declare_claim(c, cl);
				break;
			case KC_I_SCOPES:
				for (kc_ast_scope_stmt *st = it->scopes; st != NULL; st = st->next)
					declare_scopes(c, st);
				break;
			case KC_I_LIST:
				declare_list(c, it->list, it->span);
				break;
			default:
				break;
			}
		}
	}
	if (version == NULL && files->n > 0) {
		const kc_source *src = files->files[0].ast->src;
		cc_err(c, (kc_span){ src, 0, 0 }, "a policy starts with 'keycard 1;'");
		kc_diag_hint(c->d, "add the line 'keycard 1;' at the top of %s", files->files[0].path);
	}
	p->realm = realm ? dup(c, realm->str.s) : "keycard";
	p->default_resp.status = 404;
	if (deflt != NULL && compile_response(c, &deflt->resp, &p->default_resp, false, deflt->span) &&
	    p->default_resp.status == 0)
		p->default_resp.status = 404;
	if (p->n_scope_sources == 0) {
		static const char *const defaults[] = { "scope", "scp" };
		p->scope_sources = (const char **)defaults;
		p->n_scope_sources = 2;
	}
	p->sub_claim = cc_claim_index(c, "sub");
	p->client_id_claim = cc_claim_index(c, "client_id");
	finish_scopes(c, files);
}

/* ---- pass 2: rules, exports, resources, routes ---------------------------------------- */

/* RFC 6750 §3: error, error_description and scope values are limited to
 * printable ASCII without '"' and '\', so they can be quoted as is. */
static bool
header_safe(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e || *s == '"' || *s == '\\')
			return false;
	return true;
}

static bool
compile_response(cc *c, const kc_ast_response *r, kc_response *out, bool allow, kc_span at)
{
	static const struct { const char *name; int status; } errors[] = {
		{ "invalid_request", 400 },
		{ "invalid_token", 401 },
		{ "insufficient_scope", 403 },
		{ "insufficient_user_authentication", 401 },
	};
	memset(out, 0, sizeof(*out));
	if (!r->present)
		return true;
	if (allow) {
		cc_err(c, at, "an allow rule has no response: only deny and require answer with one");
		return false;
	}
	bool ok = true;
	if (r->error.s != NULL) {
		int known = -1;
		for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); i++)
			if (strcmp(errors[i].name, r->error.s) == 0)
				known = (int)i;
		if (known < 0) {
			const char *names[4];
			for (int i = 0; i < 4; i++)
				names[i] = errors[i].name;
			cc_err(c, r->error.span, "unknown error code '%s'", r->error.s);
			cc_suggest(c, r->error.s, names, 4);
			ok = false;
		} else {
			out->error = errors[known].name;
			out->status = errors[known].status;
		}
	}
	if (r->status != 0) {
		if (r->status < 400 || r->status > 599) {
			cc_err(c, r->status_span, "a refusal has a 4xx or 5xx status, not %d", r->status);
			ok = false;
		}
		out->status = r->status;
	}
	if (r->description.s != NULL) {
		if (!header_safe(r->description.s)) {
			cc_err(c, r->description.span,
			    "a description is printable ASCII without '\"' or '\\' (it is sent in WWW-Authenticate)");
			ok = false;
		}
		out->description = dup(c, r->description.s);
	}
	if (r->scope.s != NULL) {
		if (!header_safe(r->scope.s)) {
			cc_err(c, r->scope.span, "a scope hint is printable ASCII without '\"' or '\\'");
			ok = false;
		}
		out->scope = dup(c, r->scope.s);
	}
	return ok;
}

static bool
operand_reads_token(const kc_operand *o)
{
	if (o == NULL)
		return false;
	switch (o->kind) {
	case KC_OP_LIT: return false;
	case KC_OP_COALESCE: return operand_reads_token(o->a) || operand_reads_token(o->b);
	case KC_OP_LOWER: return operand_reads_token(o->a);
	case KC_OP_ENTITY_IDS: return true;
	case KC_OP_SLOT: break;
	}
	switch (o->slot) {
	case KC_SL_CAPTURE: case KC_SL_METHOD: case KC_SL_PATH: case KC_SL_REMOTE:
	case KC_SL_HEADER: case KC_SL_QUERY:
		return false;
	default:
		return true;
	}
}

/* Whether a condition reads anything of the token: gates that do not run
 * before the token is even looked at (policy-language.md §7.1). */
static bool
node_reads_token(const kc_node *n)
{
	if (n == NULL)
		return false;
	switch (n->kind) {
	case KC_N_TRUE: return false;
	case KC_N_AND: case KC_N_OR: return node_reads_token(n->a) || node_reads_token(n->b);
	case KC_N_NOT: return node_reads_token(n->a);
	case KC_N_ATOM: break;
	}
	const kc_atom *a = n->atom;
	if (a->op == KC_A_SCOPE || a->op == KC_A_HAS_ENTITY)
		return true;
	return operand_reads_token(a->lhs) || operand_reads_token(a->rhs);
}

/* Whether an allow rule is a pure conjunction of scope tests: then a
 * default deny's `scope=` hint comes from it (§2.4.4, rule 3). */
static bool
pure_scope_conjunction(const kc_node *n)
{
	if (n == NULL)
		return false;
	if (n->kind == KC_N_ATOM)
		return n->atom->op == KC_A_SCOPE;
	if (n->kind == KC_N_AND)
		return pure_scope_conjunction(n->a) && pure_scope_conjunction(n->b);
	return false;
}

static kc_rule *
compile_rules(cc *c, const kc_ast_rule *rules, uint32_t *n_out, const char *origin)
{
	uint32_t n = 0;
	for (const kc_ast_rule *r = rules; r != NULL; r = r->next)
		n++;
	kc_rule *out = zalloc(c, n * sizeof(*out));
	if (out == NULL)
		return NULL;
	/* Decision order: denies and requires first, in source order, then
	 * allows; the decision itself does not depend on it (deny-overrides). */
	uint32_t k = 0;
	for (int pass = 0; pass < 2; pass++) {
		for (const kc_ast_rule *r = rules; r != NULL; r = r->next) {
			bool allow = r->kind == KC_RULE_ALLOW;
			if (allow != (pass == 1))
				continue;
			kc_rule *o = &out[k++];
			o->kind = r->kind == KC_RULE_ALLOW ? KC_R_ALLOW : r->kind == KC_RULE_DENY ?
			    KC_R_DENY : KC_R_REQUIRE;
			o->label = r->label.s ? dup(c, r->label.s) : NULL;
			o->span = r->span;
			o->origin = origin;
			if (o->label != NULL && !header_safe(o->label))
				cc_err(c, r->label.span, "a label is printable ASCII without '\"' or '\\'");
			if (r->cond != NULL) {
				o->cond = cc_expr(c, r->cond);
				if (o->cond != NULL)
					cc_check_guards(c, r->cond);
			}
			o->needs_token = node_reads_token(o->cond);
			if (c->in_gate && allow)
				cc_err(c, r->span, "gates may only deny: an allow here would admit requests to every route");
			compile_response(c, &r->resp, &o->resp, allow, r->span);
			if (allow && pure_scope_conjunction(o->cond))
				o->hint_node = o->cond;
		}
	}
	*n_out = k;
	return out;
}

static bool
valid_var_name(const char *s)
{
	if (!((*s >= 'A' && *s <= 'Z') || *s == '_'))
		return false;
	for (const char *q = s + 1; *q; q++)
		if (!((*q >= 'A' && *q <= 'Z') || (*q >= '0' && *q <= '9') || *q == '_'))
			return false;
	return true;
}

static bool
reserved_var(const char *s)
{
	static const char *const exact[] = { "PATH", "IFS", "GATEWAY_INTERFACE", "AUTH_TYPE",
	    "REQUEST_METHOD", "QUERY_STRING", "SCRIPT_NAME", "SCRIPT_FILENAME", "PATH_INFO",
	    "PATH_TRANSLATED", "REMOTE_ADDR", "REMOTE_HOST", "REMOTE_PORT", "DOCUMENT_ROOT",
	    "REQUEST_URI", "HOME", "SHELL", "ENV", "BASH_ENV",
	    /* keycard-fcgi's own allow marker in the authorizer role */
	    "KEYCARD_DECISION" };
	static const char *const prefixes[] = { "LD_", "SERVER_", "CONTENT_", "HTTP_", "HTTPS",
	    "FCGI_", "MALLOC_" };
	for (size_t i = 0; i < sizeof(exact) / sizeof(exact[0]); i++)
		if (strcmp(s, exact[i]) == 0)
			return true;
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (strncmp(s, prefixes[i], strlen(prefixes[i])) == 0)
			return true;
	return false;
}

static bool
valid_header_name(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		    *s == '-' || *s == '_'))
			return false;
	return true;
}

static kc_export *
compile_exports(cc *c, const kc_ast_export *ex, uint32_t *n_out)
{
	uint32_t n = 0;
	for (const kc_ast_export *e = ex; e != NULL; e = e->next)
		n++;
	kc_export *out = zalloc(c, n * sizeof(*out));
	if (out == NULL)
		return NULL;
	uint32_t k = 0;
	c->in_export = true;
	for (const kc_ast_export *e = ex; e != NULL; e = e->next) {
		kc_export *o = &out[k];
		o->span = e->name.span;
		o->header = e->header;
		if (e->header) {
			if (!valid_header_name(e->name.s)) {
				cc_err(c, e->name.span, "'%s' is not a header name (letters, digits, '-')", e->name.s);
				continue;
			}
			size_t len = strlen(e->name.s);
			char *name = kc_arena_alloc(c->a, len + 6);
			if (name == NULL)
				continue;
			memcpy(name, "HTTP_", 5);
			for (size_t i = 0; i < len; i++) {
				char ch = e->name.s[i];
				name[5 + i] = ch == '-' ? '_' : (ch >= 'a' && ch <= 'z') ? (char)(ch - 32) : ch;
			}
			name[5 + len] = '\0';
			o->name = name;
			o->header_name = dup(c, e->name.s);
		} else {
			if (!valid_var_name(e->name.s)) {
				cc_err(c, e->name.span, "'%s' is not a variable name ([A-Z_][A-Z0-9_]*)", e->name.s);
				continue;
			}
			if (reserved_var(e->name.s)) {
				cc_err(c, e->name.span, "'%s' is reserved: %s sets it", e->name.s,
				    strcmp(e->name.s, "KEYCARD_DECISION") == 0 ? "keycard-fcgi" :
				    "the web server or the CGI protocol");
				if (strncmp(e->name.s, "HTTP_", 5) == 0)
					kc_diag_hint(c->d, "to hand the application a header, write header \"X-Name\" = ...;");
				continue;
			}
			o->name = dup(c, e->name.s);
		}
		for (uint32_t j = 0; j < k; j++) {
			if (strcmp(out[j].name, o->name) == 0) {
				warn(c, e->name.span, "'%s' is exported twice here; the last one wins", o->name);
				kc_diag_note(c->d, out[j].span, "first exported here");
			}
		}
		o->value = cc_value(c, e->value);
		if (o->value != NULL && o->value->type == KC_VT_BOOL)
			cc_err(c, e->value->span, "export a string, number or list; a condition cannot be exported");
		k++;
	}
	c->in_export = false;
	*n_out = k;
	return out;
}

/* §2.4.8: a later export of the same name replaces an earlier one; said
 * as a note, since it is allowed but easy to do by accident. */
static void
note_replaced_exports(cc *c, const kc_export *ex, uint32_t n, const kc_export *outer,
    uint32_t n_outer, const char *what)
{
	for (uint32_t i = 0; i < n; i++) {
		for (uint32_t j = 0; j < n_outer; j++) {
			if (ex[i].name == NULL || outer[j].name == NULL || strcmp(ex[i].name, outer[j].name) != 0)
				continue;
			kc_diag_report(c->d, KC_SEV_NOTE, ex[i].span, "'%s' replaces the %s export of the same name",
			    ex[i].name, what);
			kc_diag_note(c->d, outer[j].span, "replaced export");
			break;
		}
	}
}

static kc_auth
auth_of(kc_ast_auth a, kc_auth dflt)
{
	switch (a) {
	case KC_AUTH_REQUIRED: return KC_A_REQUIRED;
	case KC_AUTH_OPTIONAL: return KC_A_OPTIONAL;
	case KC_AUTH_NONE: return KC_A_NONE;
	case KC_AUTH_UNSET: break;
	}
	return dflt;
}

/* `accept jwt, issuer NAME, ...` as a mask of issuer indices (§7.4). */
static uint32_t
accept_mask(cc *c, const kc_ast_accept *list, uint32_t inherited)
{
	if (list == NULL)
		return inherited;
	uint32_t mask = 0;
	bool any = false;
	for (const kc_ast_accept *a = list; a != NULL; a = a->next) {
		if (!a->issuer) {
			if (strcmp(a->name.s, "jwt") == 0) {
				any = true;
			} else {
				static const char *const kinds[] = { "jwt" };
				cc_err(c, a->name.span, "unknown token kind '%s': v1 accepts 'jwt' or 'issuer NAME'",
				    a->name.s);
				cc_suggest(c, a->name.s, kinds, 1);
			}
			continue;
		}
		uint32_t i;
		for (i = 0; i < c->p->n_issuers; i++)
			if (strcmp(c->p->issuers[i].name, a->name.s) == 0)
				break;
		if (i == c->p->n_issuers) {
			const char *cand[32];
			uint32_t n = c->p->n_issuers < 32 ? c->p->n_issuers : 32;
			for (uint32_t k = 0; k < n; k++)
				cand[k] = c->p->issuers[k].name;
			cc_err(c, a->name.span, "unknown issuer '%s'", a->name.s);
			cc_suggest(c, a->name.s, cand, n);
		} else if (i >= 32) {
			cc_err(c, a->name.span, "'accept issuer' works with the first 32 issuers");
		} else {
			mask |= 1u << i;
		}
	}
	return any ? 0 : mask;
}

static char *
join_mount(cc *c, const char *mount, const char *path)
{
	size_t ml = strlen(mount);
	while (ml > 0 && mount[ml - 1] == '/')
		ml--;
	size_t pl = strlen(path);
	char *out = kc_arena_alloc(c->a, ml + pl + 2);
	if (out == NULL)
		return NULL;
	memcpy(out, mount, ml);
	if (path[0] != '/')
		out[ml++] = '/';
	memcpy(out + ml, path, pl + 1);
	if (out[0] == '\0') {
		out[0] = '/';
		out[1] = '\0';
	}
	return out;
}

static void
compile_route(cc *c, kc_resource_def *res, const kc_ast_route *ar, kc_route_def *rd)
{
	memset(rd, 0, sizeof(*rd));
	rd->id = c->p->n_routes;
	rd->resource = res;
	rd->methods = ar->methods;
	rd->span = ar->span;
	rd->auth = auth_of(ar->auth, res->auth);
	rd->accept = accept_mask(c, ar->accept, res->accept);
	rd->pattern = join_mount(c, res->mount, ar->path.s);
	char msg[200];
	size_t off = 0;
	if (rd->pattern == NULL)
		return;
	if (!kc_route_pattern_parse(rd->pattern, strlen(rd->pattern), &rd->pat, msg, sizeof(msg), &off)) {
		kc_span at = ar->path.span;
		size_t mount_part = strlen(rd->pattern) - ar->path.len;
		if (off >= mount_part && at.start + (off - mount_part) < at.end)
			at.start += (uint32_t)(off - mount_part);
		cc_err(c, at, "%s", msg);
		return;
	}
	c->route = rd;
	c->n_used_caps = 0;
	cc_let_scope_push(c, 2, ar->lets);
	rd->rules = compile_rules(c, ar->rules, &rd->n_rules, "route");
	rd->exports = compile_exports(c, ar->exports, &rd->n_exports);
	note_replaced_exports(c, rd->exports, rd->n_exports, res->exports, res->n_exports, "resource-wide");
	note_replaced_exports(c, rd->exports, rd->n_exports, c->p->exports, c->p->n_exports, "global");
	if (ar->hint_scopes != NULL) {
		size_t len = 0;
		for (kc_ast_strlist *s = ar->hint_scopes; s != NULL; s = s->next)
			len += s->str.len + 1;
		char *h = kc_arena_alloc(c->a, len + 1);
		if (h != NULL) {
			h[0] = '\0';
			for (kc_ast_strlist *s = ar->hint_scopes; s != NULL; s = s->next) {
				if (!header_safe(s->str.s))
					cc_err(c, s->str.span, "a scope hint is printable ASCII without '\"' or '\\'");
				if (h[0])
					strcat(h, " ");
				strcat(h, s->str.s);
			}
			rd->hint = h;
		}
	}
	/* A capture nobody reads is probably a typo in a rule. */
	for (unsigned i = 0; i < rd->pat.n_caps; i++) {
		bool used = false;
		for (uint32_t j = 0; j < c->n_used_caps; j++)
			if (strcmp(c->used_caps[j], rd->pat.caps[i].name) == 0)
				used = true;
		for (uint32_t j = 0; j < c->n_res_caps; j++)
			if (strcmp(c->res_caps[j], rd->pat.caps[i].name) == 0)
				used = true;
		if (!used && rd->pat.caps[i].type != KC_CAP_TAIL) {
			kc_span at = ar->path.span;
			size_t mount_part = strlen(rd->pattern) - ar->path.len;
			if (rd->pat.caps[i].offset >= mount_part) {
				at.start += (uint32_t)(rd->pat.caps[i].offset - mount_part);
				at.end = at.start + rd->pat.caps[i].length;
			}
			warn(c, at, "capture '{%s}' is never used", rd->pat.caps[i].name);
		}
	}
	/* §2.5: on an `auth none` route the token is never read, so a rule
	 * that reads it would always see it missing. */
	if (rd->auth == KC_A_NONE) {
		for (int pass = 0; pass < 2; pass++) {
			const kc_rule *rules = pass ? rd->rules : res->rules;
			uint32_t n = pass ? rd->n_rules : res->n_rules;
			for (uint32_t i = 0; i < n; i++) {
				if (!rules[i].needs_token)
					continue;
				cc_err(c, rules[i].span, "this rule reads the token, but route '%s' is 'auth none'",
				    rd->pattern);
				kc_diag_note(c->d, ar->span, "the token is never read on this route, so the rule would always see it missing");
				kc_diag_hint(c->d, "use 'auth optional' to read a token when one is sent");
			}
		}
	}
	bool any_allow = false;
	for (uint32_t i = 0; i < rd->n_rules; i++)
		any_allow |= rd->rules[i].kind == KC_R_ALLOW;
	for (uint32_t i = 0; i < res->n_rules; i++)
		any_allow |= res->rules[i].kind == KC_R_ALLOW;
	if (!any_allow)
		warn(c, ar->span, "route '%s' has no allow rule: it refuses every request", rd->pattern);
	c->route = NULL;
	c->n_lets[2] = 0;
	c->p->n_routes++;
}

static void
compile_resource(cc *c, const kc_ast_resource *ar, kc_resource_def *res)
{
	kc_policy *p = c->p;
	res->name = dup(c, ar->name.s);
	res->span = ar->name.span;
	res->mount = ar->mount.s ? dup(c, ar->mount.s) : "/";
	res->auth = auth_of(ar->auth, KC_A_REQUIRED);
	res->accept = accept_mask(c, ar->accept, 0);
	for (uint32_t i = 0; i < p->n_resources; i++) {
		if (strcmp(p->resources[i].name, res->name) == 0) {
			cc_err(c, ar->name.span, "resource '%s' is defined twice", res->name);
			kc_diag_note(c->d, p->resources[i].span, "first defined here");
		}
	}
	c->resource = res;
	c->ast_resource = ar;
	cc_let_scope_push(c, 1, ar->lets);
	c->n_used_caps = 0;
	res->rules = compile_rules(c, ar->rules, &res->n_rules, "resource");
	res->exports = compile_exports(c, ar->exports, &res->n_exports);
	note_replaced_exports(c, res->exports, res->n_exports, p->exports, p->n_exports, "global");
	/* Resource-wide rules may read captures that every route binds. */
	const char *res_caps[64];
	uint32_t n_res_caps = c->n_used_caps < 64 ? c->n_used_caps : 64;
	memcpy(res_caps, c->used_caps, n_res_caps * sizeof(*res_caps));
	c->res_caps = res_caps;
	c->n_res_caps = n_res_caps;
	for (const kc_ast_route *r = ar->routes; r != NULL; r = r->next) {
		kc_route_def *rd = &p->routes[p->n_routes];
		uint32_t before = p->n_routes;
		compile_route(c, res, r, rd);
		if (p->n_routes == before)
			continue;
		for (uint32_t i = 0; i < n_res_caps; i++) {
			bool bound = false;
			for (unsigned j = 0; j < rd->pat.n_caps; j++)
				if (strcmp(rd->pat.caps[j].name, res_caps[i]) == 0)
					bound = true;
			if (!bound) {
				cc_err(c, r->path.span, "route '%s' does not bind '{%s}', which a rule of resource '%s' reads",
				    rd->pattern, res_caps[i], res->name);
			}
		}
	}
	c->n_lets[1] = 0;
	c->resource = NULL;
	c->res_caps = NULL;
	c->n_res_caps = 0;
	p->n_resources++;
}

static void
build_index(cc *c)
{
	kc_policy *p = c->p;
	p->index = kc_routes_new();
	if (p->index == NULL)
		return;
	for (uint32_t i = 0; i < p->n_routes; i++) {
		kc_route_def *rd = &p->routes[i];
		uint32_t other = 0;
		char msg[200];
		int r = kc_routes_add(p->index, rd->pattern, strlen(rd->pattern), rd->methods, rd->id,
		    &other, msg, sizeof(msg));
		if (r == -1) {
			cc_err(c, rd->span, "%s", msg);
		} else if (r == -2) {
			const kc_route_def *o = &p->routes[other];
			cc_err(c, rd->span, "route '%s' is defined twice", rd->pattern);
			kc_diag_note(c->d, o->span, "also defined here (resource %s, mount %s)",
			    o->resource->name, o->resource->mount);
			kc_diag_note(c->d, (kc_span){ 0 },
			    "both match the same requests; keycard never picks a route by file order");
			kc_diag_hint(c->d, "delete one, or make them differ (e.g. {id:int} vs {id:uuid}, or other methods)");
		}
	}
}

static void
compile_program(cc *c, const kc_policy_files *files)
{
	kc_policy *p = c->p;
	uint32_t n_routes = 0, n_gates = 0;
	kc_ast_let *global_lets = NULL, **tail = &global_lets;
	for (size_t f = 0; f < files->n; f++) {
		for (kc_ast_item *it = files->files[f].ast->items; it != NULL; it = it->next) {
			if (it->kind == KC_I_RESOURCE)
				for (kc_ast_route *r = it->resource->routes; r != NULL; r = r->next)
					n_routes++;
			if (it->kind == KC_I_LET && it->let != NULL) {
				/* Gather every file's lets into one global scope. */
				kc_ast_let *copy = kc_arena_alloc(c->tmp, sizeof(*copy));
				if (copy != NULL) {
					*copy = *it->let;
					copy->next = NULL;
					*tail = copy;
					tail = &copy->next;
				}
			}
			if (it->kind == KC_I_GATE)
				for (kc_ast_rule *r = it->rules; r != NULL; r = r->next)
					n_gates++;
		}
	}
	p->routes = zalloc(c, n_routes * sizeof(*p->routes));
	if (p->routes == NULL)
		return;
	cc_let_scope_push(c, 0, global_lets);

	/* Gates: every file's, in file order, as one list. */
	kc_ast_rule *all = NULL, **gt = &all;
	for (size_t f = 0; f < files->n; f++) {
		for (kc_ast_item *it = files->files[f].ast->items; it != NULL; it = it->next) {
			if (it->kind != KC_I_GATE)
				continue;
			for (kc_ast_rule *r = it->rules; r != NULL; r = r->next) {
				kc_ast_rule *copy = kc_arena_alloc(c->tmp, sizeof(*copy));
				if (copy == NULL)
					continue;
				*copy = *r;
				copy->next = NULL;
				*gt = copy;
				gt = &copy->next;
			}
		}
	}
	c->in_gate = true;
	p->gates = compile_rules(c, all, &p->n_gates, "gate");
	c->in_gate = false;
	(void)n_gates;

	for (size_t f = 0; f < files->n; f++) {
		for (kc_ast_item *it = files->files[f].ast->items; it != NULL; it = it->next) {
			if (it->kind == KC_I_EXPORT) {
				uint32_t n;
				kc_export *e = compile_exports(c, it->exports, &n);
				kc_export *all_e = zalloc(c, (p->n_exports + n) * sizeof(*all_e));
				if (e == NULL || all_e == NULL)
					continue;
				if (p->n_exports)
					memcpy(all_e, p->exports, p->n_exports * sizeof(*all_e));
				memcpy(all_e + p->n_exports, e, n * sizeof(*e));
				p->exports = all_e;
				p->n_exports += n;
			}
		}
	}
	for (size_t f = 0; f < files->n; f++)
		for (kc_ast_item *it = files->files[f].ast->items; it != NULL; it = it->next)
			if (it->kind == KC_I_RESOURCE)
				compile_resource(c, it->resource, &p->resources[p->n_resources]);
	for (uint32_t i = 0; i < c->n_lets[0]; i++)
		if (!c->lets[0][i].used)
			warn(c, c->lets[0][i].ast->name.span, "'%s' is never used", c->lets[0][i].ast->name.s);
	build_index(c);
}

/* ---- the entry point ---------------------------------------------------------------- */

kc_policy *
kc_policy_load(const char *path, const kc_policy_opts *opts, kc_diag *diag)
{
	static bool seeded;
	if (!seeded) {
		/* Once, before threads: the hash seed never changes afterwards. */
		if (RAND_bytes((unsigned char *)&hash_seed, sizeof(hash_seed)) != 1)
			hash_seed = 0x9e3779b97f4a7c15ull;
		seeded = true;
	}
	kc_policy *p = calloc(1, sizeof(*p));
	if (p == NULL)
		return NULL;
	p->arena = kc_arena_new(64 * 1024);
	p->diag = diag;
	if (p->arena == NULL) {
		free(p);
		return NULL;
	}
	/* Syntax trees and other compile-time-only data go to a scratch arena,
	 * freed once the program is built: the program never points into it. */
	kc_arena *tmp = kc_arena_new(64 * 1024);
	if (tmp == NULL) {
		kc_policy_free(p);
		return NULL;
	}
	cc c = { .p = p, .a = p->arena, .tmp = tmp, .d = diag, .opts = opts };
	kc_policy_files files;
	unsigned errors_before = kc_diag_errors(diag);
	bool parsed = kc_policy_files_load(path, tmp, diag, &files);
	if (parsed && count_items(&c, &files)) {
		declarations(&c, &files);
		compile_program(&c, &files);
		build_implies(&c, &files);
	}
	p->n_atoms = c.n_atoms;
	kc_policy_files_fini(&files);
	free(c.atoms);
	free(c.atom_sigs);
	free(c.atom_hash);
	free(c.aliases);
	kc_arena_free(tmp);
	if (!parsed || kc_diag_errors(diag) != errors_before) {
		kc_policy_free(p);
		return NULL;
	}
	return p;
}

void
kc_policy_free(kc_policy *p)
{
	if (p == NULL)
		return;
	for (uint32_t i = 0; i < p->n_issuers; i++)
		kc_verifier_free(p->issuers[i].verifier);
	kc_routes_free(p->index);
	kc_arena_free(p->arena);
	free(p);
}

const char *
kc_policy_realm(const kc_policy *p)
{
	return p->realm;
}

static const char *
auth_name(kc_auth a)
{
	return a == KC_A_NONE ? "none" : a == KC_A_OPTIONAL ? "optional" : "required";
}

void
kc_policy_print_routes(const kc_policy *p, FILE *f)
{
	static const char *const methods[] = { "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS" };
	for (uint32_t i = 0; i < p->n_routes; i++) {
		const kc_route_def *r = &p->routes[i];
		char m[64] = "";
		if (r->methods == KC_M_ANY) {
			snprintf(m, sizeof(m), "ANY");
		} else {
			for (int b = 0; b < 7; b++) {
				if (!(r->methods & (1u << b)))
					continue;
				if (m[0])
					strcat(m, "|");
				strcat(m, methods[b]);
			}
		}
		unsigned line = 0, col = 0;
		if (r->span.src != NULL)
			kc_source_position(r->span.src, r->span.start, &line, &col);
		uint32_t allows = 0, denies = 0;
		for (uint32_t j = 0; j < r->n_rules; j++)
			r->rules[j].kind == KC_R_ALLOW ? allows++ : denies++;
		fprintf(f, "%-16s %-40s auth %-8s resource %-12s %u allow, %u deny/require  %s:%u\n",
		    m, r->pattern, auth_name(r->auth), r->resource->name, allows, denies,
		    r->span.src ? kc_source_path(r->span.src) : "?", line);
	}
}

size_t
kc_policy_issuer_count(const kc_policy *p)
{
	return p->n_issuers;
}

void
kc_policy_issuer_info(const kc_policy *p, size_t i, const char **name, const char **iss,
    const char **audience, uint32_t *algs)
{
	const kc_issuer *is = &p->issuers[i];
	*name = is->name;
	*iss = is->iss;
	*audience = kc_verifier_audience(is->verifier);
	*algs = kc_verifier_algs(is->verifier);
}

static const kc_rule *
rule_at(const kc_policy *p, size_t i)
{
	if (i < p->n_gates)
		return &p->gates[i];
	i -= p->n_gates;
	for (uint32_t r = 0; r < p->n_resources; r++) {
		if (i < p->resources[r].n_rules)
			return &p->resources[r].rules[i];
		i -= p->resources[r].n_rules;
	}
	for (uint32_t r = 0; r < p->n_routes; r++) {
		if (i < p->routes[r].n_rules)
			return &p->routes[r].rules[i];
		i -= p->routes[r].n_rules;
	}
	return NULL;
}

size_t
kc_policy_rule_count(const kc_policy *p)
{
	size_t n = p->n_gates;
	for (uint32_t r = 0; r < p->n_resources; r++)
		n += p->resources[r].n_rules;
	for (uint32_t r = 0; r < p->n_routes; r++)
		n += p->routes[r].n_rules;
	return n;
}

void
kc_policy_rule_info(const kc_policy *p, size_t i, const char **kind, const char **label,
    kc_span *at)
{
	const kc_rule *r = rule_at(p, i);
	*kind = r == NULL ? NULL : r->kind == KC_R_ALLOW ? "allow" : r->kind == KC_R_DENY ? "deny" : "require";
	*label = r ? r->label : NULL;
	*at = r ? r->span : (kc_span){ 0 };
}
