/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The files of a compose context, generated in memory and then written. */
#include <fcntl.h>
#include <stdio.h>

#include "compose/compose.h"
#include "lib/base/fsutil.h"
#include "lib/base/util.h"

/* a vmrun binary is a few MB; an ASan build a few tens */
#define BINARY_MAX (512u << 20)

void compose_files_add(struct vmr_compose_files *files, const char *name, struct vmr_buf *data,
		       unsigned mode)
{
	XGROW(files->v, files->alloc, files->n + 1);
	files->v[files->n++] = (struct vmr_compose_file){
	    .name = xstrdup(name),
	    .data = *data,
	    .mode = mode,
	};
	*data = (struct vmr_buf)VMR_BUF_INIT;
}

void compose_files_free(struct vmr_compose_files *files)
{
	if (!files)
		return;
	for (size_t i = 0; i < files->n; i++) {
		free(files->v[i].name);
		vmr_buf_free(&files->v[i].data);
	}
	free(files->v);
	*files = (struct vmr_compose_files){0};
}

int compose_context_build(const struct vmr_topology *t, const struct vmr_compose_opts *o,
			  const char *topology_text, size_t topology_len,
			  struct vmr_compose_files *ret, struct vmr_error **err)
{
	struct vmr_compose_files files = {0};
	struct vmr_buf b = VMR_BUF_INIT;
	int r;

	r = compose_file_build(t, o, true, &b, err);
	if (r < 0)
		goto fail;
	compose_files_add(&files, "compose.yml", &b, 0644);
	r = compose_file_build(t, o, false, &b, err);
	if (r < 0)
		goto fail;
	compose_files_add(&files, "compose.v1.yml", &b, 0644);
	r = compose_script_build(t, o, &b, err);
	if (r < 0)
		goto fail;
	compose_files_add(&files, "compose.sh", &b, 0755);
	compose_dockerfile_build(o, &b);
	compose_files_add(&files, "Dockerfile", &b, 0644);
	vmr_buf_add(&b, topology_text, topology_len);
	compose_files_add(&files, "topology.yaml", &b, 0644);
	*ret = files;
	return 0;
fail:
	vmr_buf_free(&b);
	compose_files_free(&files);
	return r;
}

int compose_dir_write(const char *dir, const struct vmr_compose_files *files, const char *binary,
		      struct vmr_error **err)
{
	int r;

	r = vmr_mkdir_p(dir, 0755);
	if (r < 0)
		return vmr_error_set(err, -r, "create directory '%s'", dir);
	if (binary) {
		_cleanup_free_ char *data = NULL, *path = xasprintf("%s/vmrun", dir);
		size_t len = 0;

		r = read_file(binary, BINARY_MAX, &data, &len);
		if (r < 0)
			return vmr_error_set(err, -r, "read '%s'", binary);
		r = write_file_atomic(path, data, len, 0755);
		if (r < 0)
			return vmr_error_set(err, -r, "write '%s'", path);
	}
	for (size_t i = 0; i < files->n; i++) {
		const struct vmr_compose_file *f = &files->v[i];
		_cleanup_free_ char *path = xasprintf("%s/%s", dir, f->name);
		char *slash = strrchr(path, '/');

		if (strchr(f->name, '/')) {
			*slash = '\0';
			r = vmr_mkdir_p(path, 0755);
			if (r < 0)
				return vmr_error_set(err, -r, "create directory '%s'", path);
			*slash = '/';
		}
		r = write_file_atomic(path, vmr_buf_str(&f->data), f->data.len, f->mode);
		if (r < 0)
			return vmr_error_set(err, -r, "write '%s'", path);
	}
	return 0;
}
