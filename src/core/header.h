/* header.h: one HTTP request header, as every stage sees it (borrowed). */
#ifndef KC_CORE_HEADER_H
#define KC_CORE_HEADER_H

#include <stddef.h>

typedef struct kc_header {
	const char *name;           /* HTTP name, any case: "Authorization" */
	size_t name_len;
	const char *value;
	size_t value_len;
} kc_header;

#endif
