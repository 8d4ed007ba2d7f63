/* load.c: read the main policy file and its includes into syntax trees.
 *
 * `include` takes a glob relative to the directory of the including file;
 * its matches are read in sorted order (glob(3) sorts), which can only ever
 * change the order of diagnostics: decisions never depend on file order.
 * Cycles and depth beyond KC_POLICY_MAX_INCLUDE_DEPTH are errors. */
#include "config.h"

#include "policy/load.h"

#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "policy/policy.h"

struct loader {
	kc_arena *arena;
	kc_diag *diag;
	kc_policy_files *out;
	char **seen;                 /* real paths of the files being included (stack) */
	size_t n_seen;
	char **all;                  /* real paths of every file read */
	size_t n_all;
};

static char *
dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	if (slash == NULL)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

static bool
push_file(struct loader *l, kc_ast_file *f, const char *path)
{
	if (l->out->n == l->out->cap) {
		size_t cap = l->out->cap ? l->out->cap * 2 : 16;
		kc_policy_file *nf = realloc(l->out->files, cap * sizeof(*nf));
		if (nf == NULL)
			return false;
		l->out->files = nf;
		l->out->cap = cap;
	}
	kc_policy_file *pf = &l->out->files[l->out->n++];
	pf->ast = f;
	pf->path = kc_arena_strndup(l->arena, path, strlen(path));
	return pf->path != NULL;
}

static void load_file(struct loader *l, const char *path, kc_span from, int depth);

static void
load_includes(struct loader *l, kc_ast_file *f, const char *path, int depth)
{
	char *dir = NULL;
	for (kc_ast_item *it = f->items; it != NULL; it = it->next) {
		if (it->kind != KC_I_INCLUDE || it->str.s == NULL)
			continue;
		if (dir == NULL && (dir = dir_of(path)) == NULL)
			return;
		char pattern[PATH_MAX];
		if (it->str.s[0] == '/')
			snprintf(pattern, sizeof(pattern), "%s", it->str.s);
		else
			snprintf(pattern, sizeof(pattern), "%s/%s", dir, it->str.s);
		glob_t g;
		/* No GLOB_ERR: a directory that does not exist matches nothing. */
		int r = glob(pattern, 0, NULL, &g);
		if (r == GLOB_NOMATCH) {
			kc_diag_report(l->diag, KC_SEV_ERROR, it->str.span,
			    "include '%s' matches no file", it->str.s);
			kc_diag_note(l->diag, (kc_span){ 0 }, "looked for %s", pattern);
		} else if (r != 0) {
			kc_diag_report(l->diag, KC_SEV_ERROR, it->str.span,
			    "include '%s' cannot be read", it->str.s);
		} else {
			for (size_t i = 0; i < g.gl_pathc; i++)
				load_file(l, g.gl_pathv[i], it->str.span, depth + 1);
		}
		if (r == 0)
			globfree(&g);
	}
	free(dir);
}

static void
load_file(struct loader *l, const char *path, kc_span from, int depth)
{
	if (depth > KC_POLICY_MAX_INCLUDE_DEPTH) {
		kc_diag_report(l->diag, KC_SEV_ERROR, from,
		    "includes nested deeper than %d files", KC_POLICY_MAX_INCLUDE_DEPTH);
		return;
	}
	char *real = realpath(path, NULL);
	if (real == NULL) {
		kc_diag_report(l->diag, KC_SEV_ERROR, from, "cannot open '%s': %s", path,
		    strerror(errno));
		return;
	}
	for (size_t i = 0; i < l->n_seen; i++) {
		if (strcmp(l->seen[i], real) == 0) {
			kc_diag_report(l->diag, KC_SEV_ERROR, from, "include cycle: '%s' includes itself",
			    path);
			kc_diag_hint(l->diag, "a file may be included once; remove the include that loops back");
			free(real);
			return;
		}
	}
	/* A file reached twice without a cycle (a diamond) is read once. */
	for (size_t i = 0; i < l->n_all; i++) {
		if (strcmp(l->all[i], real) == 0) {
			free(real);
			return;
		}
	}
	if (l->n_all >= KC_POLICY_MAX_FILES) {
		kc_diag_report(l->diag, KC_SEV_ERROR, from, "more than %d policy files",
		    KC_POLICY_MAX_FILES);
		free(real);
		return;
	}
	size_t len;
	char *text = kc_file_read(path, KC_POLICY_MAX_FILE, &len);
	if (text == NULL) {
		if (errno == EFBIG)
			kc_diag_report(l->diag, KC_SEV_ERROR, from, "'%s' is larger than %d bytes",
			    path, KC_POLICY_MAX_FILE);
		else
			kc_diag_report(l->diag, KC_SEV_ERROR, from, "cannot read '%s': %s", path,
			    strerror(errno));
		free(real);
		return;
	}
	const kc_source *src = kc_diag_add_source(l->diag, path, text, len);
	char **na = realloc(l->all, (l->n_all + 1) * sizeof(*na));
	char **ns = realloc(l->seen, (l->n_seen + 1) * sizeof(*ns));
	if (na != NULL)
		l->all = na;
	if (ns != NULL)
		l->seen = ns;
	if (src == NULL || na == NULL || ns == NULL) {
		kc_diag_report(l->diag, KC_SEV_ERROR, from, "out of memory");
		free(real);
		return;
	}
	l->all[l->n_all++] = strdup(real);
	l->seen[l->n_seen++] = real;
	kc_ast_file *f = kc_policy_parse(src, l->arena, l->diag);
	if (f != NULL) {
		if (!push_file(l, f, path))
			kc_diag_report(l->diag, KC_SEV_ERROR, from, "out of memory");
		load_includes(l, f, path, depth);
	}
	free(l->seen[--l->n_seen]);
}

bool
kc_policy_files_load(const char *path, kc_arena *arena, kc_diag *diag, kc_policy_files *out)
{
	struct loader l = { .arena = arena, .diag = diag, .out = out };
	unsigned before = kc_diag_errors(diag);
	memset(out, 0, sizeof(*out));
	load_file(&l, path, (kc_span){ 0 }, 0);
	for (size_t i = 0; i < l.n_all; i++)
		free(l.all[i]);
	free(l.all);
	free(l.seen);
	return kc_diag_errors(diag) == before && out->n > 0;
}

void
kc_policy_files_fini(kc_policy_files *f)
{
	free(f->files);
	memset(f, 0, sizeof(*f));
}
