/*
 * Egress calls: check, fetch, follow redirects one hop at a time (each a new
 * checked request), answer {status, headers, body}. Log lines name the
 * method and the URL without its query; headers and bodies are never logged.
 */
#include "egress.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "clock.h"
#include "egressreq.h"
#include "fetch.h"
#include "log.h"
#include "msg.h"
#include "utf8.h"
#include "xmalloc.h"

struct job {
	struct egress *eg;
	struct call *call;
	struct egress_req req;
	struct fetch_xfer *x;
	json_object *hosts; /* the plugin's allowedHosts (a reference), or NULL */
	int hops;
	int64_t deadline_ms; /* of the whole call, redirects included */
	LIST_ENTRY(job) entry;
};

struct egress {
	struct fetch *f;
	bool allow_private;
	char **connect_to; /* NULL-terminated copies, or NULL */
	struct egress_limits lim;
	size_t max_bytes;
	json_object *hosts; /* plugin name -> allowedHosts */
	LIST_HEAD(, job) jobs;
};

static void job_free(struct job *j)
{
	LIST_REMOVE(j, entry);
	egress_req_clear(&j->req);
	json_object_put(j->hosts);
	free(j);
}

static void start(struct job *j);

/* The answer's header lines as an object: lower-case names, repeats joined by ", ". */
static json_object *headers_object(const char *lines)
{
	json_object *h = json_object_new_object();

	for (const char *p = lines; p != NULL && *p != '\0';) {
		const char *eol = strstr(p, "\r\n"), *colon;
		size_t n = eol ? (size_t)(eol - p) : strlen(p);

		colon = memchr(p, ':', n);
		if (colon != NULL && colon > p && strncmp(p, "HTTP/", 5) != 0) {
			char *name = xstrndup(p, (size_t)(colon - p));
			const char *v = colon + 1, *end = p + n;
			json_object *old = NULL;

			for (char *c = name; *c; c++)
				*c = (char)(*c >= 'A' && *c <= 'Z' ? *c + 32 : *c);
			while (v < end && (*v == ' ' || *v == '\t'))
				v++;
			char *val = xstrndup(v, (size_t)(end - v));
			if (utf8_valid((const unsigned char *)val, strlen(val)) &&
			    utf8_valid((const unsigned char *)name, strlen(name))) {
				if (json_object_object_get_ex(h, name, &old)) {
					char *joined =
					    xasprintf("%s, %s", json_object_get_string(old), val);
					json_object_object_add(h, name,
							       json_object_new_string(joined));
					free(joined);
				} else {
					json_object_object_add(h, name,
							       json_object_new_string(val));
				}
			}
			free(val);
			free(name);
		}
		p = eol ? eol + 2 : NULL;
	}
	return h;
}

/* The Location of a redirect answer, or NULL. */
static const char *redirect_location(json_object *headers, long code)
{
	json_object *loc = NULL;

	if (code != 301 && code != 302 && code != 303 && code != 307 && code != 308)
		return NULL;
	if (!json_object_object_get_ex(headers, "location", &loc))
		return NULL;
	return json_object_get_string(loc);
}

/*
 * Replaces j->req by the request for location (resolved against the current
 * URL), checked as a new request from the plugin. 0, or -1 after answering.
 */
