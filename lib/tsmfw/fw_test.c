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

pcitsm_err pcitsm_tio_test_session_unsigned_measurements(struct pcitsm_tio_fw *fw, uint16_t segment,
							 uint16_t rid)
{
	struct pcitsm_tio_dev *d = NULL;

	if (!fw)
		return PCITSM_E_INVAL;
	pthread_mutex_lock(&fw->lock);
	for (struct pcitsm_tio_dev *p = fw->devs; p && !d; p = p->next)
		if (p->segment == segment && p->rid == rid && p->session_open)
			d = p;
	pthread_mutex_unlock(&fw->lock);
	if (!d)
		return PCITSM_E_NOTFOUND;
	return pcitsm_spdm_drv_session_measurements(&d->s, &d->x, 0xff, false);
}
