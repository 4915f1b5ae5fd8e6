/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMR_IMAGES_H
#define VMR_IMAGES_H

/*
 * Per-guest disks and cloud-init seeds (docs/images.md).
 *
 * - Overlays: a disk with `backing:` is a qcow2 overlay on that base, made
 *   with `qemu-img create -f qcow2 -F FMT -b BASE` (no copy) and grown to
 *   `size:`.  `image: BASE` is shorthand for a root overlay at
 *   IMAGE_DIR/GUEST/root.qcow2 (vmr_plan_root_disk()).
 * - Seeds: a cloud-init NoCloud ISO (volume id `cidata`: meta-data,
 *   user-data, network-config v2) built in-process with libisofs.  The ISO
 *   is a pure function of the guest's configuration (fixed timestamps), so
 *   an unchanged topology leaves the file untouched.
 *
 * Everything is written under a temporary name and renamed into place, so
 * a failure leaves nothing half-written.  qemu-img is run without a shell
 * through lib/spawn.h.  Relative paths in the topology resolve against the
 * directory of the topology file.
 */

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/base/buf.h"
#include "lib/model/config.h"
#include "lib/base/error.h"
#include "lib/base/strvec.h"
#include "lib/model/topology.h"

#define VMR_SEED_VOLUME_ID "cidata"
#define VMR_USER_DATA_MAX_BYTES (256u * 1024u)

/*
 * Prepare guest g before its argv is built: create or grow every overlay
 * (disks with `backing:` and the `image:` root overlay) and every blank disk
 * (`size:` without `backing:`) and, when the guest
 * has `cloud_init:`, (re)write GUEST_STATE_DIR/seed.iso (guest_state_dir
 * NULL: STATE_DIR/GUEST).  Files that are already right are left untouched.
 * *ret_seed_iso (may be NULL) receives the seed's path (caller frees), or
 * NULL when the guest has no seed.  Invalid input (missing base, unknown
 * format, a size smaller than the base, an unreadable user_data file) fails
 * with usage status and writes nothing.
 */
int vmr_image_prepare(const struct vmr_config *cfg, const struct vmr_topology *t,
		      const struct vmr_guest *g, const char *guest_state_dir, char **ret_seed_iso,
		      struct vmr_error **err);

/* Same, and appends the path of every file written (created, grown, rewritten) to written. */
int vmr_image_prepare_list(const struct vmr_config *cfg, const struct vmr_topology *t,
			   const struct vmr_guest *g, const char *guest_state_dir,
			   char **ret_seed_iso, struct vmr_strvec *written, struct vmr_error **err);

/*
 * Prepare several guests (`vmrun image prep`): every guest is checked before
 * anything is written, so invalid input for one guest changes nothing.
 * written as for vmr_image_prepare_list().
 */
int vmr_image_prepare_guests(const struct vmr_config *cfg, const struct vmr_topology *t,
			     const struct vmr_guest *const *guests, size_t n,
			     struct vmr_strvec *written, struct vmr_error **err);

/*
 * The qemu-img to run: $VMRUN_QEMU_IMG, else qemu-img next to the
 * configured QEMU binary, else the first qemu-img on $PATH.  Caller frees.
 */
int vmr_image_qemu_img(const struct vmr_config *cfg, char **ret, struct vmr_error **err);

/* What `qemu-img info --output=json` says about an image. */
struct vmr_image_info {
	char *format;	       /* "qcow2", "raw", ... */
	uint64_t virtual_size; /* bytes the guest sees */
	uint64_t actual_size;  /* bytes allocated on the host */
	char *backing;	       /* backing file as recorded, or NULL */
	char *backing_format;  /* or NULL */
};

/* Probe path with qemu-img (force-share, so images in use can be probed). */
int vmr_image_info_get(const char *qemu_img, const char *path, struct vmr_image_info *ret,
		       struct vmr_error **err);
void vmr_image_info_free(struct vmr_image_info *i);

/* Parse the JSON of `qemu-img info --output=json` (pure; for tests too). */
int vmr_image_info_parse(const char *json, const char *path, struct vmr_image_info *ret,
			 struct vmr_error **err);

/*
 * Make `file` a qcow2 overlay on `backing` (an absolute path) of `size`
 * bytes (0: the base's size).  An existing overlay on the same base is kept,
 * grown when smaller than size; any other existing file is an error, never
 * overwritten.  *ret_written (may be NULL) tells whether anything changed.
 */
int vmr_image_overlay(const char *qemu_img, const char *file, const char *backing, uint64_t size,
		      bool *ret_written, struct vmr_error **err);

