/*
 * A list, not a hash: a channel has a handful of requests outstanding
 * (a ping, a config, the host's calls), and the oldest first is what the
 * deadline check wants.
 */
#include "pending.h"

#include <stdlib.h>

#include "clock.h"
#include "xmalloc.h"

TAILQ_HEAD(pending_list, pending_req);

struct pending {
	struct pending_list reqs;
};

struct pending *pending_new(void)
{
	struct pending *t = xcalloc(1, sizeof *t);
	TAILQ_INIT(&t->reqs);
	return t;
}

void pending_free(struct pending *t)
{
	struct pending_req *r;

	if (t == NULL)
		return;
	while ((r = TAILQ_FIRST(&t->reqs)) != NULL)
		pending_remove(t, r);
	free(t);
}

struct pending_req *pending_add(struct pending *t, int64_t id, const struct pending_kind *kind,
				int timeout_ms, void *ctx)
{
	struct pending_req *r = xcalloc(1, sizeof *r);

	r->id = id;
	r->kind = kind;
	r->timeout_ms = timeout_ms;
	r->deadline_ms = timeout_ms > 0 ? clock_mono_ms() + timeout_ms : 0;
	r->ctx = ctx;
	TAILQ_INSERT_TAIL(&t->reqs, r, entry);
	return r;
}

void pending_remove(struct pending *t, struct pending_req *r)
{
	TAILQ_REMOVE(&t->reqs, r, entry);
	free(r);
}

void pending_answer(struct pending *t, struct pending_req *r, json_object *m)
{
	const struct pending_kind *kind = r->kind;
	void *ctx = r->ctx;

	pending_remove(t, r);
	if (kind->answered != NULL)
		kind->answered(ctx, m);
}

void pending_expire(struct pending *t, struct pending_req *r)
{
	const struct pending_kind *kind = r->kind;
	void *ctx = r->ctx;

	pending_remove(t, r);
	if (kind->overdue != NULL)
		kind->overdue(ctx);
	else if (kind->abandoned != NULL)
		kind->abandoned(ctx);
}

void pending_shift(struct pending *t, int64_t ms)
{
	struct pending_req *r;

	TAILQ_FOREACH(r, &t->reqs, entry)
	{
		if (r->kind->pauses && r->deadline_ms != 0)
			r->deadline_ms += ms;
	}
}

size_t pending_count_kind(const struct pending *t, const struct pending_kind *kind)
{
	struct pending_req *r;
	size_t n = 0;

	TAILQ_FOREACH(r, &t->reqs, entry)
	{
		n += r->kind == kind;
	}
	return n;
}

void pending_abandon_all(struct pending *t)
{
	struct pending_req *r;

	while ((r = TAILQ_FIRST(&t->reqs)) != NULL) {
		const struct pending_kind *kind = r->kind;
		void *ctx = r->ctx;
		pending_remove(t, r);
		if (kind->abandoned != NULL)
			kind->abandoned(ctx);
	}
}

struct pending_req *pending_find(const struct pending *t, int64_t id, bool from_host)
{
	struct pending_req *r;

	TAILQ_FOREACH(r, &t->reqs, entry)
	{
		if (r->id == id && r->kind->from_host == from_host)
			return r;
	}
	return NULL;
}

struct pending_req *pending_first(const struct pending *t)
{
	return TAILQ_FIRST(&t->reqs);
}

bool pending_has_kind(const struct pending *t, const struct pending_kind *kind)
{
	struct pending_req *r;

	TAILQ_FOREACH(r, &t->reqs, entry)
	{
		if (r->kind == kind)
			return true;
	}
	return false;
}

struct pending_req *pending_overdue(const struct pending *t, int64_t now_ms, bool paused)
{
	struct pending_req *r;

	TAILQ_FOREACH(r, &t->reqs, entry)
	{
		if (r->deadline_ms != 0 && now_ms > r->deadline_ms && !(paused && r->kind->pauses))
			return r;
	}
	return NULL;
}
