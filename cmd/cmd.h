/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMR_CMD_H
#define VMR_CMD_H

/*
 * One thin file per verb: cmd/<verb>.c defines its table `const struct
 * vmr_cli_cmd cmd_<verb>_cli` and `int cmd_<verb>(int argc, char **argv)`
 * (argv[0] is "vmrun VERB", as getopt's messages show it), which parses
 * argv with vmr_cli_parse() and returns the process exit status.  cmd/ is
 * the only code that prints errors (vmr_error_print / diags).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "lib/model/config.h"
#include "lib/base/error.h"
#include "lib/base/strvec.h"
#include "lib/model/topology.h"

/* How an option's value is stored in the verb's options struct (cmd/opts.c). */
enum vmr_cli_kind {
	VMR_CLI_KIND_FLAG,    /* bool: true when given; takes no argument */
	VMR_CLI_KIND_STRING,  /* const char *: the argument (the last one given) */
	VMR_CLI_KIND_LIST,    /* struct vmr_strvec: a copy of every argument, in order */
	VMR_CLI_KIND_CHOICE,  /* int: the index of the argument in .arg ("on|off": 0 or 1) */
	VMR_CLI_KIND_SECONDS, /* long long: whole seconds in .min..max */
};

/*
 * vmr_cli_opt.flags.  VMR_CLI_OPTIONAL_ARG: the argument may be left out
 * (`--host`, `--host NAME`, `--host=NAME`); the next word is taken unless it
 * starts with '-'; left out, the value is "".  For VMR_CLI_KIND_STRING only.
 */
#define VMR_CLI_OPTIONAL_ARG 0x1
#define VMR_CLI_REQUIRED 0x2 /* the verb fails without this option */

/* One option of a verb; a table of them ends with {0}. */
struct vmr_cli_opt {
	const char *name; /* long name, without "--"; always spelled out in full */
	int letter;	  /* short option letter, 0: none ('h' is --help's) */
	const char *arg;  /* its argument's name in the help ("S", "on|off"), NULL: none */
	const char *help; /* lines separated by '\n' */
	enum vmr_cli_kind kind;
	size_t offset; /* of the value in the verb's options struct */
	unsigned flags;
	long long min, max; /* VMR_CLI_KIND_SECONDS */
};

/*
 * The value of an option entry: its kind and where it goes, type-checked
 * against the field (a mismatch does not compile).
 */
#define VMR_CLI_FIELD(type, st, field)                                                             \
	(offsetof(st, field) +                                                                     \
	 0 * sizeof(                                                                               \
		 char[__builtin_types_compatible_p(__typeof__(((st *)0)->field), type) ? 1 : -1]))
#define VMR_CLI_FLAG(st, field) .kind = VMR_CLI_KIND_FLAG, .offset = VMR_CLI_FIELD(bool, st, field)
#define VMR_CLI_STRING(st, field)                                                                  \
	.kind = VMR_CLI_KIND_STRING, .offset = VMR_CLI_FIELD(const char *, st, field)
#define VMR_CLI_LIST(st, field)                                                                    \
	.kind = VMR_CLI_KIND_LIST, .offset = VMR_CLI_FIELD(struct vmr_strvec, st, field)
#define VMR_CLI_CHOICE(st, field)                                                                  \
	.kind = VMR_CLI_KIND_CHOICE, .offset = VMR_CLI_FIELD(int, st, field)
#define VMR_CLI_SECONDS(st, field, lo, hi)                                                         \
	.kind = VMR_CLI_KIND_SECONDS, .offset = VMR_CLI_FIELD(long long, st, field), .min = (lo),  \
	.max = (hi)

/*
 * -H, --host [NAME]: the same option in every verb that has one (up, host,
 * health; docs/verbs.md): the topology host NAME.  Without NAME ("") the
 * verb's default host; where the verb also takes a HOST argument, that
 * argument names it.
 */
#define VMR_CLI_OPT_HOST(help, st, field)                                                          \
	{                                                                                          \
		"host", 'H', "NAME", help, VMR_CLI_STRING(st, field),                              \
		    .flags = VMR_CLI_OPTIONAL_ARG                                                  \
	}

#define VMR_CLI_ANY (-1) /* max_args: no limit */

/*
 * A verb's table: what vmr_cli_parse() accepts and what --help prints:
 *
 *   usage: vmrun NAME SYNOPSIS-LINE-1
 *          vmrun NAME SYNOPSIS-LINE-2
 *
 *   DESCRIPTION
 *
 *   VERBS/COMMANDS (a parent: each sub-verb and its summary)
 *
 *     -x, --option ARG   help
 *     -h, --help         show this help
 *
 *   FOOTER
 *
 *   exit status: EXIT-STATUS
 *
 * Texts have no trailing newline; '\n' separates lines.
 */
