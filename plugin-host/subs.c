#include "subs.h"

#include <stdlib.h>
#include <string.h>

#include "names.h"
#include "xmalloc.h"

struct sub {
	char *pattern;
	ss_event_fn fn;
};

struct subs {
	struct sub *v;
	size_t n, cap;
};

struct subs *subs_new(void)
{
	return xcalloc(1, sizeof(struct subs));
}

void subs_free(struct subs *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i].pattern);
	free(s->v);
	free(s);
}

int subs_add(struct subs *s, const char *pattern, ss_event_fn fn)
{
	if (fn == NULL || !name_pattern_valid(pattern))
		return -1;
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].fn == fn && strcmp(s->v[i].pattern, pattern) == 0)
			return 0;
	if (s->n >= SUBS_MAX)
		return -1;
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 8;
		s->v = xrealloc(s->v, s->cap * sizeof *s->v);
	}
	s->v[s->n].pattern = xstrdup(pattern);
	s->v[s->n].fn = fn;
	s->n++;
	return 1;
}

size_t subs_remove(struct subs *s, const char *pattern)
{
	size_t o = 0, removed = 0;

	for (size_t i = 0; i < s->n; i++) {
		if (strcmp(s->v[i].pattern, pattern) == 0) {
			free(s->v[i].pattern);
			removed++;
			continue;
		}
		s->v[o++] = s->v[i];
	}
	s->n = o;
	return removed;
}

size_t subs_count(const struct subs *s)
{
	return s->n;
}

int subs_has_pattern(const struct subs *s, const char *pattern)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i].pattern, pattern) == 0)
			return 1;
	return 0;
}

long subs_next_match(const struct subs *s, const char *name, size_t *pos)
{
	for (size_t i = *pos; i < s->n; i++) {
		if (name_pattern_match(s->v[i].pattern, name)) {
			*pos = i + 1;
			return (long)i;
		}
	}
	*pos = s->n;
	return -1;
}

ss_event_fn subs_fn(const struct subs *s, size_t i)
{
	return i < s->n ? s->v[i].fn : NULL;
}

const char *subs_pattern(const struct subs *s, size_t i)
{
	return i < s->n ? s->v[i].pattern : NULL;
}

json_object *subs_patterns_json(const struct subs *s)
{
	json_object *a = json_object_new_array();

	for (size_t i = 0; i < s->n; i++) {
		int seen = 0;
		for (size_t j = 0; j < i && !seen; j++)
			seen = strcmp(s->v[j].pattern, s->v[i].pattern) == 0;
		if (!seen)
			json_object_array_add(a, json_object_new_string(s->v[i].pattern));
	}
	return a;
}
