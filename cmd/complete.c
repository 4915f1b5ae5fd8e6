/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vmrun __complete CWORD WORD...: the candidates for the word at index CWORD
 * of the command line WORD... (WORD 0 is "vmrun"), for the bash and zsh
 * completion scripts (completion/).  Hidden: `vmrun --help` does not list it.
 *
 * Everything comes from the verbs' tables (cmd/opts.c): verbs, sub-verbs,
 * options and their values (a CHOICE's words), and the kind of each
 * positional argument from its name in arg_names: TOPOLOGY and SRC/DEST are
 * files, GUEST is a guest of the TOPOLOGY given before it (else a guest in
 * the state directory, a running one for the verbs that need one), HOST a
 * host of that topology, qmp's COMMAND a command the running guest's QEMU
 * offers (query-commands), snapshot's NAME a snapshot of the guest and disk
 * grow's DISK one of its disks, probe's FEATURE a feature.
 *
 * Output: one candidate a line, "WORD\tDESCRIPTION" where there is one, or
 * one directive line: ":files" (file names), ":yaml" (YAML files and
 * directories), ":dirs" (directories).  The
 * candidates already match the word's prefix.  Exit status 0 whatever was
 * found; a topology that does not load or a guest that does not answer
 * gives no candidates, never a message.
 */
#include <jansson.h>
#include <limits.h>
#include <stdio.h>

#include "cmd/cmd.h"
#include "lib/base/statedir.h"
#include "lib/base/util.h"
#include "lib/devices/devices.h"
#include "lib/runtime/control.h"
#include "lib/runtime/guestinfo.h"
#include "lib/runtime/snapshot.h"

#define COMPLETE_QMP_TIMEOUT_MS 2000

struct complete {
	const char *cur;       /* the word being completed (after "--opt=" when so written) */
	const char *topology;  /* the TOPOLOGY argument given, if any */
	const char *guest;     /* the GUEST argument given, if any */
	const char *config;    /* --config FILE given before the verb */
	const char *state_dir; /* --state-dir DIR given before the verb */
	const char *first;     /* the first positional argument of the verb */
	const struct vmr_cli_cmd *verb; /* the top-level verb (for per-verb argument kinds) */
	const struct vmr_cli_cmd *cmd;	/* the verb or its sub-verb ("snapshot revert") */
};

static void candidate(const struct complete *c, const char *word, const char *desc)
{
	const char *nl = desc ? strchr(desc, '\n') : NULL;

	if (!startswith(word, c->cur))
		return;
	if (desc)
		printf("%s\t%.*s\n", word, nl ? (int)(nl - desc) : (int)strlen(desc), desc);
	else
		printf("%s\n", word);
}

static const struct vmr_cli_opt *find_opt(const struct vmr_cli_cmd *cmd, const char *name,
					  int letter)
{
	for (size_t i = 0; cmd->opts && cmd->opts[i].name; i++) {
		const struct vmr_cli_opt *o = &cmd->opts[i];

		if ((name && streq(o->name, name)) || (letter && o->letter == letter))
			return o;
	}
	return NULL;
}

/* The sub-verb of parent cmd named word, or NULL. */
static const struct vmr_cli_cmd *find_sub(const struct vmr_cli_cmd *cmd, const char *word)
{
	for (size_t s = 0; cmd->subs && cmd->subs[s]; s++) {
		const char *sp = strrchr(cmd->subs[s]->name, ' ');

		if (streq(sp ? sp + 1 : cmd->subs[s]->name, word))
			return cmd->subs[s];
	}
	return NULL;
}

static void config_state_dir(const struct complete *c, struct vmr_config *cfg)
{
	if (vmr_config_load(c->config, cfg, NULL) < 0)
		*cfg = (struct vmr_config){0};
	if (c->state_dir) {
		free(cfg->state_dir);
		cfg->state_dir = xstrdup(c->state_dir);
	}
}

/* the guests in the state directory; only those a supervisor runs if running */
static void complete_state_guests(const struct complete *c, bool running)
{
	struct vmr_config cfg = {0};
	struct vmr_strvec names = VMR_STRVEC_INIT;

	config_state_dir(c, &cfg);
	if (cfg.state_dir && vmr_guest_list(cfg.state_dir, &names, NULL) == 0) {
		for (size_t i = 0; i < names.n; i++) {
			pid_t pid = 0;

			if (!running ||
			    vmr_statedir_probe(cfg.state_dir, names.v[i], &pid, NULL) > 0)
				candidate(c, names.v[i], running ? "running" : NULL);
		}
	}
	vmr_strvec_clear(&names);
	vmr_config_free(&cfg);
}

/* guests (or hosts) of the TOPOLOGY on the command line */
static void complete_topology(const struct complete *c, bool hosts)
{
	struct vmr_topology *t = NULL;
	struct vmr_diags diags = {0};

	if (!c->topology || vmr_topology_load(c->topology, vmr_device_kinds(), &t, &diags) < 0) {
		vmr_diags_clear(&diags);
		return;
	}
	vmr_diags_clear(&diags);
	for (size_t i = 0; hosts && i < t->nhosts; i++)
		candidate(c, t->hosts[i].name, "host");
	for (size_t i = 0; !hosts && i < t->nguests; i++)
		candidate(c, t->guests[i].name, t->guests[i].host ? t->guests[i].host : NULL);
	vmr_topology_free(t);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * The verbs whose GUEST may be stopped (they act on its disks or describe
 * it); the others without a TOPOLOGY want a guest a supervisor runs.
 */
static bool verb_takes_stopped(const char *verb)
{
	static const char *const any[] = {"ps", "inspect", "snapshot", "disk", NULL};

	for (size_t i = 0; any[i]; i++)
		if (streq(verb, any[i]))
			return true;
	return false;
}

/*
 * The guest's snapshots (snapshot revert|delete GUEST NAME) or its disk ids
 * (disk grow GUEST DISK): a stopped guest's are read from its disks
 * without its lock (qemu-img -U), so a completion never delays a start.
 */
static void complete_guest_disks(const struct complete *c, bool snapshots)
{
	struct vmr_config cfg = {0};
	struct vmr_guest_info gi = {0};
	json_t *list = NULL, *e;
	size_t i;

	if (!c->guest)
		return;
	config_state_dir(c, &cfg);
	if (!cfg.state_dir || vmr_guest_info_get(&cfg, c->guest, NULL, false, &gi, NULL) < 0) {
		vmr_config_free(&cfg);
		return;
	}
	if (snapshots) {
		if (vmr_snapshot_info_do(&cfg, &gi, VMR_SNAPSHOT_LIST, NULL, &list, NULL) == 0)
			json_array_foreach(list, i, e)
			{
				const char *name = json_string_value(json_object_get(e, "name"));

				if (name)
					candidate(c, name,
						  gi.running ? "snapshot" : "snapshot (disks)");
			}
	} else {
		json_array_foreach(gi.disks, i, e)
		{
			const char *id = json_string_value(json_object_get(e, "id"));
			const char *file = json_string_value(json_object_get(e, "file"));

			if (id && !streq(id, "seed"))
				candidate(c, id, file);
		}
	}
	json_decref(list);
	vmr_guest_info_free(&gi);
	vmr_config_free(&cfg);
}

/* the QMP commands the running guest's QEMU offers */
static void complete_qmp_commands(const struct complete *c)
{
	struct vmr_config cfg = {0};
	json_t *req, *ret = NULL;
	struct vmr_strvec names = VMR_STRVEC_INIT;
	size_t i;
	json_t *cmd;

	if (!c->guest)
		return;
	config_state_dir(c, &cfg);
	req = json_pack("{s:{s:s}}", "qmp", "execute", "query-commands");
	if (cfg.state_dir && vmr_control_call(cfg.state_dir, c->guest, req, COMPLETE_QMP_TIMEOUT_MS,
					      &ret, NULL, NULL) == 0) {
		json_array_foreach(ret, i, cmd)
		{
			const char *name = json_string_value(json_object_get(cmd, "name"));

			if (name)
				vmr_strvec_push(&names, name);
		}
	}
	qsort(names.v, names.n, sizeof(*names.v), cmp_str);
	for (i = 0; i < names.n; i++)
		candidate(c, names.v[i], NULL);
	vmr_strvec_clear(&names);
	json_decref(ret);
	json_decref(req);
	vmr_config_free(&cfg);
}

/* The kind of a value named name ("TOPOLOGY", "DIR", "NAME"...) of verb's argument or option. */
static void complete_value(struct complete *c, const char *name, const char *choices)
{
	const char *verb = c->verb && c->verb->name ? c->verb->name : "";

	if (choices) {
		for (const char *p = choices; *p;) {
			size_t len = strcspn(p, "|");
			_cleanup_free_ char *w = xstrndup(p, len);

			candidate(c, w, NULL);
			p += len + (p[len] == '|');
		}
	} else if (streq(name, "TOPOLOGY")) {
		printf(":yaml\n");
	} else if (streq(name, "FILE") || streq(name, "SRC") || streq(name, "DEST") ||
		   streq(name, "PATH")) {
		printf(":files\n");
	} else if (streq(name, "DIR") || streq(name, "SRCDIR")) {
		printf(":dirs\n");
	} else if (streq(name, "GUEST")) {
		if (c->topology)
			complete_topology(c, false);
		else
			complete_state_guests(c, !verb_takes_stopped(verb));
	} else if (streq(name, "NAME") && c->cmd &&
		   (streq(c->cmd->name, "snapshot revert") ||
		    streq(c->cmd->name, "snapshot delete"))) {
		complete_guest_disks(c, true);
	} else if (streq(name, "DISK") && streq(verb, "disk")) {
		complete_guest_disks(c, false);
	} else if (streq(name, "HOST") || (streq(name, "NAME") && c->topology)) {
		complete_topology(c, true);
	} else if (streq(name, "COMMAND") && streq(verb, "qmp")) {
		complete_qmp_commands(c);
	} else if (streq(name, "FEATURE")) {
		for (size_t i = 0; cmd_probe_feature(i); i++)
			candidate(c, cmd_probe_feature(i), NULL);
	}
}

/*
 * The name of positional argument i in names ("TOPOLOGY [GUEST...]"),
 * without brackets and dots; past the last, the last again when it repeats
 * ("..."); NULL when there is none.
 */
static char *positional_name(const char *names, int i)
{
	const char *p = names, *tok = NULL;
	size_t len = 0;

	for (int k = 0; *p && k <= i; k++) {
		p += strspn(p, " ");
		if (!*p)
			break;
		tok = p;
		len = strcspn(p, " ");
		p += len;
		if (k == i)
			goto found;
	}
	/* i is past the last one: only a repeating one goes on */
	if (!tok || !memmem(tok, len, "...", 3))
		return NULL;
found:
	while (len > 0 && (*tok == '['))
		tok++, len--;
	while (len > 0 && (tok[len - 1] == ']' || tok[len - 1] == '.'))
		len--;
	return xstrndup(tok, len);
}

static void complete_options(const struct complete *c, const struct vmr_cli_cmd *cmd)
{
	for (size_t i = 0; cmd->opts && cmd->opts[i].name; i++) {
		_cleanup_free_ char *w = xasprintf("--%s", cmd->opts[i].name);

		candidate(c, w, cmd->opts[i].help);
	}
	candidate(c, "--help", "show the usage");
}

static void complete_subs(const struct complete *c, const struct vmr_cli_cmd *cmd)
{
	for (size_t s = 0; cmd->subs[s]; s++) {
		const char *sp = strrchr(cmd->subs[s]->name, ' ');

		candidate(c, sp ? sp + 1 : cmd->subs[s]->name, cmd->subs[s]->summary);
	}
}

VERB(complete)
{
	const struct vmr_cli_cmd *cmd = &cmd_main_cli;
	struct complete c = {0};
	char **words;
	int cword, nwords, npos = 0;
	bool dashdash = false;
	unsigned long long n;

	if (argc < 3 || parse_uint(argv[1], INT_MAX, &n) < 0 || (int)n < 1 || (int)n > argc - 2) {
		fprintf(stderr, "vmrun: error: __complete: want CWORD WORD...\n");
		return VMR_EXIT_USAGE;
	}
	words = argv + 2;
	nwords = argc - 2;
	cword = (int)n;
	c.cur = cword < nwords ? words[cword] : "";

	/* the words before the current one: verb, sub-verb, options, arguments */
	for (int i = 1; i < cword; i++) {
		const char *w = words[i];
		const struct vmr_cli_opt *o = NULL;

		if (!dashdash && streq(w, "--")) {
			dashdash = true;
			continue;
		}
		if (!dashdash && startswith(w, "--")) {
			_cleanup_free_ char *name = xstrndup(w + 2, strcspn(w + 2, "="));

			o = find_opt(cmd, name, 0);
			if (o && o->arg && !strchr(w, '=') && !(o->flags & VMR_CLI_OPTIONAL_ARG) &&
			    i + 1 < cword) {
				i++;
				if (cmd == &cmd_main_cli && streq(o->name, "config"))
					c.config = words[i];
				else if (cmd == &cmd_main_cli && streq(o->name, "state-dir"))
					c.state_dir = words[i];
			} else if (o && strchr(w, '=') && cmd == &cmd_main_cli) {
				if (streq(o->name, "config"))
					c.config = strchr(w, '=') + 1;
				else if (streq(o->name, "state-dir"))
					c.state_dir = strchr(w, '=') + 1;
			}
			continue;
		}
		if (!dashdash && w[0] == '-' && w[1]) {
			/* -x VALUE, -xVALUE */
			o = find_opt(cmd, NULL, w[1]);
			if (o && o->arg && !w[2] && !(o->flags & VMR_CLI_OPTIONAL_ARG) &&
			    i + 1 < cword)
				i++;
			continue;
		}
		if (cmd->subs) {
			const struct vmr_cli_cmd *sub = find_sub(cmd, w);

			if (!sub)
				return VMR_EXIT_OK;
			cmd = sub;
			if (!c.verb)
				c.verb = sub;
			dashdash = false;
			continue;
		}
		/* a positional argument */
		{
			_cleanup_free_ char *name =
			    positional_name(cmd->arg_names ? cmd->arg_names : "", npos);

			if (npos == 0)
				c.first = w;
			if (name && streq(name, "TOPOLOGY"))
				c.topology = w;
			else if (name && streq(name, "GUEST") && !c.guest)
				c.guest = w;
			npos++;
		}
	}

	c.cmd = cmd;
	/* the current word */
	if (!dashdash && startswith(c.cur, "--") && strchr(c.cur, '=')) {
		_cleanup_free_ char *name = xstrndup(c.cur + 2, strcspn(c.cur + 2, "="));
		const struct vmr_cli_opt *o = find_opt(cmd, name, 0);

		c.cur = strchr(c.cur, '=') + 1;
		if (o && o->arg)
			complete_value(&c, o->arg, o->kind == VMR_CLI_KIND_CHOICE ? o->arg : NULL);
		return VMR_EXIT_OK;
	}
	if (cword >= 2 && !dashdash) {
		const char *prev = words[cword - 1];
		const struct vmr_cli_opt *o = NULL;

		if (startswith(prev, "--") && !strchr(prev, '='))
			o = find_opt(cmd, prev + 2, 0);
		else if (prev[0] == '-' && prev[1] && prev[1] != '-' && !prev[2])
			o = find_opt(cmd, NULL, prev[1]);
		if (o && o->arg && !(o->flags & VMR_CLI_OPTIONAL_ARG)) {
			complete_value(&c, o->arg, o->kind == VMR_CLI_KIND_CHOICE ? o->arg : NULL);
			return VMR_EXIT_OK;
		}
		/* --host [NAME]: a name, or anything else after it */
		if (o && (o->flags & VMR_CLI_OPTIONAL_ARG) && c.cur[0] != '-')
			complete_value(&c, o->arg, NULL);
	}
	if (!dashdash && c.cur[0] == '-') {
		complete_options(&c, cmd);
		return VMR_EXIT_OK;
	}
	if (cmd->subs) {
		complete_subs(&c, cmd);
		return VMR_EXIT_OK;
	}
	{
		_cleanup_free_ char *name =
		    positional_name(cmd->arg_names ? cmd->arg_names : "", npos);

		if (!name)
			return VMR_EXIT_OK;
		if (streq(name, "VERB")) {
			complete_subs(&c, &cmd_main_cli);
		} else if (streq(name, "COMMAND") && streq(cmd->name, "help")) {
			const struct vmr_cli_cmd *v =
			    c.first ? find_sub(&cmd_main_cli, c.first) : NULL;

			if (v && v->subs)
				complete_subs(&c, v);
		} else {
			complete_value(&c, name, NULL);
		}
	}
	return VMR_EXIT_OK;
}
