/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The one option parser of the verbs: each verb's table (struct
 * vmr_cli_cmd in cmd/cmd.h) drives getopt_long, its --help text and every
 * usage error, so that all verbs behave and word their messages alike.
 */
#include <ctype.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>

#include "cmd/cmd.h"
#include "lib/base/buf.h"
#include "lib/base/util.h"

#define HELP_KEY 'h'
#define LONG_KEY 256	  /* what getopt_long returns for the long-only option i: LONG_KEY + i */
#define OPT_COLUMN_MAX 28 /* an option wider than this has its help on the next line */

static size_t opt_count(const struct vmr_cli_opt *opts)
{
	size_t n = 0;

	while (opts && opts[n].name)
		n++;
	return n;
}

static void see_help(const struct vmr_cli_cmd *cmd)
{
	fprintf(stderr, "vmrun: see 'vmrun%s%s --help'\n", cmd->name ? " " : "",
		cmd->name ? cmd->name : "");
}

static int usage_verror(const struct vmr_cli_cmd *cmd, const char *fmt, va_list ap)
{
	fprintf(stderr, "vmrun: error: %s%s", cmd->name ? cmd->name : "", cmd->name ? ": " : "");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	see_help(cmd);
	return VMR_EXIT_USAGE;
}

int vmr_cli_usage_error(const struct vmr_cli_cmd *cmd, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = usage_verror(cmd, fmt, ap);
	va_end(ap);
	return r;
}

/* "a, b or c" from "a|b|c" */
static char *choices_text(const char *choices)
{
	struct vmr_buf b = VMR_BUF_INIT;
	const char *last = strrchr(choices, '|');

	for (const char *p = choices; *p; p++) {
		if (*p != '|')
			vmr_buf_addc(&b, *p);
		else
			vmr_buf_adds(&b, p == last ? " or " : ", ");
	}
	return vmr_buf_detach(&b);
}

int vmr_cli_choice(const struct vmr_cli_cmd *cmd, const char *name, const char *arg,
		   const char *choices, int *ret)
{
	_cleanup_free_ char *want = NULL;
	const char *p = choices;
	size_t len = strlen(arg);

	for (int i = 0;; i++) {
		const char *end = strchrnul(p, '|');

		if ((size_t)(end - p) == len && strncmp(p, arg, len) == 0) {
			*ret = i;
			return 0;
		}
		if (!*end)
			break;
		p = end + 1;
	}
	want = choices_text(choices);
	return vmr_cli_usage_error(cmd, "invalid --%s '%s': want %s", name, arg, want);
}

int vmr_cli_seconds(const struct vmr_cli_cmd *cmd, const char *name, const char *arg, long long min,
		    long long max, long long *ret)
{
	unsigned long long v;

	if (parse_uint(arg, (unsigned long long)max, &v) < 0 || v < (unsigned long long)min)
		return vmr_cli_usage_error(cmd, "invalid --%s '%s': want seconds (%lld-%lld)", name,
					   arg, min, max);
	*ret = (long long)v;
	return 0;
}

int vmr_cli_count(const struct vmr_cli_cmd *cmd, const char *name, const char *arg, long long min,
		  long long max, long long *ret)
{
	unsigned long long v;

	if (parse_uint(arg, (unsigned long long)max, &v) < 0 || v < (unsigned long long)min)
		return vmr_cli_usage_error(cmd, "invalid --%s '%s': want a number (%lld-%lld)",
					   name, arg, min, max);
	*ret = (long long)v;
	return 0;
}

int vmr_cli_host(const struct vmr_cli_cmd *cmd, const char *opt, const char *arg, const char **ret)
{
	if (opt && *opt && arg)
		return vmr_cli_usage_error(cmd, "--host '%s' and HOST '%s': name the host once",
					   opt, arg);
	*ret = opt && *opt ? opt : arg;
	return 0;
}

/* ---- --help ---- */

/* "  -x, --name ARG" / "      --name [ARG]" */
static char *opt_left(const struct vmr_cli_opt *o)
{
	bool optional = o->flags & VMR_CLI_OPTIONAL_ARG;

	return xasprintf("  %c%c%c --%s%s%s%s%s", o->letter ? '-' : ' ',
			 o->letter ? o->letter : ' ', o->letter ? ',' : ' ', o->name,
			 o->arg ? " " : "", optional ? "[" : "", o->arg ? o->arg : "",
			 optional ? "]" : "");
}

