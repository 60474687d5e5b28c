/*
 * node.c: node ids for the host (node.h).
 *
 * An id is the address of its struct node, so a request finds its vnode
 * without a search; a hash by vnode finds the node again when the host looks
 * a known file up once more, so one file has one id (hard links included).
 * The host uses an id only between the entry reply that gave it and the
 * forget that drops its last lookup, so a freed node's address may come
 * back as a new id for another file.
 */
#include <stdbool.h>
#include <stdint.h>

#include "alloc.h"
#include "node.h"
#include "spinlock.h"
#include "vfs.h"

#define ROOT_ID 1                   /* FUSE_ROOT_ID */
#define BUCKETS 4096

struct node {
	struct vnode *vn;           /* held while the node lives */
	uint64_t lookups;           /* guarded by lock */
	struct node *next;          /* hash chain, guarded by lock */
};

static struct spinlock lock = SPINLOCK_INIT("fuse_nodes");
static struct node *buckets[BUCKETS];   /* guarded by lock */
static struct vnode *root;              /* set once by node_init */

static struct node **bucket(const struct vnode *vn)
{
	uintptr_t h = (uintptr_t)vn * 0x9e3779b97f4a7c15ull;
	return &buckets[(h >> 40) % BUCKETS];
}

void node_init(struct vnode *vn)
{
	root = vn;
}

uint64_t node_enter(struct vnode *vn)
{
	if (vn == root) {
		vfs_node_put(vn);       /* root holds its own reference */
		return ROOT_ID;
	}
	struct node *fresh = kmalloc(sizeof(*fresh));
	spin_lock(&lock);
	struct node **b = bucket(vn), *n = *b;
	while (n && n->vn != vn)
		n = n->next;
	bool keep_ref = !n && fresh;    /* else: the node has one, or none can be made */
	if (keep_ref) {
		*fresh = (struct node){ vn, 0, *b };
		*b = n = fresh;
		fresh = NULL;
	}
	if (n)
		n->lookups++;
	spin_unlock(&lock);
	if (!keep_ref)
		vfs_node_put(vn);
	kfree(fresh);
	return (uint64_t)(uintptr_t)n;
}

struct vnode *node_vnode(uint64_t id)
{
	return id == ROOT_ID ? root : ((struct node *)(uintptr_t)id)->vn;
}

/* Unlink n from its chain. Caller holds lock. */
static void unhash(struct node *n)
{
	struct node **p = bucket(n->vn);
	while (*p != n)
		p = &(*p)->next;
	*p = n->next;
}

void node_forget(uint64_t id, uint64_t count)
{
	if (id == ROOT_ID)
		return;
	struct node *n = (struct node *)(uintptr_t)id;
	spin_lock(&lock);
	bool last = count >= n->lookups;
	n->lookups = last ? 0 : n->lookups - count;
	if (last)
		unhash(n);
	spin_unlock(&lock);
	if (last) {
		vfs_node_put(n->vn);
		kfree(n);
	}
}

void node_drop_all(void)
{
	for (unsigned i = 0; i < BUCKETS; i++) {
		spin_lock(&lock);
		struct node *n = buckets[i];
		buckets[i] = NULL;
		spin_unlock(&lock);
		while (n) {
			struct node *next = n->next;
			vfs_node_put(n->vn);
			kfree(n);
			n = next;
		}
	}
	if (root)
		vfs_node_put(root);
	root = NULL;
}
