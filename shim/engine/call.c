/* One engine call per thread, and what a non-local exit out of it leaves.
 *
 * Programs leave a lookup with siglongjmp out of a signal handler (curl's
 * synchronous resolver does, on SIGALRM). Inside a call the engine blocks
 * asynchronous signals and cancellation, except while it waits (a poll, a
 * backoff sleep, a shared flight): a handler can run only there, where no
 * lock is held, and what the wait holds (a c-ares channel and its sockets,
 * a flight, scratch memory) is recorded here. A later entry of the same
 * thread, or its exit, finds the call still marked and releases it all. */
#include "nxretry.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>

/* Scratch blocks live at once in one call: a CNAME chain nests up to
 * NX_MAXCHAIN + 1 waits, each holding at most five (round.c's three,
 * discover's reply, from_target's link). */
#define HELD_MAX (5 * (NX_MAXCHAIN + 1))

struct call {
	bool active;      /* between nx_call_begin and nx_call_end */
	const void *park; /* while waiting: the frame of the wait, else NULL */
	int cancel;       /* the caller's cancellation state */
	sigset_t mask;    /* the caller's signal mask */
	void *held[HELD_MAX];
	bool keyed; /* the thread-exit destructor is set for this thread */
};

static __thread struct call call;
static pthread_key_t exit_key;
static pthread_once_t exit_once = PTHREAD_ONCE_INIT;
static bool exit_key_ok;

/* Releases what an abandoned call held, and gives the caller back the
 * cancellation state it had. The mask is the handler's to restore
 * (siglongjmp with a saved mask does). */
static void release(struct call *c)
{
	nx_probe_abandon();
	nx_flight_abandon();
	for (int i = 0; i < HELD_MAX; i++) {
		free(c->held[i]);
		c->held[i] = NULL;
	}
	int ignored;
	pthread_setcancelstate(c->cancel, &ignored);
	c->active = false;
	c->park = NULL;
}

static void at_exit(void *arg)
{
	struct call *c = arg;
	if (c->active && c->park)
		release(c);
}

static void make_exit_key(void)
{
	exit_key_ok = pthread_key_create(&exit_key, at_exit) == 0;
}

bool nx_call_begin(void)
{
	if (call.active)
		return false; /* a lookup nested in this thread's call */
	if (!call.keyed) {
		pthread_once(&exit_once, make_exit_key);
		call.keyed = exit_key_ok && pthread_setspecific(exit_key, &call) == 0;
	}
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &call.cancel);
	sigset_t block;
	nx_async_signals(&block);
	pthread_sigmask(SIG_BLOCK, &block, &call.mask);
	call.active = true;
	return true;
}

void nx_call_end(void)
{
	call.active = false;
	pthread_sigmask(SIG_SETMASK, &call.mask, NULL);
	int ignored;
	pthread_setcancelstate(call.cancel, &ignored);
}

/* The stack grows down (every Linux target nxretry builds for): a frame
 * above the wait's belongs to a caller the wait has returned to, or was
 * unwound past. A handler that runs during the wait runs below it, or on
 * its alternate stack. */
bool nx_call_abandon(const void *frame)
{
	if (!call.active)
		return true;
	if (!call.park || (const char *)frame <= (const char *)call.park)
		return false;
	stack_t ss;
	if (sigaltstack(NULL, &ss) == 0 && (ss.ss_flags & SS_ONSTACK))
		return false;
	release(&call);
	return true;
}

void nx_call_park(const void *frame)
{
	if (!call.active)
		return;
	call.park = frame;
	pthread_sigmask(SIG_SETMASK, &call.mask, NULL);
}

void nx_call_unpark(void)
{
	if (!call.active)
		return;
	sigset_t block;
	nx_async_signals(&block);
	pthread_sigmask(SIG_BLOCK, &block, NULL);
	call.park = NULL;
}

void *nx_call_calloc(size_t n, size_t size)
{
	void *p = calloc(n, size);
	for (int i = 0; p && call.active && i < HELD_MAX; i++)
		if (!call.held[i]) {
			call.held[i] = p;
			break;
		}
	return p;
}

void nx_call_free(void *p)
{
	for (int i = 0; p && i < HELD_MAX; i++)
		if (call.held[i] == p)
			call.held[i] = NULL;
	free(p);
}