/* text's lines, the first after what is already printed at column col, the others indented to it */
static void print_indented(FILE *f, const char *text, int col)
{
	for (const char *line = text; line;) {
		const char *nl = strchr(line, '\n');

		if (line != text)
			fprintf(f, "%*s", col, "");
		fprintf(f, "%.*s\n", nl ? (int)(nl - line) : (int)strlen(line), line);
		line = nl ? nl + 1 : NULL;
	}
}

/* The options --help lists: cmd's own, or (a parent without) every sub's once. */
static size_t help_opts(const struct vmr_cli_cmd *cmd, const struct vmr_cli_opt ***ret)
{
	const struct vmr_cli_opt **v;
	size_t n = opt_count(cmd->opts), alloc = n + 1;

	for (size_t s = 0; !cmd->opts && cmd->subs && cmd->subs[s]; s++)
		alloc += opt_count(cmd->subs[s]->opts);
	v = xcalloc(alloc, sizeof(*v));
	for (size_t i = 0; i < opt_count(cmd->opts); i++)
		v[i] = &cmd->opts[i];
	for (size_t s = 0; !cmd->opts && cmd->subs && cmd->subs[s]; s++) {
		const struct vmr_cli_opt *o = cmd->subs[s]->opts;

		for (size_t i = 0; i < opt_count(o); i++) {
			bool seen = false;

			for (size_t k = 0; k < n; k++)
				seen = seen || streq(v[k]->name, o[i].name);
			if (!seen)
				v[n++] = &o[i];
		}
	}
	*ret = v;
	return n;
}

static void print_opts(const struct vmr_cli_cmd *cmd, FILE *f)
{
	static const struct vmr_cli_opt help = {
	    .name = "help", .letter = HELP_KEY, .help = "show this help"};
	_cleanup_free_ const struct vmr_cli_opt **opts = NULL;
	size_t n = help_opts(cmd, &opts);
	int col = 0;

	opts[n++] = &help;
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *left = opt_left(opts[i]);
		int w = (int)strlen(left);

		if (w <= OPT_COLUMN_MAX && w > col)
			col = w;
	}
	col += 2;
	fputc('\n', f);
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *left = opt_left(opts[i]);
		int w = (int)strlen(left);

		if (w <= OPT_COLUMN_MAX)
			fprintf(f, "%s%*s", left, col - w, "");
		else
			fprintf(f, "%s\n%*s", left, col, "");
		print_indented(f, opts[i]->help, col);
	}
}

/* The name a parent's list shows for sub: the last word of its name. */
static const char *sub_word(const struct vmr_cli_cmd *sub)
{
	const char *sp = strrchr(sub->name, ' ');

	return sp ? sp + 1 : sub->name;
}

/* "usage: vmrun NAME LINE" per line; a line starting with ' ' continues the one before */
static void print_synopsis(const struct vmr_cli_cmd *cmd, FILE *f, bool *first)
{
	_cleanup_free_ char *prefix =
	    xasprintf("vmrun%s%s ", cmd->name ? " " : "", cmd->name ? cmd->name : "");

	for (const char *line = cmd->synopsis; line;) {
		const char *nl = strchr(line, '\n');
		int len = nl ? (int)(nl - line) : (int)strlen(line);

		if (line[0] == ' ' && !*first)
			fprintf(f, "       %*s%.*s\n", (int)strlen(prefix), "", len - 1, line + 1);
		else
			fprintf(f, "%s %s%.*s\n", *first ? "usage:" : "      ", prefix, len, line);
		*first = false;
		line = nl ? nl + 1 : NULL;
	}
}

