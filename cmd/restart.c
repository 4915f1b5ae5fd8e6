/* placeholder while being written */
#include "cmd/cmd.h"
const struct vmr_cli_cmd cmd_restart_cli = {.name = "restart", .summary = "x", .run = cmd_restart};
VERB(restart) { return 2; }
