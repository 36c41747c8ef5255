#include "egressreq.h"

#include <ctype.h>
#include <stdbool.h>
#include <curl/curl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "proute.h"
#include "xmalloc.h"

#define URL_MAX 8192

static const char *const methods[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"};

/* Beyond the hop-by-hop ones, headers the daemon sets for the request: the target, no 100-continue.
 */
static const char *const owned[] = {"host", "expect"};

void egress_req_clear(struct egress_req *r)
{
	if (r == NULL)
		return;
	free(r->method);
	free(r->url);
	free(r->host);
	for (size_t i = 0; i < r->nheaders; i++)
		free(r->headers[i]);
	free(r->headers);
	free(r->body);
	free(r->ca);
	memset(r, 0, sizeof *r);
}

bool egress_host_allowed(json_object *allowed_hosts, const char *host)
{
	size_t n, hl = strlen(host);

	if (allowed_hosts == NULL || !json_object_is_type(allowed_hosts, json_type_array))
		return true;
	n = json_object_array_length(allowed_hosts);
	for (size_t i = 0; i < n; i++) {
		const char *a = json_object_get_string(json_object_array_get_idx(allowed_hosts, i));
		size_t al;

		if (a == NULL)
			continue;
		if (strcasecmp(a, host) == 0)
			return true;
		/* "*.example.com": a name ending in ".example.com", with something before. */
		al = strlen(a);
		if (al > 2 && a[0] == '*' && a[1] == '.' && hl > al - 1 &&
		    strcasecmp(host + hl - (al - 1), a + 1) == 0)
			return true;
	}
	return false;
}

__attribute__((format(printf, 5, 6))) static int fail(const char **code, const char *c, char *why,
						      size_t len, const char *fmt, ...)
{
	va_list ap;

	*code = c;
	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
	return -1;
}

/* Parses and checks the URL into out->url and out->host. */
static int check_url(const char *url, struct egress_req *out, const char **code, char *why,
		     size_t len)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *user = NULL, *pass = NULL, *host = NULL, *frag = NULL;
	int rc = -1;

	if (strlen(url) > URL_MAX || strpbrk(url, "\r\n\t ") != NULL ||
	    curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK) {
		fail(code, "bad_request", why, len, "the url \"%.80s\" is not a usable URL", url);
		goto done;
	}
	curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
	curl_url_get(u, CURLUPART_USER, &user, 0);
	curl_url_get(u, CURLUPART_PASSWORD, &pass, 0);
	curl_url_get(u, CURLUPART_HOST, &host, 0);
	curl_url_get(u, CURLUPART_FRAGMENT, &frag, 0);
	if (scheme == NULL || (strcmp(scheme, "https") != 0 && strcmp(scheme, "http") != 0)) {
		fail(code, "bad_request", why, len, "egress is http or https only, not %s",
		     scheme ? scheme : "(none)");
		goto done;
	}
	if (user != NULL || pass != NULL) {
		fail(code, "bad_request", why, len,
		     "the url may not hold a user or password (send an Authorization header)");
		goto done;
	}
	if (host == NULL || host[0] == '\0') {
		fail(code, "bad_request", why, len, "the url has no host");
		goto done;
	}
	for (char *p = host; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	if (frag != NULL)
		curl_url_set(u, CURLUPART_FRAGMENT, NULL, 0);
	{
		char *norm = NULL;
		curl_url_get(u, CURLUPART_URL, &norm, 0);
		out->url = xstrdup(norm ? norm : url);
		curl_free(norm);
	}
	out->host = xstrdup(host);
	rc = 0;
done:
	curl_free(scheme);
	curl_free(user);
	curl_free(pass);
	curl_free(host);
	curl_free(frag);
	curl_url_cleanup(u);
	return rc;
}

static int check_headers(json_object *h, struct egress_req *out, const char **code, char *why,
			 size_t len)
{
	if (h == NULL)
		return 0;
	if (!json_object_is_type(h, json_type_object) ||
	    json_object_object_length(h) > EGRESS_HEADERS_MAX)
		return fail(code, "bad_request", why, len,
			    "headers are an object of at most %d strings", EGRESS_HEADERS_MAX);
	out->headers = xcalloc((size_t)json_object_object_length(h) + 1, sizeof *out->headers);
	json_object_object_foreach(h, name, val)
	{
		const char *v = json_object_get_string(val);
		bool ok =
		    json_object_is_type(val, json_type_string) && http_header_syntax_ok(name, v);

		for (size_t i = 0; ok && i < sizeof owned / sizeof *owned; i++)
			ok = strcasecmp(name, owned[i]) != 0;
		if (ok)
			ok = !http_header_hop_by_hop(name);
		if (!ok)
			return fail(code, "bad_request", why, len,
				    "header \"%.64s\" may not be sent by a plugin", name);
		out->headers[out->nheaders++] = xasprintf("%s: %s", name, v);
	}
	return 0;
}

int egress_req_parse(json_object *m, json_object *allowed_hosts, const struct egress_limits *lim,
		     struct egress_req *out, const char **code, char *why, size_t len)
{
	json_object *v;
	const char *method = "GET", *url = NULL;

	memset(out, 0, sizeof *out);
	out->timeout_ms = lim->timeout_default_ms;
	if (json_object_object_get_ex(m, "method", &v)) {
		method = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";
		bool known = false;
		for (size_t i = 0; i < sizeof methods / sizeof *methods; i++)
			known = known || strcmp(method, methods[i]) == 0;
		if (!known)
			return fail(code, "bad_request", why, len,
				    "method \"%.16s\" is not GET, HEAD, POST, PUT, PATCH or DELETE",
				    method);
	}
	if (json_object_object_get_ex(m, "url", &v) && json_object_is_type(v, json_type_string))
		url = json_object_get_string(v);
	if (url == NULL)
		return fail(code, "bad_request", why, len, "a url (string) is required");
	if (json_object_object_get_ex(m, "timeout_ms", &v)) {
		int64_t t = json_object_get_int64(v);
		if (!json_object_is_type(v, json_type_int) || t < 1 || t > lim->timeout_max_ms) {
			return fail(code, "bad_request", why, len,
				    "timeout_ms is an integer from 1 to %ld", lim->timeout_max_ms);
		}
		out->timeout_ms = (long)t;
	}
	out->method = xstrdup(method);
	if (check_url(url, out, code, why, len) < 0)
		goto bad;
	if (!egress_host_allowed(allowed_hosts, out->host)) {
		fail(code, "permission_denied", why, len,
		     "host %.200s is not in the manifest's allowedHosts", out->host);
		goto bad;
	}
	if (check_headers(json_object_object_get_ex(m, "headers", &v) ? v : NULL, out, code, why,
			  len) < 0)
		goto bad;
	if (json_object_object_get_ex(m, "body", &v)) {
		if (!json_object_is_type(v, json_type_string)) {
			fail(code, "bad_request", why, len, "the body is a string");
			goto bad;
		}
		size_t n = (size_t)json_object_get_string_len(v);
		if (n > lim->body_max) {
			fail(code, "too_large", why, len, "the body is over %zu bytes",
			     lim->body_max);
			goto bad;
		}
		out->body = xmalloc(n + 1);
		memcpy(out->body, json_object_get_string(v), n + 1);
		out->body_len = n;
	}
	if (json_object_object_get_ex(m, "ca", &v)) {
		/* Checked for shape only: the TLS library judges the certificates. */
		if (!json_object_is_type(v, json_type_string) ||
		    (size_t)json_object_get_string_len(v) > EGRESS_CA_MAX ||
		    strstr(json_object_get_string(v), "-----BEGIN CERTIFICATE-----") == NULL) {
			fail(code, "bad_request", why, len,
			     "ca is PEM text of at most %d bytes holding a certificate",
			     EGRESS_CA_MAX);
			goto bad;
		}
		out->ca = xstrdup(json_object_get_string(v));
	}
	return 0;
bad:
	egress_req_clear(out);
	return -1;
}

/*
 * The origin only (scheme://host[:port]): a webhook URL carries its
 * credential in the path (hooks.slack.com/services/T/B/SECRET,
 * discord.com/api/webhooks/ID/TOKEN), so neither path nor query is logged.
 */
void egress_req_describe(const struct egress_req *r, char *buf, size_t len)
{
	const char *sep = strstr(r->url, "://");
	size_t cut =
	    sep ? (size_t)(sep + 3 - r->url) + strcspn(sep + 3, "/?#") : strcspn(r->url, "/?");
	bool more = r->url[cut] != '\0' && strcmp(r->url + cut, "/") != 0;
	snprintf(buf, len, "%s %.*s%s", r->method, (int)(cut < 512 ? cut : 512), r->url,
		 more ? "/..." : "");
}
