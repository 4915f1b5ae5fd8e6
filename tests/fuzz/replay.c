/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Corpus replay without libFuzzer: linked (with any compiler, gcc in
 * `make check`) against one fuzz target, it feeds every file named on the
 * command line, or found in a directory named there, to
 * LLVMFuzzerTestOneInput() once, in name order, and says how many it ran.
 * A target that traps or aborts on an input kills the process; the last
 * "replay: FILE" line on stderr (with -v, or VMR_REPLAY_VERBOSE=1) names
 * it.  Exit status: 0 every input ran, 1 one could not be read, 2 usage.
 *
 *   build/replay/fuzz_qmp tests/fuzz/corpus/qmp/
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* optional in a target, as with libFuzzer */
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static int verbose;

/* Feed one file; 0, or -1 when it cannot be read. */
static int replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0, n;
	int r = 0;

	if (!f) {
		fprintf(stderr, "replay: open '%s': %s\n", path, strerror(errno));
		return -1;
	}
	do {
		if (len == cap) {
			uint8_t *nb;

			cap = cap ? 2 * cap : 4096;
			nb = realloc(buf, cap);
			if (!nb) {
				fprintf(stderr, "replay: out of memory reading '%s'\n", path);
				r = -1;
				break;
			}
			buf = nb;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
	} while (n > 0);
	if (r == 0 && ferror(f)) {
		fprintf(stderr, "replay: read '%s': %s\n", path, strerror(errno));
		r = -1;
	}
	fclose(f);
	if (r == 0) {
		if (verbose)
			fprintf(stderr, "replay: %s\n", path);
		/* an exact-size copy, so ASan sees a read past the input */
		uint8_t *exact = malloc(len ? len : 1);

		if (!exact) {
			r = -1;
		} else {
			if (len)
				memcpy(exact, buf, len);
			LLVMFuzzerTestOneInput(exact, len);
			free(exact);
		}
	}
	free(buf);
	return r;
}

static int name_cmp(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/* Feed every regular file of dir (not recursive); count in *ran. */
static int replay_dir(const char *dir, unsigned *ran)
{
	struct dirent **names;
	int n = scandir(dir, &names, NULL, name_cmp), bad = 0;

	if (n < 0) {
		fprintf(stderr, "replay: list '%s': %s\n", dir, strerror(errno));
		return -1;
	}
	for (int i = 0; i < n; i++) {
		char path[4096];
		struct stat st;

		if (snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name) <
			(int)sizeof(path) &&
		    stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
			if (replay_file(path) < 0)
				bad = 1;
			else
				(*ran)++;
		}
		free(names[i]);
	}
	free(names);
	return bad ? -1 : 0;
}

int main(int argc, char **argv)
{
	unsigned ran = 0;
	int bad = 0, first = 1;

	if (argc > 1 && strcmp(argv[1], "-v") == 0) {
		verbose = 1;
		first = 2;
	}
	if (getenv("VMR_REPLAY_VERBOSE") && strcmp(getenv("VMR_REPLAY_VERBOSE"), "1") == 0)
		verbose = 1;
	if (argc <= first) {
		fprintf(stderr, "usage: %s [-v] FILE|DIR...\n", argv[0]);
		return 2;
	}
	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	for (int i = first; i < argc; i++) {
		struct stat st;

		if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
			if (replay_dir(argv[i], &ran) < 0)
				bad = 1;
		} else if (replay_file(argv[i]) < 0) {
			bad = 1;
		} else {
			ran++;
		}
	}
	printf("replayed %u input%s\n", ran, ran == 1 ? "" : "s");
	return bad;
}