/*
 * Grow an image to size bytes (`qemu-img resize -f FORMAT`); qemu-img
 * refuses a smaller size without --shrink, which vmrun never passes.
 */
int vmr_image_resize(const char *qemu_img, const char *path, const char *format, uint64_t size,
		     struct vmr_error **err);

/* Internal snapshots of a qcow2 image, with `qemu-img snapshot -c|-a|-d NAME`. */
enum vmr_image_snap_op { VMR_IMAGE_SNAP_CREATE, VMR_IMAGE_SNAP_APPLY, VMR_IMAGE_SNAP_DELETE };
int vmr_image_snapshot(const char *qemu_img, const char *path, enum vmr_image_snap_op op,
		       const char *name, struct vmr_error **err);
/*
 * The internal snapshots of an image as qemu-img info lists them (a new
 * array of {id, name, vm-state-size, date-sec, date-nsec, vm-clock-nsec}).
 */
int vmr_image_snapshots(const char *qemu_img, const char *path, json_t **ret,
			struct vmr_error **err);
/*
 * A new qcow2 image dst (never replacing a file) holding the state of the
 * qcow2 src at its internal snapshot: an overlay on backing (of
 * backing_format) with only what differs from it, or (backing NULL) a
 * full copy.  src may be in use by a running guest.
 */
int vmr_image_from_snapshot(const char *qemu_img, const char *src, const char *snapshot,
			    const char *dst, const char *backing, const char *backing_format,
			    struct vmr_error **err);
/* `qemu-img info --backing-chain`: a new array, the image first, its base last. */
int vmr_image_chain(const char *qemu_img, const char *path, json_t **ret, struct vmr_error **err);

/* The three seed files and the instance id they carry. */
struct vmr_seed {
	char *instance_id; /* "iid-" + hash of the guest's configuration */
	char *meta_data;
	char *user_data;
	char *network_config;
};

/* Inputs of a seed that come from outside the topology. */
struct vmr_seed_input {
	const char *user_data;	       /* contents of cloud_init.user_data, or NULL */
	const char *user_data_path;    /* its name, for messages */
	const struct vmr_strvec *keys; /* ssh keys when the topology gives none */
};

/*
 * Build the seed files of guest g (pure: no host access).  The instance id
 * hashes everything the guest sees: the seed files themselves and its
 * virtual hardware (vCPUs, memory, machine, CPU model, disks, NICs and
 * their MACs, kernel command line, extra QEMU arguments).  A user_data that
 * is not a #cloud-config mapping fails with usage status.
 */
int vmr_seed_build(const struct vmr_guest *g, const struct vmr_seed_input *in, struct vmr_seed *ret,
		   struct vmr_error **err);
void vmr_seed_free(struct vmr_seed *s);

/*
 * Render the seed as an ISO9660 image (Rock Ridge and Joliet, volume id
 * cidata) into out.  The same seed always gives the same bytes.
 */
int vmr_seed_iso_render(const struct vmr_seed *s, struct vmr_buf *out, struct vmr_error **err);

/*
 * Write the seed ISO to path unless the file already holds exactly these
 * bytes.  *ret_written (may be NULL) tells whether the file was written.
 */
int vmr_seed_iso_write(const struct vmr_seed *s, const char *path, bool *ret_written,
		       struct vmr_error **err);

/*
 * The invoking user's public keys: every line of ~/.ssh/ *.pub (sorted by
 * file name).  Under sudo the home of SUDO_USER is used.  No keys is not an
 * error.
 */
int vmr_image_user_keys(struct vmr_strvec *ret, struct vmr_error **err);

enum vmr_import_format { VMR_IMPORT_QCOW2, VMR_IMPORT_RAW };

struct vmr_import_opts {
	const char *qemu_img;
	const char *src;
	const char *dest;
	enum vmr_import_format format;
	bool force; /* replace an existing dest */
	/* called with 0..100 as qemu-img reports progress; may be NULL */
	void (*progress)(double percent, void *userdata);
	void *userdata;
	volatile int *cancel; /* set non-zero (from a signal) to stop; may be NULL */
};

/*
 * Convert src (qcow2, raw, vmdk, vdi, vpc or qed, probed with qemu-img
 * info) into dest, written under a temporary name, compared with src
 * (`qemu-img compare`) and renamed into place.  Refuses an existing dest
 * without force.  On any failure or cancellation nothing is left at dest.
 */
int vmr_image_import(const struct vmr_import_opts *o, struct vmr_error **err);

#endif
