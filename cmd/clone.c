/* placeholder while being written */
#include "cmd/cmd.h"
const struct vmr_cli_cmd cmd_clone_cli = {.name = "clone", .summary = "x", .run = cmd_clone};
VERB(clone) { return 2; }
