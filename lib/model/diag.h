/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMR_DIAG_H
#define VMR_DIAG_H

/*
 * Positions in an input file and the diagnostics made at them: what the
 * YAML reader and the model's checks report, printed by cmd/ as
 * "FILE:LINE:COL: error: MSG" with an optional hint line.
 */

#include <stdio.h>

struct vmr_pos {
	unsigned line, col; /* 1-based; 0 when unknown (built, not loaded) */
};

/* One "FILE:LINE:COL: error: MSG" diagnostic. */
struct vmr_diag {
	char *file;
	unsigned line, col;
	char *msg;
	char *hint; /* "did you mean 'memory'?" or NULL */
};

struct vmr_diags {
	struct vmr_diag *v;
	size_t n, alloc;
};

/*
 * Append "FILE:LINE:COL: error: MSG" (line 0: no position) with an optional
 * hint; an identical diagnostic already in d is not added twice.
 */
void vmr_diags_add(struct vmr_diags *d, const char *file, unsigned line, unsigned col,
		   const char *hint, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* Print each as "FILE:LINE:COL: error: MSG" (+ "  hint: ...") to f. */
void vmr_diags_print(const struct vmr_diags *d, FILE *f);
/* Free every diagnostic; d is empty and reusable afterwards. */
void vmr_diags_clear(struct vmr_diags *d);

#endif