static int follow(struct job *j, const char *location, long code)
{
	char why[256], desc[512];
	const char *ecode = ERR_BAD_REQUEST;
	char *next = NULL;
	CURLU *u = curl_url();
	json_object *m = json_object_new_object();
	struct egress_req nr;
	int64_t left = j->deadline_ms - clock_mono_ms();
	bool same_method =
	    code == 307 || code == 308 || (code != 303 && strcmp(j->req.method, "POST") != 0);

	if (++j->hops > EGRESS_REDIRECTS_MAX || left <= 0) {
		call_error(j->call, left <= 0 ? ERR_TIMEOUT : ERR_UNAVAILABLE,
			   left <= 0 ? "the request took longer than its timeout"
				     : "more than %d redirects",
			   EGRESS_REDIRECTS_MAX);
		goto fail;
	}
	if (curl_url_set(u, CURLUPART_URL, j->req.url, 0) != CURLUE_OK ||
	    curl_url_set(u, CURLUPART_URL, location, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_URL, &next, 0) != CURLUE_OK) {
		call_error(j->call, ERR_UNAVAILABLE, "a redirect to an unusable location");
		goto fail;
	}
	msg_add_str(m, "url", next);
	msg_add_str(m, "method", same_method ? j->req.method : "GET");
	msg_add_int(m, "timeout_ms", left);
	if (same_method && j->req.body != NULL)
		json_object_object_add(
		    m, "body", json_object_new_string_len(j->req.body, (int)j->req.body_len));
	if (egress_req_parse(m, j->hosts, &j->eg->lim, &nr, &ecode, why, sizeof why) < 0) {
		log_warn(call_plugin(j->call), "egress: redirect refused: %s",
			 strcmp(ecode, ERR_PERMISSION) == 0 ? why : ecode);
		call_error(j->call, ecode, "redirect: %s", why);
		goto fail;
	}
	/* The plugin's headers (its tokens) go to the host it named, and only there. */
	if (strcmp(nr.host, j->req.host) == 0) {
		nr.headers = j->req.headers;
		nr.nheaders = j->req.nheaders;
		j->req.headers = NULL;
		j->req.nheaders = 0;
	}
	egress_req_clear(&j->req);
	j->req = nr;
	egress_req_describe(&j->req, desc, sizeof desc);
	log_debug(call_plugin(j->call), "egress: redirected (%ld) to %s", code, desc);
	curl_free(next);
	curl_url_cleanup(u);
	json_object_put(m);
	return 0;
fail:
	curl_free(next);
	curl_url_cleanup(u);
	json_object_put(m);
	return -1;
}

static void done(const struct fetch_result *r, void *arg)
{
	struct job *j = arg;
	json_object *fields, *headers;
	const char *loc;
	char desc[512];

	j->x = NULL;
	egress_req_describe(&j->req, desc, sizeof desc);
	if (!r->ok) {
		const char *check = r->check ? r->check : "network";
		log_info(call_plugin(j->call), "egress %s: %s (%s)", desc, check, r->error);
		if (strcmp(check, "timeout") == 0)
			call_error(j->call, ERR_TIMEOUT, "%s", r->error);
		else if (strcmp(check, "too-large") == 0)
			call_error(j->call, ERR_TOO_LARGE, "the answer is over %zu bytes: %s",
				   j->eg->max_bytes, r->error);
		else if (strcmp(check, "address") == 0)
			call_error(j->call, ERR_PERMISSION, "%s", r->error);
		else
			call_error(j->call, ERR_UNAVAILABLE, "%s: %s", check, r->error);
		job_free(j);
		return;
	}
	headers = headers_object(r->headers);
	loc = redirect_location(headers, r->http_code);
	if (loc != NULL) {
		int rc = follow(j, loc, r->http_code);
		json_object_put(headers);
		if (rc < 0)
			job_free(j);
		else
			start(j);
		return;
	}
	log_info(call_plugin(j->call), "egress %s: %ld, %zu bytes", desc, r->http_code, r->len);
	if (r->body != NULL && (memchr(r->body, '\0', r->len) != NULL ||
				!utf8_valid((const unsigned char *)r->body, r->len))) {
		json_object_put(headers);
		call_error(j->call, ERR_UNIMPLEMENTED,
			   "the answer's body is not UTF-8 text (binary bodies are not served)");
		job_free(j);
		return;
	}
	fields = json_object_new_object();
	msg_add_int(fields, "status", r->http_code);
	json_object_object_add(fields, "headers", headers);
	json_object_object_add(fields, "body",
			       json_object_new_string_len(r->body ? r->body : "", (int)r->len));
	call_ok(j->call, fields);
	job_free(j);
}

