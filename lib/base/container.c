/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Container detection (lib/base/container.h). */
#include <unistd.h>

#include "lib/base/container.h"
#include "lib/base/util.h"

/* The first line of root/rel, or NULL when missing or empty. */
static char *first_line(const char *root, const char *rel)
{
	_cleanup_free_ char *path = xasprintf("%s%s", streq(root, "/") ? "" : root, rel);
	_cleanup_free_ char *text = NULL;

	if (read_file(path, 4096, &text, NULL) < 0)
		return NULL;
	text[strcspn(text, "\n")] = '\0';
	if (!*text)
		return NULL;
	return TAKE_PTR(text);
}

static bool exists(const char *root, const char *rel)
{
	_cleanup_free_ char *path = xasprintf("%s%s", streq(root, "/") ? "" : root, rel);

	return access(path, F_OK) == 0;
}

int vmr_container_detect(const char *root, const char *env_container, char **ret_what)
{
	char *what;

	if (env_container && *env_container) {
		*ret_what = xstrdup(env_container);
		return 1;
	}
	what = first_line(root, "/run/systemd/container");
	if (!what)
		what = first_line(root, "/run/host/container-manager");
	if (!what && exists(root, "/run/.containerenv"))
		what = xstrdup("podman");
	if (!what && exists(root, "/.dockerenv"))
		what = xstrdup("docker");
	if (!what)
		return 0;
	*ret_what = what;
	return 1;
}
