#include "answer.h"

int answer_error(ss_response *res, int status, const char *code, const char *msg)
{
	json_object *o = json_object_new_object(), *e = json_object_new_object();
	json_object_object_add(e, "code", json_object_new_string(code));
	json_object_object_add(e, "message", json_object_new_string(msg));
	json_object_object_add(o, "error", e);
	int r = ss_res_json(res, status, o);
	json_object_put(o);
	return r;
}
