/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Libraries loaded on first use (dlib.h). */
#include <dlfcn.h>

#include "lib/base/dlib.h"
#include "lib/base/util.h"

int vmr_dlib_load(const char *soname, const char *why, const struct vmr_dlib_sym *syms, size_t n,
		  struct vmr_error **err)
{
	return vmr_dlib_load_handle(soname, why, syms, n, NULL, err);
}

int vmr_dlib_load_handle(const char *soname, const char *why, const struct vmr_dlib_sym *syms,
			 size_t n, void **ret_handle, struct vmr_error **err)
{
	void *h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);

	if (!h)
		/* dlerror() says why (not found, wrong architecture, a missing dependency) */
		return vmr_error_set(err, 0, "load %s for %s: %s", soname, why, dlerror());
	for (size_t i = 0; i < n; i++) {
		void *p = dlsym(h, syms[i].name);

		if (!p) {
			for (size_t j = 0; j < i; j++)
				*syms[j].addr = NULL;
			dlclose(h);
			return vmr_error_set(err, ENOENT, "load %s for %s: it has no symbol '%s'",
					     soname, why, syms[i].name);
		}
		*syms[i].addr = p;
	}
	if (ret_handle)
		*ret_handle = h;
	return 0;
}
