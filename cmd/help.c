/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vmrun help [--man] [VERB [COMMAND]]: a verb's usage, or its manual page. */
#include <stdio.h>

#include "version.h"

#include "cmd/cmd.h"
#include "lib/base/util.h"

struct help_opts {
	bool man;
};

static const struct vmr_cli_opt help_options[] = {
    {"man", 'm', NULL,
     "print the manual page instead, in roff (man(7)):\n"
     "vmrun help --man run | man -l -",
     VMR_CLI_FLAG(struct help_opts, man)},
    {0},
};

const struct vmr_cli_cmd cmd_help_cli = {
    .name = "help",
    .summary = "show the usage of vmrun or of a verb, or its manual page",
    .synopsis = "[--man] [VERB [COMMAND]]",
    .description = "Print the usage of VERB (or of its COMMAND: `vmrun help image prep`), as\n"
		   "`vmrun VERB --help` does, or of vmrun itself.  With --man, print its\n"
		   "manual page in roff instead: the installed pages vmrun(1) and\n"
		   "vmrun-VERB(1) are made this way, from the same tables as --help.",
    .opts = help_options,
    .arg_names = "[VERB [COMMAND]]",
    .max_args = 2,
    .exit_status = "0 printed, 2 bad usage or an unknown verb",
    .run = cmd_help,
};

/* The sub-verb of parent named word, or NULL. */
static const struct vmr_cli_cmd *help_find(const struct vmr_cli_cmd *parent, const char *word)
{
	for (size_t s = 0; parent->subs && parent->subs[s]; s++) {
		const char *sp = strrchr(parent->subs[s]->name, ' ');

		if (streq(sp ? sp + 1 : parent->subs[s]->name, word))
			return parent->subs[s];
	}
	return NULL;
}

VERB(help)
{
	struct help_opts o = {0};
	const struct vmr_cli_cmd *cmd = &cmd_main_cli;
	struct vmr_cli_args a;
	int status;

	status = vmr_cli_parse(&cmd_help_cli, argc, argv, &o, &a);
	if (status != VMR_CLI_RUN)
		return status;
	for (int i = 0; i < a.n; i++) {
		const struct vmr_cli_cmd *sub = help_find(cmd, a.v[i]);

		if (!sub && !cmd->subs)
			return vmr_cli_usage_error(&cmd_help_cli, "'%s' has no commands",
						   cmd->name);
		if (!sub)
			return vmr_cli_usage_error(&cmd_help_cli, "unknown %s '%s'",
						   i == 0 ? "verb" : "command", a.v[i]);
		cmd = sub;
	}
	if (o.man)
		vmr_cli_man(cmd, &cmd_main_cli, VMR_VERSION, stdout);
	else
		vmr_cli_usage(cmd, stdout);
	return fflush(stdout) == 0 ? VMR_EXIT_OK : VMR_EXIT_FAILURE;
}
