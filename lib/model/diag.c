/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Diagnostics with positions (lib/model/diag.h). */
#include <stdarg.h>
#include <stdio.h>

#include "lib/base/util.h"
#include "lib/model/diag.h"

void vmr_diags_add(struct vmr_diags *d, const char *file, unsigned line, unsigned col,
		   const char *hint, const char *fmt, ...)
{
	_cleanup_free_ char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	/* a value inherited by several guests can fail the same way twice */
	for (size_t i = 0; i < d->n; i++)
		if (d->v[i].line == line && d->v[i].col == col && streq(d->v[i].msg, msg) &&
		    streq(d->v[i].file, file))
			return;
	XGROW(d->v, d->alloc, d->n + 1);
	d->v[d->n++] = (struct vmr_diag){
	    .file = xstrdup(file ? file : "<input>"),
	    .line = line,
	    .col = col,
	    .msg = TAKE_PTR(msg),
	    .hint = xstrdup(hint),
	};
}

void vmr_diags_print(const struct vmr_diags *d, FILE *f)
{
	for (size_t i = 0; i < d->n; i++) {
		const struct vmr_diag *g = &d->v[i];

		if (g->line)
			fprintf(f, "%s:%u:%u: error: %s\n", g->file, g->line, g->col, g->msg);
		else
			fprintf(f, "%s: error: %s\n", g->file, g->msg);
		if (g->hint)
			fprintf(f, "  hint: %s\n", g->hint);
	}
}

void vmr_diags_clear(struct vmr_diags *d)
{
	for (size_t i = 0; i < d->n; i++) {
		free(d->v[i].file);
		free(d->v[i].msg);
		free(d->v[i].hint);
	}
	free(d->v);
	*d = (struct vmr_diags){0};
}
