/* diag.c: accumulate and print diagnostics with source lines and carets. */
#include "config.h"

#include "core/diag.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

struct kc_source {
	char *path;
	char *text;
	size_t len;
	uint32_t *lines;     /* byte offset of each line start */
	size_t n_lines;
};

struct note {
	kc_span at;
	char *msg;
};

struct entry {
	kc_severity sev;
	kc_span at;
	char *msg;
	struct note *notes;
	size_t n_notes;
	char **hints;
	size_t n_hints;
	char *fixit;
};

struct kc_diag {
	kc_source **sources;
	size_t n_sources;
	struct entry *entries;
	size_t n_entries, cap_entries;
	unsigned errors, warnings;
	bool dropping;       /* the last report was over the cap: drop its notes */
};

kc_diag *
kc_diag_new(void)
{
	return calloc(1, sizeof(kc_diag));
}

void
kc_diag_free(kc_diag *d)
{
	if (d == NULL)
		return;
	for (size_t i = 0; i < d->n_entries; i++) {
		struct entry *e = &d->entries[i];
		free(e->msg);
		for (size_t j = 0; j < e->n_notes; j++)
			free(e->notes[j].msg);
		free(e->notes);
		for (size_t j = 0; j < e->n_hints; j++)
			free(e->hints[j]);
		free(e->hints);
		free(e->fixit);
	}
	free(d->entries);
	for (size_t i = 0; i < d->n_sources; i++) {
		free(d->sources[i]->path);
		free(d->sources[i]->text);
		free(d->sources[i]->lines);
		free(d->sources[i]);
	}
	free(d->sources);
	free(d);
}

const kc_source *
kc_diag_add_source(kc_diag *d, const char *path, char *text, size_t len)
{
	kc_source *s = calloc(1, sizeof(*s));
	kc_source **ns = realloc(d->sources, (d->n_sources + 1) * sizeof(*ns));
	size_t n = 1;
	for (size_t i = 0; i < len; i++)
		if (text[i] == '\n')
			n++;
	uint32_t *lines = malloc(n * sizeof(*lines));
	if (s == NULL || ns == NULL || lines == NULL || (s->path = strdup(path)) == NULL) {
		free(s);
		free(lines);
		if (ns != NULL)
			d->sources = ns;
		free(text);
		return NULL;
	}
	d->sources = ns;
	lines[0] = 0;
	n = 1;
	for (size_t i = 0; i < len; i++)
		if (text[i] == '\n')
			lines[n++] = (uint32_t)(i + 1);
	s->text = text;
	s->len = len;
	s->lines = lines;
	s->n_lines = n;
	d->sources[d->n_sources++] = s;
	return s;
}

const char *kc_source_path(const kc_source *s) { return s->path; }

const char *
kc_source_text(const kc_source *s, size_t *len)
{
	if (len != NULL)
		*len = s->len;
	return s->text;
}

