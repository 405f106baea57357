/* Runs an initialisation once per process, for the preload and the engine.
 * Not pthread_once: on glibc < 2.34 it lives in libpthread, which the
 * preload may not assume is loaded, and musl's (like ThreadSanitizer's)
 * leaves a fork child waiting forever for an initialisation another thread
 * of the parent was running. Here the state is NX_ONCE_NEW, NX_ONCE_DONE,
 * or the pid of the process one of whose threads runs init: a child forked
 * meanwhile finds its parent's pid there (that thread does not exist in the
 * child) and runs init itself. Waiters yield until it is done, which
 * happens once per process. */
#include "nxretry.h"

#include <pthread.h>
#include <sched.h>
#include <unistd.h>

/* Bits of o->bit. Initial-exec in the preload (the default model needs
 * __tls_get_addr, which glibc defines in ld.so: a dependency musl cannot
 * load); the default in the engine, which is dlopen'ed (musl refuses
 * initial-exec TLS there). */
#ifdef NX_PRELOAD
static __thread unsigned running __attribute__((tls_model("initial-exec")));
#else
static __thread unsigned running;
#endif

/* Init runs with cancellation and asynchronous signals held off: a cancel
 * at one of its cancellation points (a log line, the configuration file),
 * or a siglongjmp out of a handler, would leave it running for good. */
static void run(struct nx_once *o, void (*init)(void))
{
	sigset_t block, old;
	int cancel;
	nx_async_signals(&block);
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancel);
	sigprocmask(SIG_BLOCK, &block, &old); /* this thread's, as pthread_sigmask on Linux */
	running |= o->bit;
	init();
	running &= ~o->bit;
	__atomic_store_n(&o->state, NX_ONCE_DONE, __ATOMIC_RELEASE);
	sigprocmask(SIG_SETMASK, &old, NULL);
	pthread_setcancelstate(cancel, &cancel);
}

__attribute__((cold)) void nx_once_wait(struct nx_once *o, void (*init)(void))
{
	int self = (int)getpid();
	for (;;) {
		int s = __atomic_load_n(&o->state, __ATOMIC_ACQUIRE);
		if (s == NX_ONCE_DONE || (s == self && (running & o->bit)))
			return; /* done; or a call nested in this thread's init: not yet */
		if (s != self && __atomic_compare_exchange_n(&o->state, &s, self, false,
							     __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
			run(o, init);
			return;
		}
		if (s == self)
			sched_yield();
	}
}
