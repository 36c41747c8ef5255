/* The host's framed I/O on its socket (plugin-host/channel.c), over a real socketpair. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "channel.h"

struct pair {
	int fd[2];
	struct channel *ch; /* on fd[0] */
};

static int setup(void **state)
{
	static struct pair p;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, p.fd), 0);
	p.ch = channel_new(p.fd[0]);
	*state = &p;
	return 0;
}

static int teardown(void **state)
{
	struct pair *p = *state;
	channel_free(p->ch);
	close(p->fd[0]);
	if (p->fd[1] >= 0)
		close(p->fd[1]);
	return 0;
}

static void put(int fd, const void *buf, size_t n)
{
	assert_int_equal(write(fd, buf, n), (ssize_t)n);
}

static void test_roundtrip(void **state)
{
	struct pair *p = *state;
	struct channel *peer = channel_new(p->fd[1]);
	json_object *m = json_object_new_object(), *got = NULL, *v;
	char err[128];

	json_object_object_add(m, "t", json_object_new_string("ping"));
	json_object_object_add(m, "id", json_object_new_int(42));
	assert_int_equal(channel_send(peer, m), 0);
	assert_int_equal(channel_send(peer, m), 0);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(channel_recv(p->ch, &got, err, sizeof err), 1);
		assert_true(json_object_object_get_ex(got, "id", &v));
		assert_int_equal(json_object_get_int(v), 42);
		json_object_put(got);
	}
	json_object_put(m);
	channel_free(peer);
}

/*
 * A frame far larger than the socket's buffer: the sender's writev of
 * header and body is taken in many pieces by the reader (a child process
 * sends, the parent receives) and arrives whole, the bytes as sent.
 */