static size_t
line_index(const kc_source *s, uint32_t offset)
{
	size_t lo = 0, hi = s->n_lines;
	while (hi - lo > 1) {
		size_t mid = (lo + hi) / 2;
		if (s->lines[mid] <= offset)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

/* Display column (0-based) of byte offset within its line: code points,
 * tabs to the next multiple of 8. */
static unsigned
display_col(const kc_source *s, uint32_t line_start, uint32_t offset)
{
	unsigned col = 0;
	for (uint32_t i = line_start; i < offset && i < s->len; i++) {
		unsigned char c = (unsigned char)s->text[i];
		if (c == '\t')
			col = (col / 8 + 1) * 8;
		else if ((c & 0xc0) != 0x80)
			col++;
	}
	return col;
}

void
kc_source_position(const kc_source *s, uint32_t offset, unsigned *line, unsigned *col)
{
	if (offset > s->len)
		offset = (uint32_t)s->len;
	size_t li = line_index(s, offset);
	*line = (unsigned)li + 1;
	*col = display_col(s, s->lines[li], offset) + 1;
}

/* Formats a message and escapes control characters, so that a name quoted
 * from a policy (a string with "\n" in it) can never break the one-line
 * shape of a diagnostic or write to the terminal. */
static char *
vformat(const char *fmt, va_list ap)
{
	va_list ap2;
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return NULL;
	char *s = malloc((size_t)n + 1);
	if (s == NULL)
		return NULL;
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	size_t ctl = 0;
	for (int i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			ctl++;
	if (ctl == 0)
		return s;
	char *e = malloc((size_t)n + ctl * 3 + 1), *o = e;
	if (e == NULL) {
		free(s);
		return NULL;
	}
	for (int i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\n' || c == '\t') {
			*o++ = '\\';
			*o++ = c == '\n' ? 'n' : 't';
		} else if (c < 0x20 || c == 0x7f) {
			o += sprintf(o, "\\x%02x", c);
		} else {
			*o++ = (char)c;
		}
	}
	*o = '\0';
	free(s);
	return e;
}

void
kc_diag_vreport(kc_diag *d, kc_severity sev, kc_span at, const char *fmt, va_list ap)
{
	/* The same finding reached twice (a let used by two rules, a cycle seen
	 * from both ends) is reported once. */
	char *msg = vformat(fmt, ap);
	for (size_t i = 0; msg != NULL && at.src != NULL && i < d->n_entries; i++) {
		const struct entry *e = &d->entries[i];
		if (e->sev == sev && e->at.src == at.src && e->at.start == at.start && e->msg != NULL &&
		    strcmp(e->msg, msg) == 0) {
			free(msg);
			d->dropping = true;   /* and so are its notes */
			return;
		}
	}
	if (sev == KC_SEV_ERROR)
		d->errors++;
	else if (sev == KC_SEV_WARNING)
		d->warnings++;
	if (sev == KC_SEV_ERROR && d->errors > KC_DIAG_MAX_ERRORS) {
		free(msg);
		d->dropping = true;
		return;
	}
	d->dropping = false;
	if (d->n_entries == d->cap_entries) {
		size_t cap = d->cap_entries ? d->cap_entries * 2 : 16;
		struct entry *ne = realloc(d->entries, cap * sizeof(*ne));
		if (ne == NULL) {
			free(msg);
			d->dropping = true;
			return;
		}
		d->entries = ne;
		d->cap_entries = cap;
	}
	struct entry *e = &d->entries[d->n_entries++];
	memset(e, 0, sizeof(*e));
	e->sev = sev;
	e->at = at;
	e->msg = msg;
}

void
kc_diag_report(kc_diag *d, kc_severity sev, kc_span at, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	kc_diag_vreport(d, sev, at, fmt, ap);
	va_end(ap);
}

static struct entry *
last(kc_diag *d)
{
	return d->dropping || d->n_entries == 0 ? NULL : &d->entries[d->n_entries - 1];
}

void
kc_diag_note(kc_diag *d, kc_span at, const char *fmt, ...)
{
	struct entry *e = last(d);
	if (e == NULL)
		return;
	struct note *nn = realloc(e->notes, (e->n_notes + 1) * sizeof(*nn));
	if (nn == NULL)
		return;
	e->notes = nn;
	va_list ap;
	va_start(ap, fmt);
	nn[e->n_notes].at = at;
	nn[e->n_notes].msg = vformat(fmt, ap);
	va_end(ap);
	e->n_notes++;
}

void
kc_diag_hint(kc_diag *d, const char *fmt, ...)
{
	struct entry *e = last(d);
	if (e == NULL)
		return;
	char **nh = realloc(e->hints, (e->n_hints + 1) * sizeof(*nh));
	if (nh == NULL)
		return;
	e->hints = nh;
	va_list ap;
	va_start(ap, fmt);
	nh[e->n_hints++] = vformat(fmt, ap);
	va_end(ap);
}

void
kc_diag_fixit(kc_diag *d, const char *insert)
{
	struct entry *e = last(d);
	if (e != NULL) {
		free(e->fixit);
		e->fixit = strdup(insert);
	}
}

unsigned kc_diag_errors(const kc_diag *d) { return d->errors; }
unsigned kc_diag_warnings(const kc_diag *d) { return d->warnings; }

static const char *
sev_name(kc_severity s)
{
	return s == KC_SEV_ERROR ? "error" : s == KC_SEV_WARNING ? "warning" : "note";
}

/* Prints the line holding the span, with tabs expanded, then the caret. */
static void
quote(FILE *f, kc_span at, const char *fixit)
{
	const kc_source *s = at.src;
	size_t li = line_index(s, at.start);
	uint32_t ls = s->lines[li];
	uint32_t le = ls;
	while (le < s->len && s->text[le] != '\n' && s->text[le] != '\r')
		le++;
	fprintf(f, "%5zu | ", li + 1);
	unsigned col = 0;
	for (uint32_t i = ls; i < le; i++) {
		unsigned char c = (unsigned char)s->text[i];
		if (c == '\t') {
			unsigned next = (col / 8 + 1) * 8;
			for (; col < next; col++)
				fputc(' ', f);
		} else {
			/* Other control characters would garble the terminal. */
			fputc(c < 0x20 || c == 0x7f ? '?' : c, f);
			if ((c & 0xc0) != 0x80)
				col++;
		}
	}
	fputc('\n', f);
	unsigned start = display_col(s, ls, at.start);
	uint32_t end = at.end > at.start ? at.end : at.start + 1;
	if (end > le)
		end = le > at.start ? le : at.start + 1;
	unsigned stop = display_col(s, ls, end);
	if (stop <= start)
		stop = start + 1;
	fprintf(f, "      | %*s^", (int)start, "");
	for (unsigned i = start + 1; i < stop; i++)
		fputc('~', f);
	fputc('\n', f);
	if (fixit != NULL)
		fprintf(f, "      | %*s%s\n", (int)start, "", fixit);
}

static void
print_text(const kc_diag *d, FILE *f)
{
	for (size_t i = 0; i < d->n_entries; i++) {
		const struct entry *e = &d->entries[i];
		if (e->at.src != NULL) {
			unsigned line, col;
			kc_source_position(e->at.src, e->at.start, &line, &col);
			fprintf(f, "%s:%u:%u: %s: %s\n", e->at.src->path, line, col,
			    sev_name(e->sev), e->msg ? e->msg : "");
			quote(f, e->at, e->fixit);
		} else {
			fprintf(f, "keycard: %s: %s\n", sev_name(e->sev), e->msg ? e->msg : "");
		}
		for (size_t j = 0; j < e->n_notes; j++) {
			const struct note *n = &e->notes[j];
			if (n->at.src != NULL) {
				unsigned line, col;
				kc_source_position(n->at.src, n->at.start, &line, &col);
				fprintf(f, "%s:%u:%u: note: %s\n", n->at.src->path, line, col,
				    n->msg ? n->msg : "");
				quote(f, n->at, NULL);
			} else {
				fprintf(f, "   note: %s\n", n->msg ? n->msg : "");
			}
		}
		for (size_t j = 0; j < e->n_hints; j++)
			fprintf(f, "   hint: %s\n", e->hints[j] ? e->hints[j] : "");
	}
	if (d->errors > KC_DIAG_MAX_ERRORS)
		fprintf(f, "keycard: %u more errors not shown\n", d->errors - KC_DIAG_MAX_ERRORS);
}

static json_t *
span_json(kc_span at, const char *msg, kc_severity sev)
{
	json_t *o = json_object();
	if (at.src != NULL) {
		unsigned line, col, eline, ecol;
		kc_source_position(at.src, at.start, &line, &col);
		kc_source_position(at.src, at.end > at.start ? at.end : at.start, &eline, &ecol);
		json_object_set_new(o, "file", json_string(at.src->path));
		json_object_set_new(o, "line", json_integer(line));
		json_object_set_new(o, "column", json_integer(col));
		json_object_set_new(o, "end_line", json_integer(eline));
		json_object_set_new(o, "end_column", json_integer(ecol));
	}
	json_object_set_new(o, "severity", json_string(sev_name(sev)));
	json_object_set_new(o, "message", json_string(msg ? msg : ""));
	return o;
}

static void
print_json(const kc_diag *d, FILE *f)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < d->n_entries; i++) {
		const struct entry *e = &d->entries[i];
		json_t *o = span_json(e->at, e->msg, e->sev);
		json_t *notes = json_array(), *hints = json_array();
		for (size_t j = 0; j < e->n_notes; j++)
			json_array_append_new(notes, span_json(e->notes[j].at, e->notes[j].msg, KC_SEV_NOTE));
		for (size_t j = 0; j < e->n_hints; j++)
			json_array_append_new(hints, json_string(e->hints[j] ? e->hints[j] : ""));
		json_object_set_new(o, "notes", notes);
		json_object_set_new(o, "hints", hints);
		if (e->fixit != NULL)
			json_object_set_new(o, "fixit", json_string(e->fixit));
		json_array_append_new(arr, o);
	}
	json_dumpf(arr, f, JSON_INDENT(2));
	fputc('\n', f);
	json_decref(arr);
}

