/* SPDX-License-Identifier: MIT */
/* TEST ONLY (ide_test.h): a slot's invocation counter set as KEY_PROG with that IFV would. */
#include "ide_engine.h"
#include "ide_test.h"

pcitsm_err pcitsm_ide_test_slot_ifv(struct pcitsm_ide_port *p, uint8_t stream_id, unsigned kset,
				    enum pcitsm_ide_dir dir, enum pcitsm_ide_sub sub, uint64_t ifv)
{
	struct pcitsm_ide_stream *s;
	struct pcitsm_ide_slot *sl;

	if (!p || kset > 1 || (unsigned)dir > 1 || (unsigned)sub >= PCITSM_IDE_NR_SUB)
		return PCITSM_E_INVAL;
	s = ide_stream_by_id(p, stream_id);
	if (!s)
		return PCITSM_E_NOTFOUND;
	sl = &s->slot[dir][sub][kset];
	if (!sl->valid)
		return PCITSM_E_STATE;
	if (ifv == 0 || ifv == UINT64_MAX)
		return PCITSM_E_FIELD;
	sl->ctr = ifv;
	return PCITSM_OK;
}