/* What a parent calls its sub-verbs: the first word of arg_names, lowercase. */
static char *subs_label(const struct vmr_cli_cmd *cmd)
{
	char *s = xstrndup(cmd->arg_names, strcspn(cmd->arg_names, " "));

	for (char *p = s; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return s;
}

void vmr_cli_usage(const struct vmr_cli_cmd *cmd, FILE *f)
{
	bool first = true;

	if (cmd->synopsis)
		print_synopsis(cmd, f, &first);
	for (size_t s = 0; !cmd->synopsis && cmd->subs && cmd->subs[s]; s++)
		print_synopsis(cmd->subs[s], f, &first);
	fprintf(f, "\n%s\n", cmd->description);
	if (cmd->subs) {
		_cleanup_free_ char *label = subs_label(cmd);
		int w = 0;

		for (size_t s = 0; cmd->subs[s]; s++)
			if ((int)strlen(sub_word(cmd->subs[s])) > w)
				w = (int)strlen(sub_word(cmd->subs[s]));
		fprintf(f, "\n%ss:\n", label);
		for (size_t s = 0; cmd->subs[s]; s++) {
			fprintf(f, "  %-*s  ", w, sub_word(cmd->subs[s]));
			print_indented(f, cmd->subs[s]->summary, w + 4);
		}
	}
	print_opts(cmd, f);
	if (cmd->footer)
		fprintf(f, "\n%s\n", cmd->footer);
	fprintf(f, "\nexit status: %s\n", cmd->exit_status);
}

/* ---- parsing ---- */

/*
 * Whether the long option getopt_long just returned was written out in
 * full: getopt takes any unambiguous prefix, which would make `--host`
 * mean --host-binary in one verb and --host in another.
 */
static bool spelled_out(char **argv, const char *name, const char **ret_word)
{
	/* a separate argument is argv[optind - 1], the option before it */
	const char *word = optarg && optind >= 2 && optarg == argv[optind - 1] ? argv[optind - 2]
									       : argv[optind - 1];
	size_t len = strlen(name);

	*ret_word = word;
	return startswith(word, "--") && strncmp(word + 2, name, len) == 0 &&
	       (word[2 + len] == '\0' || word[2 + len] == '=');
}

static void lists_clear(const struct vmr_cli_cmd *cmd, void *opts)
{
	for (size_t i = 0; i < opt_count(cmd->opts); i++)
		if (cmd->opts[i].kind == VMR_CLI_KIND_LIST)
			vmr_strvec_clear((struct vmr_strvec *)((char *)opts + cmd->opts[i].offset));
}

/* Store o's value arg (NULL: none) in opts; returns VMR_CLI_RUN or the exit status. */
static int store(const struct vmr_cli_cmd *cmd, const struct vmr_cli_opt *o, const char *arg,
		 void *opts)
{
	void *p = (char *)opts + o->offset;

	switch (o->kind) {
	case VMR_CLI_KIND_FLAG:
		*(bool *)p = true;
		break;
	case VMR_CLI_KIND_STRING:
		*(const char **)p = arg ? arg : "";
		break;
	case VMR_CLI_KIND_LIST:
		vmr_strvec_push(p, arg);
		break;
	case VMR_CLI_KIND_CHOICE:
		if (vmr_cli_choice(cmd, o->name, arg, o->arg, p))
			return VMR_EXIT_USAGE;
		break;
	case VMR_CLI_KIND_SECONDS:
		if (vmr_cli_seconds(cmd, o->name, arg, o->min, o->max, p))
			return VMR_EXIT_USAGE;
		break;
	case VMR_CLI_KIND_COUNT:
		if (vmr_cli_count(cmd, o->name, arg, o->min, o->max, p))
			return VMR_EXIT_USAGE;
		break;
	}
	return VMR_CLI_RUN;
}

/* The name of positional argument i in arg_names, without [] and "...". */
static char *arg_name(const char *names, int i)
{
	const char *p = names;
	size_t len;

	for (; i > 0 && strchr(p, ' '); i--)
		p = strchr(p, ' ') + 1;
	p += strspn(p, "[");
	len = strcspn(p, " ]");
	if (len >= 3 && strncmp(p + len - 3, "...", 3) == 0)
		len -= 3;
	return xstrndup(p, len);
}

/* "prep or import" */
static char *subs_text(const struct vmr_cli_cmd *cmd)
{
	struct vmr_buf b = VMR_BUF_INIT;

	for (size_t s = 0; cmd->subs[s]; s++)
		vmr_buf_addf(&b, "%s%s",
			     s == 0		? ""
			     : cmd->subs[s + 1] ? ", "
						: " or ",
			     sub_word(cmd->subs[s]));
	return vmr_buf_detach(&b);
}

static int check_count(const struct vmr_cli_cmd *cmd, const struct vmr_cli_args *a)
{
	const char *names = cmd->arg_names ? cmd->arg_names : "";

	if (a->n < cmd->min_args) {
		_cleanup_free_ char *missing = arg_name(names, a->n);
		_cleanup_free_ char *subs = cmd->subs && cmd->name ? subs_text(cmd) : NULL;

		if (subs)
			return vmr_cli_usage_error(cmd, "missing %s (%s)", missing, subs);
		if (strchr(names, ' '))
			return vmr_cli_usage_error(cmd, "missing %s (want %s)", missing, names);
		return vmr_cli_usage_error(cmd, "missing %s", missing);
	}
	if (cmd->max_args != VMR_CLI_ANY && a->n > cmd->max_args) {
		if (!*names)
			return vmr_cli_usage_error(cmd,
						   "unexpected argument '%s' (takes no arguments)",
						   a->v[cmd->max_args]);
		return vmr_cli_usage_error(cmd, "unexpected argument '%s' (want %s)",
					   a->v[cmd->max_args], names);
	}
	return VMR_CLI_RUN;
}

int vmr_cli_parse(const struct vmr_cli_cmd *cmd, int argc, char **argv, void *opts,
		  struct vmr_cli_args *ret)
{
	size_t n = opt_count(cmd->opts), k = 0;
	_cleanup_free_ struct option *longopts = xcalloc(n + 2, sizeof(*longopts));
	_cleanup_free_ char *shortopts = xcalloc(3 * n + 4, 1);
	_cleanup_free_ bool *given = xcalloc(n + 1, sizeof(*given));
	int status = VMR_CLI_RUN;

	/* a parent's options come before its sub-verb: the sub-verb parses the rest */
	if (cmd->subs)
		shortopts[k++] = '+';
	for (size_t i = 0; i < n; i++) {
		const struct vmr_cli_opt *o = &cmd->opts[i];
		int has = !o->arg			    ? no_argument
			  : o->flags & VMR_CLI_OPTIONAL_ARG ? optional_argument
							    : required_argument;

		longopts[i] =
		    (struct option){o->name, has, NULL, o->letter ? o->letter : LONG_KEY + (int)i};
		if (!o->letter)
			continue;
		shortopts[k++] = (char)o->letter;
		for (int j = 0; j < has; j++)
			shortopts[k++] = ':';
	}
	longopts[n] = (struct option){"help", no_argument, NULL, HELP_KEY};
	shortopts[k] = HELP_KEY;

	optind = 0; /* a full reinitialisation: main parsed its own options before */
	for (;;) {
		const struct vmr_cli_opt *o = NULL;
		const char *arg, *word;
		int idx = -1, c = getopt_long(argc, argv, shortopts, longopts, &idx);

		if (c == -1)
			break;
		if (c != '?' && idx >= 0 && !spelled_out(argv, longopts[idx].name, &word)) {
			/* getopt's own wording */
			fprintf(stderr, "%s: unrecognized option '%s'\n", argv[0], word);
			c = '?';
		}
		if (c == '?') {
			/* getopt named the option already */
			see_help(cmd);
			status = VMR_EXIT_USAGE;
			goto out;
		}
		if (c == HELP_KEY) {
			vmr_cli_usage(cmd, stdout);
			status = VMR_EXIT_OK;
			goto out;
		}
		for (size_t i = 0; i < n && !o; i++) {
			if (longopts[i].val == c) {
				o = &cmd->opts[i];
				given[i] = true;
			}
		}
		arg = optarg;
		if (!arg && (o->flags & VMR_CLI_OPTIONAL_ARG) && optind < argc &&
		    argv[optind][0] != '-')
			arg = argv[optind++];
		status = store(cmd, o, arg, opts);
		if (status != VMR_CLI_RUN)
			goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const struct vmr_cli_opt *o = &cmd->opts[i];

		if ((o->flags & VMR_CLI_REQUIRED) && !given[i]) {
			status = vmr_cli_usage_error(cmd, "missing --%s%s%s", o->name,
						     o->arg ? " " : "", o->arg ? o->arg : "");
			goto out;
		}
	}
	ret->v = argv + optind;
	ret->n = argc - optind;
	status = check_count(cmd, ret);
out:
	if (status != VMR_CLI_RUN && opts)
		lists_clear(cmd, opts);
	return status;
}

int vmr_cli_run_sub(const struct vmr_cli_cmd *cmd, const struct vmr_cli_args *args)
{
	const struct vmr_cli_cmd *sub = NULL;
	_cleanup_free_ char *name = NULL;
	struct vmr_cli_args a;
	int status;

	for (size_t s = 0; cmd->subs[s] && !sub; s++)
		if (streq(sub_word(cmd->subs[s]), args->v[0]))
			sub = cmd->subs[s];
	if (!sub) {
		_cleanup_free_ char *label = subs_label(cmd);
		_cleanup_free_ char *subs = cmd->name ? subs_text(cmd) : NULL;

		return vmr_cli_usage_error(cmd, "unknown %s '%s'%s%s%s", label, args->v[0],
					   subs ? " (" : "", subs ? subs : "", subs ? ")" : "");
	}
	/* getopt's messages then read "vmrun image import: unrecognized option" */
	name = xasprintf("vmrun %s", sub->name);
	args->v[0] = name;
	if (sub->run)
		return sub->run(args->n, args->v);
	status = vmr_cli_parse(sub, args->n, args->v, NULL, &a);
	if (status != VMR_CLI_RUN)
		return status;
	return vmr_cli_run_sub(sub, &a);
}
