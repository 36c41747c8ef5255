/*
 * PostgreSQL array literals ('{"a","b",NULL}') built as text, for the
 * unnest($n::type[]) parameters that let one statement take a batch.
 */
#ifndef SS_PGARRAY_H
#define SS_PGARRAY_H

#include <stddef.h>

struct pgarray {
	char *p; /* NULL until the first element; the caller frees it */
	size_t len, cap, n;
};

/* Appends one element, quoted (only '"' and '\\' need a backslash inside quotes). */
void pgarray_elem(struct pgarray *a, const char *s, size_t len);
/* Appends a NULL element. */
void pgarray_null(struct pgarray *a);
/* The finished literal ("{}" when empty), owned by a until it is freed. */
const char *pgarray_close(struct pgarray *a);
void pgarray_free(struct pgarray *a);

#endif
