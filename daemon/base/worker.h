/*
 * One small worker thread for the blocking file work DESIGN §1 keeps off
 * the reactor (scanning the plugin directory, copying and removing plugin
 * files). A job's work function runs on the thread; its done function runs
 * afterwards on the reactor, from an event on the read end of a pipe the
 * thread writes the finished job's pointer to. Jobs run one at a time in the
 * order submitted, so two jobs on the same plugin never overlap.
 *
 * Work functions touch only what their job owns: no log calls, no daemon
 * state. They put what they found in the job and done reports it.
 */
#ifndef SS_WORKER_H
#define SS_WORKER_H

#include <stdbool.h>

struct event_base;
struct worker;

/* Runs on the worker thread. */
typedef void (*worker_work_fn)(void *job);
/*
 * Runs on the reactor once work has returned; cancelled when the worker was
 * freed first (work may not have run): then done only releases the job.
 */
typedef void (*worker_done_fn)(void *job, bool cancelled);

/* Starts the thread; fatal when it cannot (a daemon without it cannot install). */
struct worker *worker_new(struct event_base *base);
/*
 * Waits for the job running now, cancels the queued ones (their done runs
 * with cancelled), then stops the thread. NULL is fine.
 */
void worker_free(struct worker *w);
/* Queues a job (owned by the caller until done). */
void worker_submit(struct worker *w, worker_work_fn work, worker_done_fn done, void *job);
/* Runs every job synchronously until the queue is empty (start-up, before the loop serves). */
void worker_drain(struct worker *w);

#endif