static void test_large_frame(void **state)
{
	struct pair *p = *state;
	size_t n = 900 * 1024;
	char *big = malloc(n + 1), err[128];
	json_object *got = NULL, *v;
	int status = -1, snd = 4096;
	pid_t pid;

	assert_non_null(big);
	for (size_t i = 0; i < n; i++)
		big[i] = (char)('a' + i % 26);
	big[n] = '\0';
	assert_int_equal(setsockopt(p->fd[1], SOL_SOCKET, SO_SNDBUF, &snd, sizeof snd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct channel *peer = channel_new(p->fd[1]);
		json_object *m = json_object_new_object();
		json_object_object_add(m, "t", json_object_new_string("log"));
		json_object_object_add(m, "msg", json_object_new_string(big));
		_exit(channel_send(peer, m) == 0 ? 0 : 1);
	}
	assert_int_equal(channel_recv(p->ch, &got, err, sizeof err), 1);
	assert_true(json_object_object_get_ex(got, "msg", &v));
	assert_int_equal(json_object_get_string_len(v), (int)n);
	assert_memory_equal(json_object_get_string(v), big, n);
	json_object_put(got);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	free(big);
}

static void test_split_frame(void **state)
{
	struct pair *p = *state;
	json_object *got = NULL;
	char err[128];

	/* One frame delivered in three pieces, the header itself split. */
	put(p->fd[1], "\0\0", 2);
	put(p->fd[1], "\0\x09{\"t\":", 7);
	put(p->fd[1], "\"x\"}", 4);
	assert_int_equal(channel_recv(p->ch, &got, err, sizeof err), 1);
	assert_string_equal(json_object_to_json_string_ext(got, JSON_C_TO_STRING_PLAIN),
			    "{\"t\":\"x\"}");
	json_object_put(got);
}

static void test_over_max_refused_before_body(void **state)
{
	struct pair *p = *state;
	json_object *got = NULL;
	char err[128] = "";

	channel_set_max(p->ch, 16);
	assert_int_equal(channel_max(p->ch), 16);
	/* Only the header is sent: the refusal must not wait for 17 bytes of body. */
	put(p->fd[1], "\0\0\0\x11", 4);
	assert_int_equal(channel_recv(p->ch, &got, err, sizeof err), -1);
	assert_null(got);
	assert_non_null(strstr(err, "maximum"));
}

static void test_send_over_max(void **state)
{
	struct pair *p = *state;
	json_object *m = json_object_new_object();

	channel_set_max(p->ch, 8);
	json_object_object_add(m, "t", json_object_new_string("a long enough message"));
	errno = 0;
	assert_int_equal(channel_send(p->ch, m), -1);
	assert_int_equal(errno, EMSGSIZE);
	json_object_put(m);
}

static void test_eof(void **state)
{
	struct pair *p = *state;
	json_object *got = NULL;
	char err[128];

	close(p->fd[1]);
	p->fd[1] = -1;
	assert_int_equal(channel_recv(p->ch, &got, err, sizeof err), 0);
}

static void test_eof_inside_frame(void **state)
{
	struct pair *p = *state;
	json_object *got = NULL;
	char err[128] = "";

	put(p->fd[1], "\0\0\0\x20{\"t\"", 8);
	close(p->fd[1]);
	p->fd[1] = -1;
	assert_int_equal(channel_recv(p->ch, &got, err, sizeof err), -1);
	assert_non_null(strstr(err, "inside a frame"));
}

static void test_bad_json(void **state)
{
	struct pair *p = *state;
	json_object *got = NULL;
	char err[128] = "";

	put(p->fd[1], "\0\0\0\x04nope", 8);
	assert_int_equal(channel_recv(p->ch, &got, err, sizeof err), -1);
	assert_null(got);
}

static void expect_ack(struct channel *ch, int64_t n, int64_t id)
{
	json_object *got = NULL, *v;
	char err[128];

	assert_int_equal(channel_recv(ch, &got, err, sizeof err), 1);
	assert_true(json_object_object_get_ex(got, "t", &v));
	assert_string_equal(json_object_get_string(v), "ack");
	assert_true(json_object_object_get_ex(got, "n", &v));
	assert_int_equal(json_object_get_int64(v), n);
	assert_true(json_object_object_get_ex(got, "id", &v));
	assert_int_equal(json_object_get_int64(v), id);
	json_object_put(got);
}

/*
 * Held acks (protocol 4) go out as one frame ahead of the next message, in
 * the same write, or alone on a flush; nothing held, nothing sent. A
 * message over the maximum sends nothing and keeps the acks held.
 */
static void test_acks_coalesced(void **state)
{
	struct pair *p = *state;
	struct channel *peer = channel_new(p->fd[1]);
	json_object *m = json_object_new_object(), *got = NULL, *v;
	char err[128];

	json_object_object_add(m, "t", json_object_new_string("log"));
	assert_int_equal(channel_ack_flush(peer), 0); /* nothing held: nothing written */
	int64_t age = -1;
	assert_int_equal(channel_ack_held(peer, &age), 0);
	assert_int_equal(age, 0);
	assert_false(channel_has_frame(p->ch));
	channel_ack(peer, 10);
	channel_ack(peer, 11);
	channel_ack(peer, 15);
	assert_int_equal(channel_ack_held(peer, &age), 3);
	assert_true(age >= 0);
	channel_set_max(peer, 4);
	assert_int_equal(channel_send(peer, m), -1); /* over max: nothing sent */
	assert_int_equal(errno, EMSGSIZE);
	channel_set_max(peer, 1 << 20);
	assert_int_equal(channel_send(peer, m), 0);
	expect_ack(p->ch, 3, 15);
	assert_true(channel_has_frame(p->ch)); /* the message came in the same write */
	assert_int_equal(channel_ack_held(peer, &age), 0);
	assert_int_equal(channel_recv(p->ch, &got, err, sizeof err), 1);
	assert_true(json_object_object_get_ex(got, "t", &v));
	assert_string_equal(json_object_get_string(v), "log");
	json_object_put(got);

	channel_ack(peer, 16);
	assert_int_equal(channel_ack_flush(peer), 0);
	assert_int_equal(channel_ack_flush(peer), 0);
	expect_ack(p->ch, 1, 16);
	/* Nothing after the one ack: the socket is empty. */
	assert_int_equal(recv(p->fd[0], &(char){0}, 1, MSG_DONTWAIT), -1);
	assert_int_equal(errno, EAGAIN);
	json_object_put(m);
	channel_free(peer);
}

/*
 * A bad length prefix counts as a frame (the next recv reports it rather
 * than waiting), half a frame does not: the serving loop flushes held acks
 * exactly when the next recv would block.
 */
static void test_has_frame_bad_prefix(void **state)
{
	struct pair *p = *state;
	json_object *got = NULL;
	char err[128];
	static const char two[] = "\0\0\0\x0b{\"t\":\"log\"}\0\0\0\x09{\"t\":";

	put(p->fd[1], two, sizeof two - 1);
	assert_false(channel_has_frame(p->ch)); /* nothing read yet */
	assert_int_equal(channel_recv(p->ch, &got, err, sizeof err), 1);
	json_object_put(got);
	assert_false(channel_has_frame(p->ch)); /* the second is cut short */
	put(p->fd[1], "\"x\"}\0\0\0\0", 8);
	assert_int_equal(channel_recv(p->ch, &got, err, sizeof err), 1);
	json_object_put(got);
	assert_true(channel_has_frame(p->ch)); /* the zero length prefix is buffered */
	assert_int_equal(channel_recv(p->ch, &got, err, sizeof err), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_roundtrip, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_large_frame, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_split_frame, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_over_max_refused_before_body, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_send_over_max, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_eof, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_eof_inside_frame, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_json, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_acks_coalesced, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_has_frame_bad_prefix, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
