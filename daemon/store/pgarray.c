/* PostgreSQL array literals as text (see pgarray.h). */
#include "pgarray.h"

#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"

static void put(struct pgarray *a, const char *s, size_t n)
{
	if (a->len + n + 2 > a->cap) {
		a->cap = (a->len + n + 2) * 2;
		a->p = xrealloc(a->p, a->cap);
	}
	memcpy(a->p + a->len, s, n);
	a->len += n;
	a->p[a->len] = '\0';
}

void pgarray_elem(struct pgarray *a, const char *s, size_t n)
{
	size_t i, from = 0;

	put(a, a->n++ == 0 ? "{\"" : ",\"", 2);
	for (i = 0; i < n; i++) {
		if (s[i] != '"' && s[i] != '\\')
			continue;
		put(a, s + from, i - from);
		put(a, "\\", 1);
		from = i;
	}
	put(a, s + from, n - from);
	put(a, "\"", 1);
}

void pgarray_null(struct pgarray *a)
{
	put(a, a->n++ == 0 ? "{NULL" : ",NULL", 5);
}

const char *pgarray_close(struct pgarray *a)
{
	if (a->n == 0)
		put(a, "{", 1);
	put(a, "}", 1);
	return a->p;
}

void pgarray_free(struct pgarray *a)
{
	free(a->p);
	*a = (struct pgarray){0};
}
