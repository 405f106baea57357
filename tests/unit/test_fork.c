/* engine.c's fork handlers: a process forks while another thread is inside
 * the result registry, caught growing its table (this file's calloc pauses
 * 200 ms after allocating a table of 64 pointers or more, which in that
 * thread only the registry allocates). The child must find the registry whole and unlocked:
 * every list the parent built before the fork is still its to free, and
 * new ones can be made. Without the handlers the child inherits a table
 * half filled, or the registry's lock held for good. */
#include "util.h"

#include "nxretry.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <time.h>
#include <unistd.h>

/* engine.c's entry point, as hooks.c finds it. */
const struct nx_engine *nxretry_engine_v3(const struct nx_libc *real);

#define ROUNDS 7      /* table growths caught midway: 64 -> 4096 slots */
#define MAX_LISTS 4096
#define WINDOW_MS 200

/* ---- a calloc that can pause in the hammering thread ---- */

static void *(*next_calloc)(size_t, size_t);
static __thread bool hammering;
static int armed, in_window;

void *calloc(size_t n, size_t size)
{
	/* dlsym may itself call calloc before next_calloc is known: zeroed
	 * static memory, never freed (it is not the registry's). */
	static _Alignas(16) char early[4096];
	static size_t used;
	if (!next_calloc) {
		size_t want = (n * size + 15) & ~(size_t)15;
		if (size && n > sizeof early / size)
			return NULL;
		if (want > sizeof early - used)
			return NULL;
		used += want;
		return early + used - want;
	}
	void *q = next_calloc(n, size);
	if (hammering && size == sizeof(void *) && n >= 64 &&
	    __atomic_exchange_n(&armed, 0, __ATOMIC_SEQ_CST)) {
		/* the registry's lock is held, its table half grown */
		__atomic_store_n(&in_window, 1, __ATOMIC_SEQ_CST);
		struct timespec ts = {0, WINDOW_MS * 1000000L};
		nanosleep(&ts, NULL);
		__atomic_store_n(&in_window, 0, __ATOMIC_SEQ_CST);
	}
	return q;
}

/* ---- lists to register: one node each, no libc lookup ---- */

static int fake_gai(const char *node, const char *service, const struct addrinfo *hints,
		    struct addrinfo **res)
{
	(void)node, (void)service, (void)hints;
	struct addrinfo *ai = calloc(1, sizeof *ai + sizeof(struct sockaddr_in));
	if (!ai)
		return EAI_MEMORY;
	struct sockaddr_in *sin = (struct sockaddr_in *)(ai + 1);
	sin->sin_family = AF_INET;
	ai->ai_family = AF_INET;
	ai->ai_socktype = SOCK_STREAM;
	ai->ai_addrlen = sizeof *sin;
	ai->ai_addr = (struct sockaddr *)sin;
	*res = ai;
	return 0;
}

static void fake_freeai(struct addrinfo *ai) { free(ai); }

static struct addrinfo *build_one(void)
{
	struct nx_addr a = {.family = AF_INET, .bytes = {192, 0, 2, 1}};
	struct addrinfo *res = NULL;
	if (nx_result_build(&a, 1, "x.example", NULL, NULL, fake_gai, fake_freeai, &res))
		return NULL;
	return res;
}

static struct addrinfo *lists[MAX_LISTS];
static int nlists; /* lists[0..nlists) are registered */
static int rounds_done, forked; /* rounds the hammer finished, the main thread forked in */

