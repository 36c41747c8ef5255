/*
 * Recent rows (see recent.h): a list of chunks, oldest first, each a packed
 * run of rows ([head][type NUL][data NUL][origin NUL], 8-byte aligned). A chunk is filled to
 * CHUNK_BYTES (a larger row gets one of its own) and evicted whole, so memory is a few allocations,
 * not one per row.
 */
#include "recent.h"

#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "xmalloc.h"

#define CHUNK_BYTES (64 * 1024)

struct row_head {
	int64_t id;
	uint32_t tlen, dlen, olen; /* without their NULs; olen NO_ORIGIN: origin NULL */
	bool platform, own;
};

#define NO_ORIGIN UINT32_MAX

struct chunk {
	TAILQ_ENTRY(chunk) entry;
	int64_t last; /* the highest id in it */
	size_t used, cap;
	char *buf;
};

struct recent {
	TAILQ_HEAD(chunk_list, chunk) chunks;
	size_t bytes, max_bytes;
	int64_t low, high; /* covers (low, high] */
};

static size_t row_size(size_t tlen, size_t dlen, size_t olen)
{
	size_t n =
	    sizeof(struct row_head) + tlen + 1 + dlen + 1 + (olen == NO_ORIGIN ? 0 : olen + 1);

	return (n + 7) & ~(size_t)7;
}

struct recent *recent_new(size_t max_bytes, int64_t pos)
{
	struct recent *r = xcalloc(1, sizeof *r);

	TAILQ_INIT(&r->chunks);
	r->max_bytes = max_bytes;
	r->low = r->high = pos;
	return r;
}

static void chunk_drop(struct recent *r, struct chunk *c)
{
	TAILQ_REMOVE(&r->chunks, c, entry);
	r->bytes -= c->cap;
	free(c->buf);
	free(c);
}

void recent_reset(struct recent *r, int64_t pos)
{
	struct chunk *c;

	while ((c = TAILQ_FIRST(&r->chunks)) != NULL)
		chunk_drop(r, c);
	r->low = r->high = pos;
}

void recent_free(struct recent *r)
{
	if (r == NULL)
		return;
	recent_reset(r, 0);
	free(r);
}

void recent_add(struct recent *r, const struct outbox_row *row)
{
	size_t tlen = strlen(row->type), olen = row->origin ? strlen(row->origin) : NO_ORIGIN, need;
	struct chunk *c = TAILQ_LAST(&r->chunks, chunk_list);
	struct row_head h;
	char *p;

	if (row->id <= r->high || tlen >= NO_ORIGIN || row->len >= NO_ORIGIN ||
	    (row->origin && olen >= NO_ORIGIN)) {
		/* Out of order (a caller's bug) or absurd: cover nothing rather than lie. */
		recent_reset(r, row->id > r->high ? row->id : r->high);
		return;
	}
	need = row_size(tlen, row->len, olen);
	h = (struct row_head){row->id,	      (uint32_t)tlen, (uint32_t)row->len,
			      (uint32_t)olen, row->platform,  row->own};
	if (c == NULL || c->used + need > c->cap) {
		c = xcalloc(1, sizeof *c);
		c->cap = need > CHUNK_BYTES ? need : CHUNK_BYTES;
		c->buf = xmalloc(c->cap);
		TAILQ_INSERT_TAIL(&r->chunks, c, entry);
		r->bytes += c->cap;
	}
	p = c->buf + c->used;
	memcpy(p, &h, sizeof h);
	p += sizeof h;
	memcpy(p, row->type, tlen + 1);
	p += tlen + 1;
	memcpy(p, row->data, row->len);
	p[row->len] = '\0';
	p += row->len + 1;
	if (row->origin)
		memcpy(p, row->origin, olen + 1);
	c->used += need;
	c->last = row->id;
	r->high = row->id;
	/* Over the bound: the oldest chunks go, and the covered range starts after them. */
	while (r->bytes > r->max_bytes && (c = TAILQ_FIRST(&r->chunks)) != NULL &&
	       c != TAILQ_LAST(&r->chunks, chunk_list)) {
		r->low = c->last;
		chunk_drop(r, c);
	}
}

int recent_scan(const struct recent *r, int64_t after, int64_t upto, recent_fn fn, void *arg)
{
	const struct chunk *c;

	if (after < r->low || upto > r->high || after >= upto)
		return -1;
	TAILQ_FOREACH(c, &r->chunks, entry)
	{
		if (c->last <= after)
			continue;
		for (size_t off = 0; off < c->used;) {
			struct row_head h;
			struct outbox_row row;
			const char *p = c->buf + off;

			memcpy(&h, p, sizeof h);
			off += row_size(h.tlen, h.dlen, h.olen);
			if (h.id <= after)
				continue;
			if (h.id > upto)
				return 0;
			row.id = h.id;
			row.type = p + sizeof h;
			row.data = row.type + h.tlen + 1;
			row.len = h.dlen;
			row.origin = h.olen == NO_ORIGIN ? NULL : row.data + h.dlen + 1;
			row.platform = h.platform;
			row.own = h.own;
			if (!fn(&row, arg))
				return 0;
		}
	}
	return 0;
}
