/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMR_CMD_COMPOSE_H
#define VMR_CMD_COMPOSE_H

/* Shared by `vmrun compose` and `vmrun kube`. */

#include <stddef.h>
#include <stdio.h>

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
 * The checks `compose` and `kube` share once getopt is done (optind past
 * the options): exactly one TOPOLOGY, -o DIR, a non-empty --image (NULL:
 * not given) and an absolute global --state-dir (the hosts' path, mounted
 * into the containers).  Prints the problem, with usage where it helps.
 * Returns 0 or VMR_EXIT_USAGE.
 */
int vmr_cli_compose_args(const char *verb, int argc, const char *output, const char *image,
			 void (*print_usage)(FILE *f));

#endif
