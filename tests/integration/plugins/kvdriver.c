/*
 * kvdriver: runs the storage and emit calls a test asks for, one per
 * session.created event, and logs what each returned as one line
 * "res {json}" (tests/integration/pg/test_storage.py). The event's data says
 * what to do: {"seq": n, "op": "get"|"set"|"ttl"|"cas"|"delete"|"clear"|
 * "list"|"big"|"emit"|"http"|"http_n", ...}. Built twice, as kv-a and kv-b (KV_NAME), so a
 * test can show that one plugin cannot reach the other's keys whatever it
 * calls: no call of the SDK names a plugin.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <streamspace/plugin.h>

static json_object *member(json_object *o, const char *k)
{
	json_object *v = NULL;
	return json_object_object_get_ex(o, k, &v) ? v : NULL;
}

static const char *str(json_object *o, const char *k)
{
	json_object *v = member(o, k);
	return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

static int on_event(ss_plugin *p, const ss_event *ev)
{
	json_object *d = ss_event_data(ev), *res = json_object_new_object(), *out = NULL;
	const char *op = str(d, "op"), *key = str(d, "key");
	int64_t n = 0;
	int r = SS_ERR_INVALID;

	/* "who" names the one plugin meant; the others let the event pass. */
	if (str(d, "who") != NULL && strcmp(str(d, "who"), ss_plugin_name(p)) != 0) {
		json_object_put(res);
		return 0;
	}
	if (op == NULL)
		op = "";
	/* "delay_ms" (at most 1000): wait first, so a test can act between delivery and the call.
	 */
	if (json_object_object_get_ex(d, "delay_ms", &out)) {
		int64_t ms = json_object_get_int64(out);
		out = NULL;
		if (ms > 0 && ms <= 1000)
			usleep((useconds_t)(ms * 1000));
	}
	if (strcmp(op, "get") == 0) {
		r = ss_storage_get(p, key, &out);
		if (r == SS_OK)
			json_object_object_add(res, "value", out ? out : json_object_new_null());
	} else if (strcmp(op, "set") == 0) {
		r = ss_storage_set(p, key, member(d, "value"));
	} else if (strcmp(op, "ttl") == 0) {
		json_object *t = member(d, "ttl_ms");
		r = ss_storage_set_ttl(p, key, member(d, "value"),
				       t ? json_object_get_int64(t) : 0);
	} else if (strcmp(op, "cas") == 0) {
		r = ss_storage_cas(p, key, member(d, "expect"), member(d, "value"));
	} else if (strcmp(op, "delete") == 0) {
		r = ss_storage_delete(p, key);
	} else if (strcmp(op, "clear") == 0) {
		r = ss_storage_clear(p, &n);
		json_object_object_add(res, "deleted", json_object_new_int64(n));
	} else if (strcmp(op, "list") == 0) {
		json_object *l = member(d, "limit");
		r = ss_storage_list(p, str(d, "prefix"), str(d, "cursor"),
				    l ? json_object_get_int(l) : 100, &out);
		if (r == SS_OK)
			json_object_object_add(res, "page", out);
	} else if (strcmp(op, "big") == 0) {
		/* A string value of "size" bytes, or a key of "keylen" bytes. */
		json_object *sz = member(d, "size"), *kl = member(d, "keylen");
		size_t size = sz ? (size_t)json_object_get_int64(sz) : 0;
		size_t klen = kl ? (size_t)json_object_get_int64(kl) : 0;
		char *buf = malloc(size + 1), *kbuf = malloc(klen + 1);
		memset(buf, 'v', size);
		buf[size] = '\0';
		memset(kbuf, 'k', klen);
		kbuf[klen] = '\0';
		json_object *v = json_object_new_string(buf);
		r = ss_storage_set(p, klen ? kbuf : key, v);
		json_object_put(v);
		free(buf);
		free(kbuf);
	} else if (strcmp(op, "emit") == 0) {
		r = ss_emit(p, str(d, "event"), member(d, "data"));
	} else if (strcmp(op, "http") == 0) {
		/* ss_http_request(_opt with "ca"): the answer's status, a header, the body's
		 * length. */
		ss_http_response hr;
		ss_http_options o = {.ca_pem = str(d, "ca")};
		r = ss_http_request_opt(p, str(d, "method"), str(d, "url"), member(d, "headers"),
					str(d, "body"), o.ca_pem ? &o : NULL, &hr);
		if (r == SS_OK) {
			json_object *h = member(hr.headers, "x-test");
			json_object_object_add(res, "status", json_object_new_int(hr.status));
			json_object_object_add(res, "x_test", json_object_get(h));
			json_object_object_add(res, "len",
					       json_object_new_int64((int64_t)hr.body_len));
			json_object_object_add(
			    res, "body",
			    json_object_new_string_len(hr.body,
						       hr.body_len > 200 ? 200 : (int)hr.body_len));
		}
		ss_http_response_free(&hr);
	} else if (strcmp(op, "http_n") == 0) {
		/* n requests in a row (bench/egress.py): how many answered 200, and the time. */
		json_object *c = member(d, "n");
		int64_t ok = 0, count = c ? json_object_get_int64(c) : 0;
		struct timespec t0, t1;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		for (int64_t i = 0; i < count; i++) {
			ss_http_response hr;
			r = ss_http_request(p, "GET", str(d, "url"), NULL, NULL, &hr);
			ok += r == SS_OK && hr.status == 200;
			ss_http_response_free(&hr);
		}
		clock_gettime(CLOCK_MONOTONIC, &t1);
		json_object_object_add(res, "ok", json_object_new_int64(ok));
		json_object_object_add(
		    res, "ns",
		    json_object_new_int64((int64_t)(t1.tv_sec - t0.tv_sec) * 1000000000 +
					  (t1.tv_nsec - t0.tv_nsec)));
	} else if (strcmp(op, "flood") == 0) {
		/* n emits in a row: how many went, how many the rate refused. */
		json_object *c = member(d, "n");
		int64_t ok = 0, limited = 0;
		for (int64_t i = 0; i < (c ? json_object_get_int64(c) : 0); i++) {
			r = ss_emit(p, "flood", NULL);
			ok += r == SS_OK;
			limited += r == SS_ERR_RATE;
		}
		json_object_object_add(res, "ok", json_object_new_int64(ok));
		json_object_object_add(res, "limited", json_object_new_int64(limited));
	}
	json_object_object_add(res, "seq", json_object_get(member(d, "seq")));
	json_object_object_add(res, "r", json_object_new_int(r));
	json_object_object_add(res, "code", json_object_new_string(ss_error_code(p)));
	json_object_object_add(res, "msg", json_object_new_string(ss_error_message(p)));
	ss_log(p, SS_INFO, "res %s", json_object_to_json_string_ext(res, JSON_C_TO_STRING_PLAIN));
	json_object_put(res);
	return 0;
}

/* Events the configuration's "subscribe" pattern brings: "got <type> <id>". */
static int on_other(ss_plugin *p, const ss_event *ev)
{
	ss_log(p, SS_INFO, "got %s %lld", ss_event_type(ev), (long long)ss_event_id(ev));
	return 0;
}

static int on_load(ss_plugin *p)
{
	const char *extra = ss_config_str(p, "subscribe", NULL);

	if (extra != NULL && ss_subscribe(p, extra, on_other) != 0)
		return -1;
	return ss_subscribe(p, "session.created", on_event);
}

SS_PLUGIN(.name = KV_NAME, .version = "1.0.0", .on_load = on_load);
