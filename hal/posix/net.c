/*
 * net.c: hal_net_* of hal.h. No NIC backend yet: the process has no NICs.
 */
#include <errno.h>
#include <stddef.h>

#include "hal.h"

unsigned hal_net_count(void) { return 0; }
struct hal_netdev *hal_net_get(unsigned index) { return NULL; }
void hal_net_info(struct hal_netdev *dev, struct hal_net_info *info) { }
int hal_net_start(struct hal_netdev *dev, hal_net_notify_fn notify, void *arg) { return -ENODEV; }
unsigned hal_net_receive(struct hal_netdev *dev, unsigned queue, struct hal_net_frame *frames,
                         unsigned max) { return 0; }
unsigned hal_net_transmit(struct hal_netdev *dev, unsigned queue,
                          const struct hal_net_frame *frames, unsigned n) { return 0; }
void hal_net_arm(struct hal_netdev *dev, unsigned queue) { }
