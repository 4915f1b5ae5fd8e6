/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMR_CONTAINER_H
#define VMR_CONTAINER_H

/*
 * Is vmrun running inside a container?  What decides the defaults of
 * `private_mounts` and `cgroup` (docs/security.md).  The checks follow
 * systemd-detect-virt --container where they need no privilege:
 *   the `container` environment variable (systemd-nspawn, podman, LXC set it),
 *   ROOT/run/systemd/container and ROOT/run/host/container-manager (the
 *   manager's name, written by systemd-nspawn and others),
 *   ROOT/run/.containerenv (podman), ROOT/.dockerenv (Docker).
 * root is "/" but for tests (a fake tree).
 */

/*
 * Returns 1 with *ret_what (caller frees) naming the container
 * ("docker", "podman", the variable's value), or 0 when none is seen.
 * env_container is the value of $container (NULL: unset).
 */
int vmr_container_detect(const char *root, const char *env_container, char **ret_what);

#endif
