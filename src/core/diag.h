/* diag.h: diagnostics for policy authors, GNU style, with the source line
 * and a caret:
 *
 *   policies/api.kc:12:20: error: unknown claim 'scp' (did you mean 'scope'?)
 *      12 |     allow if token.scp has "read"
 *         |                    ^~~
 *
 * Every location is a byte span into a registered source; line and column
 * are worked out only when printing (columns start at 1, count code points,
 * and a tab advances to the next multiple of 8). Diagnostics accumulate;
 * after KC_DIAG_MAX_ERRORS errors further ones are counted, not kept. */
#ifndef KC_CORE_DIAG_H
#define KC_CORE_DIAG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define KC_DIAG_MAX_ERRORS 20

typedef struct kc_source kc_source;
typedef struct kc_diag kc_diag;

typedef struct kc_span {
	const kc_source *src;   /* NULL: no location */
	uint32_t start, end;    /* byte offsets, end exclusive */
} kc_span;

typedef enum kc_severity { KC_SEV_ERROR, KC_SEV_WARNING, KC_SEV_NOTE } kc_severity;

kc_diag *kc_diag_new(void);
void kc_diag_free(kc_diag *d);

/* Registers a source. Takes ownership of text (malloc'd, len bytes, NUL
 * terminated). The source lives as long as the kc_diag. */
const kc_source *kc_diag_add_source(kc_diag *d, const char *path, char *text, size_t len);
const char *kc_source_path(const kc_source *s);
const char *kc_source_text(const kc_source *s, size_t *len);
/* 1-based line and column of a byte offset. */
void kc_source_position(const kc_source *s, uint32_t offset, unsigned *line, unsigned *col);

/* Adds a diagnostic; the following kc_diag_note/hint/fixit attach to it. */
void kc_diag_report(kc_diag *d, kc_severity sev, kc_span at, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void kc_diag_vreport(kc_diag *d, kc_severity sev, kc_span at, const char *fmt, va_list ap);
/* A note with a location (printed with its own source line) or without. */
void kc_diag_note(kc_diag *d, kc_span at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void kc_diag_hint(kc_diag *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Text to insert at the start of the last diagnostic's span, shown under
 * the caret (for a missing ';'). */
void kc_diag_fixit(kc_diag *d, const char *insert);

unsigned kc_diag_errors(const kc_diag *d);
unsigned kc_diag_warnings(const kc_diag *d);

/* Prints everything in the order it was reported.
 * json: one JSON array of objects {file, line, column, end_line, end_column,
 * severity, message, notes: [...], hints: [...], fixit}. */
void kc_diag_print(const kc_diag *d, FILE *f, bool json);

/* Damerau-Levenshtein distance, capped: returns cap+1 when larger. */
unsigned kc_edit_distance(const char *a, const char *b, unsigned cap);

#endif