struct vmr_cli_cmd {
	const char *name;    /* "args", "image import"; NULL: vmrun itself */
	const char *summary; /* one line for the parent's list (vmrun --help) */
	/* after "vmrun NAME ", a line per usage, a line that starts with ' ' continues
	 * the one before; NULL: a parent's, from its subs */
	const char *synopsis;
	const char *description;	   /* paragraphs */
	const struct vmr_cli_opt *opts;	   /* NULL: none but --help; a parent without: its subs' */
	const char *arg_names;		   /* the positional arguments, "TOPOLOGY [GUEST...]" */
	int min_args, max_args;		   /* how many; max VMR_CLI_ANY: no limit */
	const char *footer;		   /* after the options, or NULL */
	const char *exit_status;	   /* after "exit status: " */
	int (*run)(int argc, char **argv); /* NULL: a parent, which runs one of subs */
	/*
	 * A parent's sub-verbs (NULL-terminated): the first argument names one
	 * (the last word of its name), options only come before it, and the
	 * first word of arg_names names them in messages ("VERB", "COMMAND").
	 */
	const struct vmr_cli_cmd *const *subs;
};

/* The positional arguments vmr_cli_parse() left: pointers into argv. */
struct vmr_cli_args {
	char **v;
	int n;
};

#define VMR_CLI_RUN (-1) /* vmr_cli_parse(): the verb goes on */

/*
 * Parse argv (argv[0] names the verb in getopt's messages) as cmd's table
 * says, storing option values in *opts (NULL when the table has none) and
 * the positional arguments in *ret.  --help anywhere prints the usage on
 * stdout; an unknown or abbreviated option, a missing or invalid argument,
 * a missing required option or a wrong number of arguments prints one
 * message naming it and a "vmrun: see 'vmrun VERB --help'" line on stderr.
 * Returns VMR_CLI_RUN when the verb should go on, else the exit status to
 * return at once (VMR_EXIT_OK after --help, VMR_EXIT_USAGE); then no list
 * in *opts holds anything.
 */
int vmr_cli_parse(const struct vmr_cli_cmd *cmd, int argc, char **argv, void *opts,
		  struct vmr_cli_args *ret);

/*
 * Run the sub-verb of the parent cmd that args->v[0] names (after
 * vmr_cli_parse(cmd)): its argv[0] becomes "vmrun NAME".  Returns its exit
 * status, or prints the usage error and returns VMR_EXIT_USAGE.
 */
int vmr_cli_run_sub(const struct vmr_cli_cmd *cmd, const struct vmr_cli_args *args);

/* Print cmd's usage, generated from its table, to f. */
void vmr_cli_usage(const struct vmr_cli_cmd *cmd, FILE *f);

/*
 * Print "vmrun: error: VERB: MESSAGE" and the see-help line; returns
 * VMR_EXIT_USAGE.
 */
int vmr_cli_usage_error(const struct vmr_cli_cmd *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * The shared value checks (vmr_cli_parse() uses them for its kinds):
 * arg is one of choices ("kvm|tcg|auto"), *ret its index; arg is whole
 * seconds in min..max.  On a bad value print "vmrun: error: VERB: invalid
 * --NAME 'ARG': want ..." and the see-help line and return VMR_EXIT_USAGE;
 * else 0.
 */
int vmr_cli_choice(const struct vmr_cli_cmd *cmd, const char *name, const char *arg,
		   const char *choices, int *ret);
int vmr_cli_seconds(const struct vmr_cli_cmd *cmd, const char *name, const char *arg, long long min,
		    long long max, long long *ret);

/*
 * The host a verb with -H, --host [NAME] and a HOST argument is asked
 * about: NAME, else the argument (NULL: none given), else NULL.  Both
 * naming one is a usage error (printed, VMR_EXIT_USAGE); else 0.
 */
int vmr_cli_host(const struct vmr_cli_cmd *cmd, const char *opt, const char *arg, const char **ret);

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

/* Print "guest 'a' stopped[: how] [(exit status N)]" for a supervisor's status es (< 0: unknown).
 */
void vmr_cli_print_stopped(const char *guest, int es);

/* The verbs main dispatches to; image and host are parents of sub-verbs. */
#define VERB(name) int cmd_##name(int argc, char **argv)
#define VERB_DECLARE(name)                                                                         \
	extern const struct vmr_cli_cmd cmd_##name##_cli;                                          \
	VERB(name)
VERB_DECLARE(validate);
VERB_DECLARE(args);
VERB_DECLARE(define);
VERB_DECLARE(compose);
VERB_DECLARE(kube);
VERB_DECLARE(health);
VERB_DECLARE(run);
VERB_DECLARE(devices);
VERB_DECLARE(up);
VERB_DECLARE(down);
VERB_DECLARE(ps);
VERB_DECLARE(stop);
VERB_DECLARE(kill);
VERB_DECLARE(qmp);
VERB_DECLARE(console);
VERB_DECLARE(probe);
VERB_DECLARE(vnc);
VERB_DECLARE(media);
VERB_DECLARE(reboot);
VERB_DECLARE(pause);
VERB_DECLARE(resume);
VERB_DECLARE(inspect);
VERB_DECLARE(stats);
VERB_DECLARE(exporter);
VERB_DECLARE(restart);
VERB_DECLARE(clone);
VERB_DECLARE(rm);
extern const struct vmr_cli_cmd cmd_image_cli;
extern const struct vmr_cli_cmd cmd_disk_cli;
extern const struct vmr_cli_cmd cmd_snapshot_cli;
extern const struct vmr_cli_cmd cmd_host_cli;

#endif
