/* test_taskstats.c - taskstats messages, as the kernel builds them. */
#include <check.h>
#include <errno.h>
#include <stddef.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/taskstats.h>
#include <stdlib.h>
#include <string.h>

#include "taskstats.h"

#include "unit.h"

struct msg {
	char buf[4096];
	size_t len;
};

static void msg_init(struct msg *m)
{
	struct genlmsghdr gh = {.cmd = TASKSTATS_CMD_NEW, .version = 1};

	memset(m, 0, sizeof(*m));
	memcpy(m->buf, &gh, sizeof(gh));
	m->len = GENL_HDRLEN;
}

/* Open an attribute at the end; returns its offset for nest_end. */
static size_t put(struct msg *m, uint16_t type, const void *data, size_t len)
{
	struct nlattr na = {.nla_len = NLA_HDRLEN + len, .nla_type = type};
	size_t at = m->len;

	memcpy(m->buf + at, &na, sizeof(na));
	if (data)
		memcpy(m->buf + at + NLA_HDRLEN, data, len);
	m->len += NLA_ALIGN(na.nla_len);
	return at;
}

static void nest_end(struct msg *m, size_t at)
{
	struct nlattr *na = (struct nlattr *)(m->buf + at);

	na->nla_len = m->len - at;
}

static void put_aggr(struct msg *m, uint16_t aggr, uint16_t id_type,
		     uint32_t id, uint64_t utime_us, uint64_t stime_us,
		     size_t stats_len)
{
	struct taskstats st = {0};
	size_t nest = put(m, aggr, NULL, 0);

	st.ac_utime = utime_us;
	st.ac_stime = stime_us;
	st.ac_etime = 7;
	st.cpu_run_virtual_total = 123456;
	put(m, id_type, &id, sizeof(id));
	put(m, TASKSTATS_TYPE_STATS, &st, stats_len);
	nest_end(m, nest);
}

static struct ts_rec got[4];
static int ngot;

static void take(const struct ts_rec *rec, void *data)
{
	(void)data;
	if (ngot < 4)
		got[ngot++] = *rec;
}

/* An exit record of a process's last thread: the thread's and the
 * process's; only the thread's counts. */
START_TEST(test_exit_record_thread_only)
{
	struct msg m;

	msg_init(&m);
	ngot = 0;
	put_aggr(&m, TASKSTATS_TYPE_AGGR_PID, TASKSTATS_TYPE_PID, 42, 8000,
		 4000, sizeof(struct taskstats));
	put(&m, TASKSTATS_TYPE_NULL, NULL, 0);
	put_aggr(&m, TASKSTATS_TYPE_AGGR_TGID, TASKSTATS_TYPE_TGID, 40, 99000,
		 99000, sizeof(struct taskstats));
	ck_assert_int_eq(taskstats_parse(m.buf, m.len, take, NULL), 1);
	ck_assert_int_eq(ngot, 1);
	ck_assert_int_eq(got[0].tid, 42);
	ck_assert_uint_eq(got[0].user_ns, 8000000);
	ck_assert_uint_eq(got[0].sys_ns, 4000000);
	ck_assert_uint_eq(got[0].run_ns, 123456);
	ck_assert_uint_eq(got[0].age_ns, 7000);
}
END_TEST

/* A kernel's struct is longer than ours: the fields we read are where
 * they always were. One too short for them is refused. */
START_TEST(test_stats_length)
{
	struct msg m;

	msg_init(&m);
	ngot = 0;
	put_aggr(&m, TASKSTATS_TYPE_AGGR_PID, TASKSTATS_TYPE_PID, 42, 1, 2,
		 offsetof(struct taskstats, ac_stime));
	ck_assert_int_eq(taskstats_parse(m.buf, m.len, take, NULL), -EBADMSG);
	ck_assert_int_eq(ngot, 0);
}
END_TEST

START_TEST(test_truncated_message)
{
	struct msg m;

	msg_init(&m);
	ngot = 0;
	put_aggr(&m, TASKSTATS_TYPE_AGGR_PID, TASKSTATS_TYPE_PID, 42, 1, 2,
		 sizeof(struct taskstats));
	/* the attribute claims more than the message holds: not read */
	ck_assert_int_eq(taskstats_parse(m.buf, m.len - 8, take, NULL), 0);
	ck_assert_int_eq(taskstats_parse(m.buf, 2, take, NULL), -EBADMSG);
	ck_assert_int_eq(ngot, 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("taskstats");
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, test_exit_record_thread_only);
	tcase_add_test(tc, test_stats_length);
	tcase_add_test(tc, test_truncated_message);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
