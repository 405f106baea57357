/* memo.c and flight.c: outcomes kept for their time, and one wait per name
 * at a time shared by the threads that ask meanwhile. */
#include "util.h"

#include "nxretry.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

static struct nx_found found_with(int last_octet)
{
	struct nx_found f;
	memset(&f, 0, sizeof f);
	f.outcome = NX_OUT_FOUND;
	f.naddrs = 1;
	f.addrs[0].family = AF_INET;
	f.addrs[0].bytes[0] = 192;
	f.addrs[0].bytes[3] = (unsigned char)last_octet;
	return f;
}

static int setup(void **state)
{
	(void)state;
	nx_memo_reset();
	nx_flight_reset();
	return 0;
}

/* ---- memo.c ---- */

static void test_memo_recalls_what_was_kept(void **state)
{
	(void)state;
	struct nx_found in = found_with(7), out;
	nx_memo_keep("a.lab.test/2/0/0", &in, 30);
	memset(&out, 0xff, sizeof out);
	assert_true(nx_memo_recall("a.lab.test/2/0/0", &out));
	assert_memory_equal(&out, &in, sizeof in);
	assert_false(nx_memo_recall("a.lab.test/10/0/0", &out));
	assert_false(nx_memo_recall("b.lab.test/2/0/0", &out));
	nx_memo_forget("a.lab.test/2/0/0");
}

static void test_memo_keeps_nothing_for_zero_seconds(void **state)
{
	(void)state;
	struct nx_found in = found_with(1), out;
	nx_memo_keep("zero.lab.test/absent", &in, 0);
	assert_false(nx_memo_recall("zero.lab.test/absent", &out));
}

static void test_memo_forget(void **state)
{
	(void)state;
	struct nx_found in = found_with(2), out;
	nx_memo_keep("gone.lab.test/absent", &in, 60);
	nx_memo_keep("kept.lab.test/absent", &in, 60);
	nx_memo_forget("gone.lab.test/absent");
	assert_false(nx_memo_recall("gone.lab.test/absent", &out));
	assert_true(nx_memo_recall("kept.lab.test/absent", &out));
	nx_memo_forget("kept.lab.test/absent");
}

static void test_memo_newest_of_a_key_wins(void **state)
{
	(void)state;
	struct nx_found old = found_with(3), newer = found_with(4), out;
	nx_memo_keep("twice.lab.test/2/0/0", &old, 60);
	nx_memo_keep("twice.lab.test/2/0/0", &newer, 60);
	assert_true(nx_memo_recall("twice.lab.test/2/0/0", &out));
	assert_int_equal(out.addrs[0].bytes[3], 4);
	nx_memo_forget("twice.lab.test/2/0/0");
}

/* Gone after its time; while kept, recalled with its age in whole seconds
 * (the stub's TTLs count down by it). */
static void test_memo_expires(void **state)
{
	(void)state;
	struct nx_found in = found_with(5), in2 = found_with(6), out;
	in2.age = 7; /* an outcome that was a memo's already */
	nx_memo_keep("brief.lab.test/absent", &in, 1);
	nx_memo_keep("longer.lab.test/2/0/0", &in2, 5);
	assert_true(nx_memo_recall("brief.lab.test/absent", &out));
	assert_int_equal(out.age, 0);
	assert_true(nx_memo_recall("longer.lab.test/2/0/0", &out));
	assert_int_equal(out.age, 7);
	util_sleep_ms(1100);
	assert_false(nx_memo_recall("brief.lab.test/absent", &out));
	assert_true(nx_memo_recall("longer.lab.test/2/0/0", &out));
	assert_int_equal(out.age, 8);
}

/* A program probing many names keeps the newest 256 outcomes, no more. */
static void test_memo_bounded(void **state)
{
	(void)state;
	struct nx_found in = found_with(6), out;
	char key[NX_KEYMAX];
	for (int i = 0; i < 300; i++) {
		snprintf(key, sizeof key, "n%d.lab.test/absent", i);
		nx_memo_keep(key, &in, 60);
	}
	int kept = 0, first_kept = -1;
	for (int i = 0; i < 300; i++) {
		snprintf(key, sizeof key, "n%d.lab.test/absent", i);
		if (nx_memo_recall(key, &out)) {
			kept++;
			if (first_kept < 0)
				first_kept = i;
		}
	}
	assert_int_equal(kept, 256);
	assert_int_equal(first_kept, 300 - 256);
	for (int i = 0; i < 300; i++) {
		snprintf(key, sizeof key, "n%d.lab.test/absent", i);
		nx_memo_forget(key);
	}
}

