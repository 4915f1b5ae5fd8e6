/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMR_CMD_COMPOSE_H
#define VMR_CMD_COMPOSE_H

/* Shared by `vmrun compose` and `vmrun kube`. */

#include <stddef.h>
#include <stdio.h>

#include "cmd/cmd.h"
#include "lib/model/topology.h"

/*
 * Load and validate the topology at path for an orchestrator (the loader's
 * checks, then compose_topology_check()) and read its bytes.  Prints every
 * problem.  Returns 0 with *ret_topo, *ret_text (NUL-terminated, length
 * *ret_len) and *ret_dir (the canonical directory of the file, where its
 * relative paths resolve); the caller frees all three.  Else the exit
 * status.
 */
int vmr_cli_compose_input(const char *path, struct vmr_topology **ret_topo, char **ret_text,
			  size_t *ret_len, char **ret_dir);

/*
 * The checks `compose` and `kube` share once their options are parsed: a
 * non-empty --image (NULL: not given) and an absolute global --state-dir
 * (the hosts' path, mounted into the containers).  Prints the problem.
 * Returns 0 or VMR_EXIT_USAGE.
 */
int vmr_cli_compose_check(const struct vmr_cli_cmd *cmd, const char *image);

#endif
