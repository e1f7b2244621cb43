// SPDX-License-Identifier: MIT
/* Device memory: copied in and out, registered, imported and exported;
 * UNSUPPORTED with the device's own answer when absent. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "verbs_common.h"

/* Device memory: copied in and out, and registered as a region that a
 * remote write lands in (zero-based: addresses are offsets into it). */
RG_TEST_F(verbs, dm, rc_pair)
{
	struct ibv_alloc_dm_attr attr = { .length = 4096 };
	struct ibv_dm *dm;
	struct ibv_mr *mr;
	struct ibv_sge sge;
	struct ibv_send_wr wr = V_SEND_WR(81, IBV_WR_RDMA_WRITE, &sge);
	struct ibv_wc wc;
	uint8_t in[64], out[64];

	dm = ibv_alloc_dm(self->dev.ctx, &attr);
	if (!dm) {
		int err = errno;

#ifdef HAVE_IBV_IMPORT_DM
		RG_EXPECT_NULL(ibv_import_dm(self->dev.ctx, 0));
#endif
		rg_unsupported_or_fail(err, "ibv_alloc_dm");
	}
	v_fill(in, sizeof(in), 4);
	RG_EXPECT_EQ(ibv_memcpy_to_dm(dm, 0, in, sizeof(in)), 0);
	RG_EXPECT_EQ(ibv_memcpy_from_dm(out, dm, 0, sizeof(out)), 0);
	RG_EXPECT_DATA(v_check(out, sizeof(out), 4));
	mr = ibv_reg_dm_mr(self->dev.pd, dm, 0, 4096,
			   IBV_ACCESS_ZERO_BASED | IBV_ACCESS_LOCAL_WRITE |
				   IBV_ACCESS_REMOTE_WRITE);
	if (!mr)
		rg_fail("ibv_reg_dm_mr: %s", strerror(errno));
	v_fill(self->a.buf, 64, 94);
	v_sge(&sge, self->a.buf, 64, self->a.mr->lkey);
	wr.wr.rdma.remote_addr = 1024;
	wr.wr.rdma.rkey = mr->rkey;
	v_post_send(self->a.qp, &wr);
	v_wait(self->a.cq, &wc, "a write into device memory");
	v_expect_wc(&wc, IBV_WC_RDMA_WRITE, 81);
	RG_EXPECT_EQ(ibv_memcpy_from_dm(out, dm, 1024, sizeof(out)), 0);
	RG_EXPECT_DATA(v_check(out, sizeof(out), 94));
	RG_EXPECT_EQ(ibv_dereg_mr(mr), 0);
#ifdef HAVE_IBV_DM_EXPORT_DMABUF_FD
	{
		/* Device memory exported as a DMA-buf, or refused with the
		 * device's errno (recorded: the profile names it). */
		int fd = ibv_dm_export_dmabuf_fd(dm);

		if (fd >= 0)
			close(fd);
		rg_observe_errno("dm_export_dmabuf_fd",
				 "ibv_dm_export_dmabuf_fd",
				 fd >= 0 ? 0 : errno);
	}
#endif
	RG_EXPECT_EQ(ibv_free_dm(dm), 0);
}