static void *hammer(void *arg)
{
	(void)arg;
	hammering = true;
	for (int round = 0; round < ROUNDS; round++) {
		/* One window per fork: wait (bounded) for the last one's. */
		for (int i = 0; i < 10000 && __atomic_load_n(&forked, __ATOMIC_SEQ_CST) < round; i++)
			util_sleep_ms(1);
		__atomic_store_n(&armed, 1, __ATOMIC_SEQ_CST);
		/* Build until the table grows (the armed calloc fires). */
		while (__atomic_load_n(&armed, __ATOMIC_SEQ_CST) &&
		       __atomic_load_n(&nlists, __ATOMIC_SEQ_CST) < MAX_LISTS) {
			struct addrinfo *ai = build_one();
			if (!ai)
				return (void *)1;
			int n = __atomic_load_n(&nlists, __ATOMIC_SEQ_CST);
			lists[n] = ai;
			__atomic_store_n(&nlists, n + 1, __ATOMIC_SEQ_CST);
		}
		/* Hammer on: release and rebuild the newest lists meanwhile. */
		for (int i = 0; i < 50; i++) {
			int n = __atomic_load_n(&nlists, __ATOMIC_SEQ_CST);
			struct addrinfo *ai = build_one();
			if (!ai)
				return (void *)1;
			__atomic_store_n(&nlists, n - 1, __ATOMIC_SEQ_CST);
			if (!nx_result_release(lists[n - 1], freeaddrinfo))
				return (void *)2;
			lists[n - 1] = ai;
			__atomic_store_n(&nlists, n, __ATOMIC_SEQ_CST);
		}
		__atomic_store_n(&rounds_done, round + 1, __ATOMIC_SEQ_CST);
	}
	/* Alive until the last child is reaped: ThreadSanitizer counts a
	 * thread that ended unjoined before a fork as the child's leak. */
	for (int i = 0; i < 10000 && __atomic_load_n(&forked, __ATOMIC_SEQ_CST) < ROUNDS; i++)
		util_sleep_ms(1);
	return NULL;
}

/* In the child: every inherited list releases, and the registry grows. */
static int child_check(void)
{
	int n = __atomic_load_n(&nlists, __ATOMIC_SEQ_CST);
	for (int i = 0; i < n; i++)
		if (!nx_result_release(lists[i], freeaddrinfo))
			return 2;
	for (int i = 0; i < 3000; i++) {
		lists[i] = build_one();
		if (!lists[i])
			return 3;
	}
	for (int i = 3000; i-- > 0;)
		if (!nx_result_release(lists[i], freeaddrinfo))
			return 4;
	return 0;
}

static void test_fork_while_growing(void **state)
{
	(void)state;
	/* The engine's handlers, as a process gets them: on its first use. */
	struct nx_libc libc = {getaddrinfo, freeaddrinfo, NULL};
	setenv("NXRETRY_LOG", "off", 1);
	unsetenv("NXRETRY_ZONES");
	unsetenv("NXRETRY_CONFIG");
	const struct nx_engine *e = nxretry_engine_v3(&libc);
	assert_non_null(e);
	assert_false(e->first()); /* loads the configuration: handlers installed */

	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, hammer, NULL), 0);
	int forks = 0, failures = 0;
	char why[256] = "";
	for (int round = 0; round < ROUNDS; round++) {
		/* Wait (bounded) for the hammer to sit in the window. */
		for (int i = 0; i < 5000 && !__atomic_load_n(&in_window, __ATOMIC_SEQ_CST); i++)
			util_sleep_ms(1);
		if (!__atomic_load_n(&in_window, __ATOMIC_SEQ_CST))
			break;
		pid_t pid = fork();
		if (pid == 0) {
			alarm(10);
			_exit(child_check());
		}
		assert_true(pid > 0);
		forks++;
		int status;
		assert_int_equal(waitpid(pid, &status, 0), pid);
		if (!WIFEXITED(status) || WEXITSTATUS(status)) {
			failures++;
			snprintf(why, sizeof why, "round %d: child %s %d", round,
				 WIFEXITED(status) ? "exited" : "killed by signal",
				 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
		}
		/* Let the hammer finish this round before the next. */
		__atomic_store_n(&forked, round + 1, __ATOMIC_SEQ_CST);
		for (int i = 0; i < 10000 && __atomic_load_n(&rounds_done, __ATOMIC_SEQ_CST) <= round;
		     i++)
			util_sleep_ms(1);
	}
	__atomic_store_n(&forked, ROUNDS, __ATOMIC_SEQ_CST); /* a hammer left waiting goes on */
	void *hammer_rc;
	assert_int_equal(pthread_join(t, &hammer_rc), 0);
	assert_null(hammer_rc);
	if (failures)
		fail_msg("%d of %d children found the registry broken; last: %s", failures, forks,
			 why);
	assert_int_equal(forks, ROUNDS);
	for (int i = 0; i < nlists; i++)
		assert_true(nx_result_release(lists[i], freeaddrinfo));
}

int main(void)
{
	next_calloc = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "calloc");
	if (!next_calloc) {
		fprintf(stderr, "test_fork: no calloc after this one\n");
		return 1;
	}
	static struct CMUnitTest tests[1];
	size_t n = 0;
	UTIL_ADD_TEST(tests, n, test_fork_while_growing);
	return UTIL_RUN("fork", tests, n);
}
