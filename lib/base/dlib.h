/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMR_DLIB_H
#define VMR_DLIB_H

#include <stddef.h>

#include "lib/base/error.h"

/*
 * A library loaded when a verb first needs it instead of at every exec of
 * vmrun: libisofs (the cloud-init seed) and libpci (`vmrun devices`) brought
 * six more shared objects into every vmrun process, the supervisor's
 * included, whose relocation cost CPU at each exec and whose relocated and
 * written pages cost memory for as long as a supervisor runs
 * (docs/performance.md).  Their headers still give the types.
 *
 * A table of the symbols wanted, each with where its address goes:
 *
 *   #define SYMS(X) X(image_new) X(image_unref)
 *   #define X(f) {"iso_" #f, (void **)&tab.f},
 *   static const struct vmr_dlib_sym syms[] = {SYMS(X)};
 */
struct vmr_dlib_sym {
	const char *name;
	void **addr;
};

/*
 * dlopen(soname, RTLD_NOW | RTLD_LOCAL) and resolve every symbol.  Fails
 * naming the library, what it is for (why, e.g. "the cloud-init
 * seed (Debian package libisofs6)") and dlerror()'s text, or (ENOENT) the missing
 * symbol; nothing is resolved then.  A library loaded stays loaded.
 */
int vmr_dlib_load(const char *soname, const char *why, const struct vmr_dlib_sym *syms, size_t n,
		  struct vmr_error **err);

/*
 * The same, and *ret_handle gets the library's handle: a caller that keeps
 * it knows the library is loaded and resolves nothing again (libcrypt for
 * the seed's password, libseccomp for building the supervisor's filter).
 */
int vmr_dlib_load_handle(const char *soname, const char *why, const struct vmr_dlib_sym *syms,
			 size_t n, void **ret_handle, struct vmr_error **err);

#endif
