/* A small file shaped like drivers/iommu/intel/dmar.c, written for the fuzzer's corpus. */
#include <linux/types.h>

#define QI_LENGTH 256
#define QI_IWD_STATUS_DATA(d) (((u64)(d)) << 32)
#define qi_shift(iommu) (4 + !!(iommu)->dw256)

enum qi_state { QI_FREE, QI_IN_USE, QI_DONE, QI_ABORT };

typedef struct q_inval {
	int free_head, free_cnt;
	enum qi_state *desc_status;
	void *desc;
} q_inval_t;

static const char *const names[] = { "free", "in use", "done", "abort" };

struct seg { char c; /* '{' not a brace */ const char *s; };

static inline int qi_next(int i)
{
	return (i + 1) % QI_LENGTH;
}

static int qi_check_fault(struct q_inval *qi, int index)
{
	u32 fault = readl(qi);
	if (fault & (1 << 4)) {
		const char *msg = "IQE: { \"unbalanced\" in a string";
		(void)msg;
		return -EBUSY;
	}
	WRITE_ONCE(qi->free_head, qi_next(index));
	return READ_ONCE(qi->free_cnt) ? 0 : -ETIMEDOUT;
}

int qi_submit_sync(struct q_inval *qi, void *desc, unsigned int count)
{
	int rc, index = qi->free_head;
	char c = '}';
#if 0
	{ unbalanced in a dead branch
#endif
	do {
		rc = qi_check_fault(qi, index);
	} while (rc == -EBUSY && c);
	writel(QI_IWD_STATUS_DATA(QI_DONE), desc);
	return rc;
}
