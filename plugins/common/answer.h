/*
 * answer: a plugin route's error in the daemon's own shape, so that a caller
 * reads the daemon's and a plugin's errors alike.
 */
#ifndef SS_PLUGINS_ANSWER_H
#define SS_PLUGINS_ANSWER_H

#include <streamspace/plugin.h>

/* Answers status with {"error": {"code": code, "message": msg}}; ss_res_json's result. */
int answer_error(ss_response *res, int status, const char *code, const char *msg);

#endif
