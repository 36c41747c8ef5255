/*
 * The worker thread. Submitting takes a mutex and signals a condition; the
 * thread runs each job and writes its pointer (sizeof (void *) bytes, less
 * than PIPE_BUF: atomic) to a pipe whose read end is a persistent read event
 * on the reactor. libevent itself is never touched from the thread, so no
 * evthread locking is needed.
 */
#define _GNU_SOURCE
#include "worker.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <unistd.h>

#include "log.h"
#include "xmalloc.h"

struct job {
	worker_work_fn work;
	worker_done_fn done;
	void *arg;
	TAILQ_ENTRY(job) entry;
};

TAILQ_HEAD(job_list, job);

struct worker {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct job_list queue; /* submitted, not started */
	bool stopping;
	size_t outstanding; /* submitted, done not yet called (the reactor's count) */
	int pipe_rd, pipe_wr;
	struct event *ev;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	for (;;) {
		struct job *j;
		size_t off = 0;

		pthread_mutex_lock(&w->lock);
		while (TAILQ_EMPTY(&w->queue) && !w->stopping)
			pthread_cond_wait(&w->cond, &w->lock);
		if (w->stopping) {
			pthread_mutex_unlock(&w->lock);
			return NULL;
		}
		j = TAILQ_FIRST(&w->queue);
		TAILQ_REMOVE(&w->queue, j, entry);
		pthread_mutex_unlock(&w->lock);
		j->work(j->arg);
		while (off < sizeof j) {
			ssize_t n = write(w->pipe_wr, (char *)&j + off, sizeof j - off);

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				fatal("worker: writing to the result pipe: %s", strerror(errno));
			off += (size_t)n;
		}
	}
}

/* Finished jobs, on the reactor. */
static void results_cb(evutil_socket_t fd, short what, void *arg)
{
	struct job *j;

	struct worker *w = arg;

	(void)what;
	for (;;) {
		ssize_t n = read(fd, &j, sizeof j);

		if (n < 0 && errno == EINTR)
			continue;
		if (n != (ssize_t)sizeof j)
			return; /* EAGAIN: none left (writes of a pointer are atomic) */
		w->outstanding--;
		j->done(j->arg, false);
		free(j);
	}
}

struct worker *worker_new(struct event_base *base)
{
	struct worker *w = xcalloc(1, sizeof *w);
	int fds[2];

	if (pipe2(fds, O_CLOEXEC) < 0)
		fatal("worker: pipe: %s", strerror(errno));
	/* Only the reactor's end is non-blocking: a full pipe makes the thread wait. */
	if (fcntl(fds[0], F_SETFL, O_NONBLOCK) < 0)
		fatal("worker: fcntl: %s", strerror(errno));
	w->pipe_rd = fds[0];
	w->pipe_wr = fds[1];
	TAILQ_INIT(&w->queue);
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	w->ev = event_new(base, w->pipe_rd, EV_READ | EV_PERSIST, results_cb, w);
	event_add(w->ev, NULL);
	if (pthread_create(&w->thread, NULL, worker_main, w) != 0)
		fatal("worker: pthread_create failed");
	return w;
}

void worker_submit(struct worker *w, worker_work_fn work, worker_done_fn done, void *arg)
{
	struct job *j = xcalloc(1, sizeof *j);

	j->work = work;
	j->done = done;
	j->arg = arg;
	w->outstanding++;
	pthread_mutex_lock(&w->lock);
	TAILQ_INSERT_TAIL(&w->queue, j, entry);
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

void worker_drain(struct worker *w)
{
	while (w->outstanding > 0) {
		struct pollfd pfd = {.fd = w->pipe_rd, .events = POLLIN};

		/* Blocking here is the point: start-up waits for its file work. */
		if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
			fatal("worker: poll: %s", strerror(errno));
		results_cb(w->pipe_rd, EV_READ, w);
	}
}

void worker_free(struct worker *w)
{
	struct job *j;

	if (w == NULL)
		return;
	pthread_mutex_lock(&w->lock);
	w->stopping = true;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	/* Finished ones first, as if the loop had run once more, but cancelled. */
	for (;;) {
		ssize_t n = read(w->pipe_rd, &j, sizeof j);

		if (n != (ssize_t)sizeof j)
			break;
		j->done(j->arg, true);
		free(j);
	}
	while ((j = TAILQ_FIRST(&w->queue)) != NULL) {
		TAILQ_REMOVE(&w->queue, j, entry);
		j->done(j->arg, true);
		free(j);
	}
	event_free(w->ev);
	close(w->pipe_rd);
	close(w->pipe_wr);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->cond);
	free(w);
}