/* ---- flight.c ---- */

struct leader {
	int calls;         /* atomic */
	int hold_ms;       /* how long the wait takes */
	uint32_t keep_s;   /* what it returns */
	int address;       /* the outcome's last octet */
	int release;       /* atomic: a held leader may return */
	bool hold_until_released;
};

static uint32_t wait_fn(void *ctx, struct nx_found *out)
{
	struct leader *l = ctx;
	__atomic_add_fetch(&l->calls, 1, __ATOMIC_SEQ_CST);
	if (l->hold_until_released)
		while (!__atomic_load_n(&l->release, __ATOMIC_SEQ_CST))
			util_sleep_ms(5);
	else
		util_sleep_ms(l->hold_ms);
	*out = found_with(l->address);
	return l->keep_s;
}

static int entered; /* askers about to call nx_flight_run */

struct asker {
	pthread_t thread;
	const char *key;
	int64_t deadline_ms;
	struct leader *leader;
	struct nx_found out;
};

static void *ask(void *arg)
{
	struct asker *a = arg;
	__atomic_add_fetch(&entered, 1, __ATOMIC_SEQ_CST);
	nx_flight_run(a->key, a->deadline_ms, wait_fn, a->leader, &a->out);
	return NULL;
}

/* 16 threads asking for one name at once: one wait, 16 answers. The wait
 * lasts until all 16 are about to ask (a straggler would get the kept
 * outcome, not a wait of its own). */
static void test_flight_shared_by_threads(void **state)
{
	(void)state;
	struct leader l = {.hold_until_released = true, .keep_s = 30, .address = 9};
	struct asker a[16];
	int64_t deadline = nx_now_ms() + 20000;
	__atomic_store_n(&entered, 0, __ATOMIC_SEQ_CST);
	for (int i = 0; i < 16; i++) {
		a[i] = (struct asker){.key = "shared.lab.test/0/0/0", .deadline_ms = deadline, .leader = &l};
		assert_int_equal(pthread_create(&a[i].thread, NULL, ask, &a[i]), 0);
	}
	while (__atomic_load_n(&entered, __ATOMIC_SEQ_CST) < 16)
		util_sleep_ms(5);
	util_sleep_ms(100);
	__atomic_store_n(&l.release, 1, __ATOMIC_SEQ_CST);
	for (int i = 0; i < 16; i++) {
		assert_int_equal(pthread_join(a[i].thread, NULL), 0);
		assert_int_equal(a[i].out.outcome, NX_OUT_FOUND);
		assert_int_equal(a[i].out.addrs[0].bytes[3], 9);
	}
	assert_int_equal(l.calls, 1);
	nx_memo_forget("shared.lab.test/0/0/0");
}

/* Different names do not wait for each other: a second name is answered
 * by its own leader while the first one's wait goes on. */
static void test_flight_keys_apart(void **state)
{
	(void)state;
	struct leader held = {.hold_until_released = true, .keep_s = 0, .address = 1};
	struct asker lead = {.key = "one.lab.test/0/0/0", .deadline_ms = nx_now_ms() + 10000,
			     .leader = &held};
	assert_int_equal(pthread_create(&lead.thread, NULL, ask, &lead), 0);
	while (!__atomic_load_n(&held.calls, __ATOMIC_SEQ_CST))
		util_sleep_ms(5);
	struct leader other = {.keep_s = 0, .address = 2};
	struct nx_found out;
	nx_flight_run("two.lab.test/0/0/0", nx_now_ms() + 2000, wait_fn, &other, &out);
	assert_int_equal(out.outcome, NX_OUT_FOUND);
	assert_int_equal(out.addrs[0].bytes[3], 2);
	assert_int_equal(other.calls, 1);
	assert_false(__atomic_load_n(&held.release, __ATOMIC_SEQ_CST)); /* still waiting */
	__atomic_store_n(&held.release, 1, __ATOMIC_SEQ_CST);
	assert_int_equal(pthread_join(lead.thread, NULL), 0);
	assert_int_equal(lead.out.addrs[0].bytes[3], 1);
}

/* A landed flight's outcome serves later lookups from the memo while its
 * time lasts; an outcome kept for 0 s serves nobody. */
