/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdarg.h>
#include <stdio.h>

#include "lib/base/strvec.h"
#include "lib/base/util.h"

void vmr_strvec_push_take(struct vmr_strvec *sv, char *s)
{
	XGROW(sv->v, sv->alloc, sv->n + 2);
	sv->v[sv->n++] = s;
	sv->v[sv->n] = NULL;
}

void vmr_strvec_push(struct vmr_strvec *sv, const char *s)
{
	vmr_strvec_push_take(sv, xstrdup(s));
}

void vmr_strvec_pushf(struct vmr_strvec *sv, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	vmr_strvec_push_take(sv, s);
}

void vmr_strvec_pushv(struct vmr_strvec *sv, const char *const *v)
{
	for (; v && *v; v++)
		vmr_strvec_push(sv, *v);
}

void vmr_strvec_clear(struct vmr_strvec *sv)
{
	for (size_t i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	sv->v = NULL;
	sv->n = sv->alloc = 0;
}

char **vmr_strvec_detach(struct vmr_strvec *sv)
{
	char **v;

	if (!sv->v)
		vmr_strvec_push_take(sv, NULL), sv->n = 0;
	v = sv->v;
	sv->v = NULL;
	sv->n = sv->alloc = 0;
	return v;
}

void vmr_strv_free(char **v)
{
	if (!v)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}
