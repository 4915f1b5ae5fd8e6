/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdio.h>
#include <string.h>

#include "lib/base/error.h"
#include "lib/base/util.h"

int vmr_error_ret(const struct vmr_error *err)
{
	if (err && err->errnum > 0)
		return -err->errnum;
	return -1;
}

int vmr_error_setv(struct vmr_error **err, int status, int errnum, const char *fmt, va_list ap)
{
	struct vmr_error *e;
	char *msg = NULL;

	if (errnum < 0)
		errnum = -errnum;
	if (!err)
		return errnum ? -errnum : -1;
	msg = xvasprintf(fmt, ap);
	e = xcalloc(1, sizeof(*e));
	e->errnum = errnum;
	e->status = status;
	e->msg = msg;
	vmr_error_free(*err); /* a second error replaces the first */
	*err = e;
	return vmr_error_ret(e);
}

int vmr_error_set(struct vmr_error **err, int errnum, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vmr_error_setv(err, VMR_EXIT_FAILURE, errnum, fmt, ap);
	va_end(ap);
	return r;
}

int vmr_error_usage(struct vmr_error **err, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vmr_error_setv(err, VMR_EXIT_USAGE, EINVAL, fmt, ap);
	va_end(ap);
	return r;
}

int vmr_error_wrap(struct vmr_error **err, const char *fmt, ...)
{
	_cleanup_free_ char *prefix = NULL;
	char *msg;
	va_list ap;

	if (!err || !*err)
		return -1;
	va_start(ap, fmt);
	prefix = xvasprintf(fmt, ap);
	va_end(ap);
	msg = xasprintf("%s: %s", prefix, (*err)->msg);
	free((*err)->msg);
	(*err)->msg = msg;
	return vmr_error_ret(*err);
}

void vmr_error_hint(struct vmr_error **err, const char *fmt, ...)
{
	va_list ap;
	char *h = NULL;

	if (!err || !*err)
		return;
	va_start(ap, fmt);
	h = xvasprintf(fmt, ap);
	va_end(ap);
	free((*err)->hint);
	(*err)->hint = h;
}

void vmr_error_free(struct vmr_error *err)
{
	if (!err)
		return;
	free(err->msg);
	free(err->hint);
	free(err);
}

void vmr_error_clear(struct vmr_error **err)
{
	if (err) {
		vmr_error_free(*err);
		*err = NULL;
	}
}

char *vmr_error_text(const struct vmr_error *err)
{
	if (!err)
		return xstrdup("unknown error");
	if (err->errnum > 0 && err->status != VMR_EXIT_USAGE)
		return xasprintf("%s: %s", err->msg, strerror(err->errnum));
	return xstrdup(err->msg);
}

void vmr_error_print(const struct vmr_error *err, FILE *f)
{
	_cleanup_free_ char *text = vmr_error_text(err);

	fprintf(f, "vmrun: error: %s\n", text);
	if (err && err->hint)
		fprintf(f, "vmrun: hint: %s\n", err->hint);
}