void
kc_diag_print(const kc_diag *d, FILE *f, bool json)
{
	if (json)
		print_json(d, f);
	else
		print_text(d, f);
}

unsigned
kc_edit_distance(const char *a, const char *b, unsigned cap)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 64 || lb > 64)
		return cap + 1;
	if ((la > lb ? la - lb : lb - la) > cap)
		return cap + 1;
	unsigned dist[65][65];
	for (size_t i = 0; i <= la; i++)
		dist[i][0] = (unsigned)i;
	for (size_t j = 0; j <= lb; j++)
		dist[0][j] = (unsigned)j;
	for (size_t i = 1; i <= la; i++) {
		for (size_t j = 1; j <= lb; j++) {
			unsigned cost = a[i - 1] == b[j - 1] ? 0 : 1;
			unsigned v = dist[i - 1][j] + 1;
			if (dist[i][j - 1] + 1 < v)
				v = dist[i][j - 1] + 1;
			if (dist[i - 1][j - 1] + cost < v)
				v = dist[i - 1][j - 1] + cost;
			/* A swap of two neighbours counts as one edit. */
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    dist[i - 2][j - 2] + 1 < v)
				v = dist[i - 2][j - 2] + 1;
			dist[i][j] = v;
		}
	}
	return dist[la][lb] > cap ? cap + 1 : dist[la][lb];
}