static void test_flight_outcome_kept_for_its_time(void **state)
{
	(void)state;
	struct nx_found out;
	struct leader kept = {.keep_s = 30, .address = 2};
	nx_flight_run("kept.lab.test/0/0/0", nx_now_ms() + 5000, wait_fn, &kept, &out);
	nx_flight_run("kept.lab.test/0/0/0", nx_now_ms() + 5000, wait_fn, &kept, &out);
	assert_int_equal(kept.calls, 1);
	assert_int_equal(out.addrs[0].bytes[3], 2);
	assert_true(nx_memo_recall("kept.lab.test/0/0/0", &out));
	nx_memo_forget("kept.lab.test/0/0/0");

	struct leader fresh = {.keep_s = 0, .address = 3};
	nx_flight_run("fresh.lab.test/0/0/0", nx_now_ms() + 5000, wait_fn, &fresh, &out);
	nx_flight_run("fresh.lab.test/0/0/0", nx_now_ms() + 5000, wait_fn, &fresh, &out);
	assert_int_equal(fresh.calls, 2);
	assert_false(nx_memo_recall("fresh.lab.test/0/0/0", &out));
}

/* A waiter never waits past its own deadline: it gets "libc's answer"
 * while the leader goes on, and the leader's outcome is not lost. */
static void test_flight_waiter_leaves_at_its_deadline(void **state)
{
	(void)state;
	struct leader l = {.hold_until_released = true, .keep_s = 0, .address = 4};
	struct asker lead = {.key = "slow.lab.test/0/0/0", .deadline_ms = nx_now_ms() + 10000,
			     .leader = &l};
	assert_int_equal(pthread_create(&lead.thread, NULL, ask, &lead), 0);
	while (!__atomic_load_n(&l.calls, __ATOMIC_SEQ_CST))
		util_sleep_ms(5);
	struct nx_found out;
	int64_t start = nx_now_ms();
	nx_flight_run("slow.lab.test/0/0/0", start + 300, wait_fn, &l, &out);
	int64_t waited = nx_now_ms() - start;
	assert_int_equal(out.outcome, NX_OUT_LIBC);
	assert_int_equal(out.why, NX_WHY_FAILED);
	assert_true(waited >= 299);
	assert_int_equal(l.calls, 1); /* it waited for the leader, and did not lead */
	__atomic_store_n(&l.release, 1, __ATOMIC_SEQ_CST);
	assert_int_equal(pthread_join(lead.thread, NULL), 0);
	assert_int_equal(lead.out.outcome, NX_OUT_FOUND);
	assert_int_equal(lead.out.addrs[0].bytes[3], 4);
}

/* A leader past its deadline by more than a second never came back (a
 * longjmp out of a signal handler): the next caller leads anew. */
static void test_flight_abandoned_leader_replaced(void **state)
{
	(void)state;
	struct leader stuck = {.hold_until_released = true, .keep_s = 0, .address = 5};
	struct asker lead = {.key = "stuck.lab.test/0/0/0", .deadline_ms = nx_now_ms() - 2000,
			     .leader = &stuck};
	assert_int_equal(pthread_create(&lead.thread, NULL, ask, &lead), 0);
	while (!__atomic_load_n(&stuck.calls, __ATOMIC_SEQ_CST))
		util_sleep_ms(5);
	struct leader next = {.keep_s = 0, .address = 6};
	struct nx_found out;
	nx_flight_run("stuck.lab.test/0/0/0", nx_now_ms() + 5000, wait_fn, &next, &out);
	assert_int_equal(next.calls, 1);
	assert_int_equal(out.addrs[0].bytes[3], 6);
	__atomic_store_n(&stuck.release, 1, __ATOMIC_SEQ_CST);
	assert_int_equal(pthread_join(lead.thread, NULL), 0);
	assert_int_equal(lead.out.addrs[0].bytes[3], 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_memo_recalls_what_was_kept, setup),
		cmocka_unit_test_setup(test_memo_keeps_nothing_for_zero_seconds, setup),
		cmocka_unit_test_setup(test_memo_forget, setup),
		cmocka_unit_test_setup(test_memo_newest_of_a_key_wins, setup),
		cmocka_unit_test_setup(test_memo_expires, setup),
		cmocka_unit_test_setup(test_memo_bounded, setup),
		cmocka_unit_test_setup(test_flight_shared_by_threads, setup),
		cmocka_unit_test_setup(test_flight_keys_apart, setup),
		cmocka_unit_test_setup(test_flight_outcome_kept_for_its_time, setup),
		cmocka_unit_test_setup(test_flight_waiter_leaves_at_its_deadline, setup),
		cmocka_unit_test_setup(test_flight_abandoned_leader_replaced, setup),
	};
	return cmocka_run_group_tests_name("memo and flight", tests, NULL, NULL);
}
