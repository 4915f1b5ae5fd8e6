/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMR_CMD_H
#define VMR_CMD_H

/*
 * One thin file per verb: cmd/<verb>.c defines `int cmd_<verb>(int argc,
 * char **argv)` (argv[0] is the verb) and returns the process exit status.
 * cmd/ is the only code that prints errors (vmr_error_print / diags).
 */

#include <stdio.h>

#include "lib/model/config.h"
#include "lib/base/error.h"
#include "lib/model/topology.h"

struct vmr_verb {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

/* Options every verb accepts (parsed by main before the verb). */
struct vmr_global_opts {
	const char *config;    /* --config FILE */
	const char *state_dir; /* --state-dir DIR */
};
extern struct vmr_global_opts vmr_opts;

/* Print an error (and hint) and return its exit status. */
int vmr_cli_fail(struct vmr_error *err);

/*
 * Load the host configuration honouring --config/--state-dir; on failure
 * print and return the exit status (> 0), else 0.
 */
int vmr_cli_config(struct vmr_config *ret);

/*
 * Load and validate a topology; on failure print every diagnostic and
 * return the exit status (2 for invalid input), else 0 and *ret.
 */
int vmr_cli_topology(const char *path, struct vmr_topology **ret);

/*
 * Parse a --timeout value for verb: whole seconds in min..max.  On a bad
 * value prints "vmrun: error: VERB: invalid --timeout 'X': ..." and returns
 * VMR_EXIT_USAGE; else 0 and *ret.
 */
int vmr_cli_timeout(const char *verb, const char *arg, unsigned long long min,
		    unsigned long long max, unsigned long long *ret);

/* Print "guest 'a' stopped[: how] [(exit status N)]" for a supervisor's status es (< 0: unknown).
 */
void vmr_cli_print_stopped(const char *guest, int es);

#define VERB(name) int cmd_##name(int argc, char **argv)
VERB(validate);
VERB(args);
VERB(define);
VERB(image);
VERB(compose);
VERB(kube);
VERB(health);
VERB(run);
VERB(host);
VERB(devices);
VERB(up);
VERB(down);
VERB(ps);
VERB(stop);
VERB(kill);
VERB(qmp);
VERB(console);
VERB(probe);

#endif