static void start(struct job *j)
{
	char err[256];
	struct fetch_opts o = {
	    .url = j->req.url,
	    .protocols = "http,https",
	    .connect_timeout_ms = j->req.timeout_ms < 10000 ? j->req.timeout_ms : 10000,
	    .total_timeout_ms = j->req.timeout_ms,
	    .max_bytes = j->eg->max_bytes,
	    .max_redirects = 0, /* followed by follow(), each hop checked */
	    .fd = -1,
	    .refuse_private = !j->eg->allow_private,
	    .method = j->req.method,
	    .headers = (const char *const *)j->req.headers,
	    .body = j->req.body,
	    .body_len = j->req.body_len,
	    .any_status = true,
	    .keep_headers = true,
	    .connect_to = (const char *const *)j->eg->connect_to,
	    .ca_pem = j->req.ca,
	};

	j->x = fetch_start(j->eg->f, &o, done, j, err, sizeof err);
	if (j->x == NULL) {
		call_error(j->call, ERR_BAD_REQUEST, "%s", err);
		job_free(j);
	}
}

void egress_call(void *arg, struct call *call, json_object *m)
{
	struct egress *eg = arg;
	struct job *j;
	json_object *hosts = NULL;
	const char *code = ERR_BAD_REQUEST;
	char why[256], desc[512];

	/* Fail closed: a plugin whose manifest was not registered here gets no egress. */
	if (!json_object_object_get_ex(eg->hosts, call_plugin(call), &hosts)) {
		call_error(call, ERR_UNAVAILABLE,
			   "egress: the plugin's manifest was not registered");
		return;
	}
	j = xcalloc(1, sizeof *j);
	if (egress_req_parse(m, hosts, &eg->lim, &j->req, &code, why, sizeof why) < 0) {
		/* A URL the parser refused is quoted in why, its query perhaps with it. */
		log_warn(call_plugin(call), "egress refused: %s",
			 strcmp(code, ERR_PERMISSION) == 0 ? why : code);
		call_error(call, code, "%s", why);
		free(j);
		return;
	}
	j->eg = eg;
	j->call = call;
	j->hosts = json_object_get(hosts);
	j->deadline_ms = clock_mono_ms() + j->req.timeout_ms;
	LIST_INSERT_HEAD(&eg->jobs, j, entry);
	egress_req_describe(&j->req, desc, sizeof desc);
	log_debug(call_plugin(call), "egress %s", desc);
	start(j);
}

void egress_set_hosts(struct egress *eg, const char *plugin, json_object *allowed_hosts)
{
	/* json null: any host; an absent name: no egress at all (egress_call). */
	json_object_object_add(eg->hosts, plugin, json_object_get(allowed_hosts));
}

struct egress *egress_new(struct event_base *base, const struct egress_params *p, char *err,
			  size_t errlen)
{
	struct egress *eg = xcalloc(1, sizeof *eg);
	size_t n = 0;

	eg->f = fetch_new(base, NULL);
	if (p->extra_ca != NULL && fetch_add_ca(eg->f, p->extra_ca, err, errlen) < 0) {
		fetch_free(eg->f);
		free(eg);
		return NULL;
	}
	while (p->connect_to != NULL && p->connect_to[n] != NULL)
		n++;
	if (n > 0) {
		eg->connect_to = xcalloc(n + 1, sizeof *eg->connect_to);
		for (size_t i = 0; i < n; i++)
			eg->connect_to[i] = xstrdup(p->connect_to[i]);
	}
	eg->allow_private = p->allow_private;
	eg->lim = (struct egress_limits){.body_max = p->max_request_body,
					 .timeout_max_ms = p->timeout_ms,
					 .timeout_default_ms = p->timeout_ms};
	eg->max_bytes = p->max_bytes;
	eg->hosts = json_object_new_object();
	LIST_INIT(&eg->jobs);
	return eg;
}

void egress_free(struct egress *eg)
{
	if (eg == NULL)
		return;
	while (!LIST_EMPTY(&eg->jobs)) {
		struct job *j = LIST_FIRST(&eg->jobs);
		fetch_cancel(j->x);
		call_error(j->call, ERR_UNAVAILABLE, "the daemon is stopping");
		job_free(j);
	}
	fetch_free(eg->f);
	for (size_t i = 0; eg->connect_to != NULL && eg->connect_to[i] != NULL; i++)
		free(eg->connect_to[i]);
	free(eg->connect_to);
	json_object_put(eg->hosts);
	free(eg);
}
