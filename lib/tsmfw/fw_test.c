/* SPDX-License-Identifier: MIT */
/* TEST ONLY (fw_test.h): the firmware's memory, read by tests. */
#include "fw.h"
#include "fw_test.h"

const struct pcitsm_session *pcitsm_tio_test_session(struct pcitsm_tio_fw *fw, uint16_t segment,
						     uint16_t rid)
{
	const struct pcitsm_session *sm = NULL;

	if (!fw)
		return NULL;
	pthread_mutex_lock(&fw->lock);
	for (const struct pcitsm_tio_dev *d = fw->devs; d && !sm; d = d->next)
		if (d->segment == segment && d->rid == rid && d->session_open)
			sm = &d->s.sm;
	pthread_mutex_unlock(&fw->lock);
	return sm;
}
