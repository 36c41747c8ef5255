/*
 * route_add: a host's route.add answered from the permissions and proute's
 * checks, with the route's index (the host's handler table follows it).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "msg.h"
#include "route_add.h"

static json_object *parse(const char *s)
{
	json_object *o = json_tokener_parse(s);
	assert_non_null(o);
	return o;
}

/* The reply to route.add text with permissions perms (JSON), against t. */
static json_object *answer(struct proutes *t, const char *perms, const char *text, int64_t id)
{
	json_object *p = parse(perms), *m = parse(text);
	json_object *r = route_add_answer(t, p, "tester", m, id);

	json_object_put(p);
	json_object_put(m);
	return r;
}

static const char *code_of(json_object *reply)
{
	return msg_get_str(msg_get_obj(reply, "error"), "code");
}

static void test_indices_in_order(void **state)
{
	struct proutes *t = proutes_new();
	json_object *r;
	int64_t idx = -1, id = -1;

	(void)state;
	r = answer(t, "[\"routes\"]",
		   "{\"t\":\"route.add\",\"id\":7,\"method\":\"GET\",\"path\":\"/hello\","
		   "\"public\":true}",
		   7);
	assert_true(msg_get_int(r, "id", &id) && id == 7);
	assert_true(msg_get_int(r, "route", &idx));
	assert_int_equal(idx, 0);
	assert_null(msg_get_obj(r, "error"));
	json_object_put(r);
	r = answer(t, "[\"admin\"]",
		   "{\"t\":\"route.add\",\"id\":8,\"method\":\"POST\",\"path\":\"/items/:id\","
		   "\"role\":\"service\"}",
		   8);
	assert_true(msg_get_int(r, "route", &idx));
	assert_int_equal(idx, 1);
	json_object_put(r);
	assert_int_equal(proutes_count(t), 2);
	proutes_free(t);
}

static void test_refusals_add_nothing(void **state)
{
	struct proutes *t = proutes_new();
	json_object *r;

	(void)state;
	r = answer(t, "[\"storage\"]",
		   "{\"t\":\"route.add\",\"id\":1,\"method\":\"GET\",\"path\":\"/x\"}", 1);
	assert_string_equal(code_of(r), ERR_PERMISSION);
	assert_non_null(strstr(msg_get_str(msg_get_obj(r, "error"), "message"), "routes"));
	json_object_put(r);
	r = answer(t, "[\"routes\"]",
		   "{\"t\":\"route.add\",\"id\":2,\"method\":\"TRACE\",\"path\":\"/x\"}", 2);
	assert_string_equal(code_of(r), ERR_BAD_REQUEST);
	json_object_put(r);
	r = answer(t, "[\"routes\"]",
		   "{\"t\":\"route.add\",\"id\":3,\"method\":\"GET\",\"path\":\"/x\","
		   "\"sneaky\":1}",
		   3);
	assert_string_equal(code_of(r), ERR_BAD_REQUEST);
	json_object_put(r);
	assert_int_equal(proutes_count(t), 0);
	proutes_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_indices_in_order),
	    cmocka_unit_test(test_refusals_add_nothing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
