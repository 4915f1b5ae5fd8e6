/* placeholder while being written */
#include "cmd/cmd.h"
const struct vmr_cli_cmd cmd_rm_cli = {.name = "rm", .summary = "x", .run = cmd_rm};
VERB(rm)
{
	return 2;
}
