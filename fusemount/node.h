/*
 * node.h: the node ids torofuse hands the host kernel, one per file the
 * host knows (FUSE's lookup count), each holding the file's vnode so that
 * it stays valid, even unlinked, until the host forgets it. Kernel threads
 * only.
 */
#ifndef FUSEMOUNT_NODE_H
#define FUSEMOUNT_NODE_H

#include <stdint.h>

struct vnode;

/* node_init: the root directory is node id 1 (FUSE_ROOT_ID); root's
 * reference passes to the table. */
void node_init(struct vnode *root);
/* node_enter: the id of vn for an entry the host is about to receive, one
 * lookup more; takes over the caller's reference to vn. 0: no memory (the
 * reference is dropped). */
uint64_t node_enter(struct vnode *vn);
/* node_forget: the host dropped n lookups of id; the last one frees it. */
void node_forget(uint64_t id, uint64_t n);
/* node_vnode: the vnode of a live id (not held: valid until forgotten). */
struct vnode *node_vnode(uint64_t id);
/* node_drop_all: forget everything (the connection is gone). */
void node_drop_all(void);

#endif
