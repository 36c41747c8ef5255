/*
 * The catalog side of the marketplace API: GET catalog (filters and sort
 * over the newest version of each plugin, with installed/enabled flags) and
 * the ratings (POST rate/{name}, GET ratings/{name}; one per user and
 * plugin). Validation here, the work in catalog.c. GET readme/{name}: a
 * plugin's README.md from its installed copy or the plugin directory (readme.c).
 */
#include "api_catalog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "api_call.h"
#include "market.h"
#include "readme.h"
#include "utf8.h"
#include "xmalloc.h"

#define PREFIX API_MARKETPLACE_PREFIX
#define REVIEW_MAX 4096

/* ---- GET catalog ---- */

static bool utf8(const char *s)
{
	return s == NULL || utf8_valid((const unsigned char *)s, strlen(s));
}

int api_catalog_filter(const char *sort, const char *q, const char *category, const char *type,
		       struct catalog_filter *f, char *err, size_t errlen)
{
	static const struct {
		const char *name;
		enum catalog_sort sort;
	} sorts[] = {
	    {"name", CATALOG_SORT_NAME},
	    {"popular", CATALOG_SORT_POPULAR},
	    {"rating", CATALOG_SORT_RATING},
	    {"newest", CATALOG_SORT_NEWEST},
	};
	size_t i;

	if ((q && strlen(q) > 256) || (category && strlen(category) > 128) ||
	    (type && strlen(type) > 128)) {
		snprintf(err, errlen, "q is limited to 256 bytes, category and type to 128");
		return -1;
	}
	if (!utf8(q) || !utf8(category) || !utf8(type)) {
		snprintf(err, errlen, "q, category and type must be UTF-8");
		return -1;
	}
	*f = (struct catalog_filter){
	    /* Empty filters are no filters. */
	    .q = q && *q ? q : NULL,
	    .category = category && *category ? category : NULL,
	    .type = type && *type ? type : NULL,
	    .sort = CATALOG_SORT_NAME,
	};
	if (sort == NULL || *sort == '\0')
		return 0;
	for (i = 0; i < sizeof sorts / sizeof *sorts; i++)
		if (strcmp(sort, sorts[i].name) == 0)
			break;
	if (i == sizeof sorts / sizeof *sorts) {
		snprintf(err, errlen, "sort must be one of popular, rating, newest, name");
		return -1;
	}
	f->sort = sorts[i].sort;
	return 0;
}

static void h_catalog(struct api_req *req, const char *rest, void *arg)
{
	char *q = api_query_param(req, "q"), *category = api_query_param(req, "category");
	char *type = api_query_param(req, "type"), *sort = api_query_param(req, "sort");
	struct catalog_filter f;
	char err[256];

	(void)rest;
	if (api_catalog_filter(sort, q, category, type, &f, err, sizeof err) < 0)
		api_reply_error(req, 400, "bad_field", "%s", err);
	else
		market_list(arg, &f, api_call_answered, req); /* the strings are copied */
	free(q);
	free(category);
	free(type);
	free(sort);
}

/* ---- POST rate/{name}, GET ratings/{name} ---- */

static void h_rate(struct api_req *req, const char *rest, void *arg)
{
	static const char *const allowed[] = {"rating", "review", NULL};
	char name[SS_NAME_MAX + 1];
	json_object *body = NULL, *v, *review = NULL;
	int64_t r;

	if (api_call_name(req, rest, name) < 0 || api_read_json(req, false, &body) < 0)
		return;
	if (api_call_only_fields(req, body, allowed) < 0)
		goto out;
	if (!json_object_object_get_ex(body, "rating", &v) ||
	    !json_object_is_type(v, json_type_int) || (r = json_object_get_int64(v)) < 1 || r > 5) {
		api_reply_error(req, 400, "bad_field", "rating must be an integer from 1 to 5");
		goto out;
	}
	if (json_object_object_get_ex(body, "review", &review) && review != NULL &&
	    (!json_object_is_type(review, json_type_string) ||
	     json_object_get_string_len(review) > REVIEW_MAX)) {
		api_reply_error(req, 400, "bad_field",
				"review must be a string of at most %d bytes", REVIEW_MAX);
		goto out;
	}
	if (review != NULL && api_call_storable(req, "review", review) < 0)
		goto out;
	market_rate(arg, name, api_req_user(req), (int)r,
		    review ? json_object_get_string(review) : NULL, api_call_answered, req);
out:
	json_object_put(body);
}

static void h_ratings(struct api_req *req, const char *rest, void *arg)
{
	char name[SS_NAME_MAX + 1];

	if (api_call_name(req, rest, name) < 0)
		return;
	market_ratings(arg, name, api_call_answered, req);
}

/* ---- GET readme/{name} ---- */

struct readme_call {
	struct api_req *req;
	char name[SS_NAME_MAX + 1];
};

static void readme_answer(void *arg, enum readme_status st, const char *text, size_t len,
			  const char *why)
{
	struct readme_call *rc = arg;
	json_object *body;

	if (st == README_NONE) {
		api_reply_error(
		    rc->req, 404, "not_found",
		    "%s has no README.md (in its installed copy or the plugin directory)",
		    rc->name);
	} else if (st == README_BAD) {
		api_reply_error(rc->req, 422, "bad_readme", "%s", why);
	} else {
		body = json_object_new_object();
		json_object_object_add(body, "plugin", json_object_new_string(rc->name));
		json_object_object_add(body, "format", json_object_new_string("markdown"));
		json_object_object_add(body, "readme", json_object_new_string_len(text, (int)len));
		api_reply_json(rc->req, 200, body);
	}
	free(rc);
}

static void h_readme(struct api_req *req, const char *rest, void *arg)
{
	struct readme_call *rc = xcalloc(1, sizeof *rc);

	if (api_call_name(req, rest, rc->name) < 0) {
		free(rc);
		return;
	}
	rc->req = req;
	readme_get(arg, rc->name, readme_answer, rc);
}

void api_catalog_register_readme(struct api *api, struct readme *rd)
{
	api_route(api, "GET", PREFIX "readme/", true, API_ROLE_VIEWER, h_readme, rd);
}

void api_catalog_register(struct api *api, struct market *cat)
{
	api_route(api, "GET", PREFIX "catalog", false, API_ROLE_VIEWER, h_catalog, cat);
	api_route(api, "POST", PREFIX "rate/", true, API_ROLE_VIEWER, h_rate, cat);
	api_route(api, "GET", PREFIX "ratings/", true, API_ROLE_VIEWER, h_ratings, cat);
}
