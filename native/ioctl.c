/*
 * Device ioctls: ethtool timestamping capabilities (ETHTOOL_GET_TS_INFO) and
 * the hardware timestamp configuration (SIOCGHWTSTAMP / SIOCSHWTSTAMP).
 * Interface names of IFNAMSIZ bytes or more are refused, never truncated.
 */
#include "napi-util.h"

#include <errno.h>
#include <linux/ethtool.h>
#include <linux/net_tstamp.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

/* ioctl(any datagram socket, req, ifr) with ifr_data = data; returns errno or 0 */
static int dev_ioctl(const char *ifname, unsigned long req, void *data) {
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  memcpy(ifr.ifr_name, ifname, strlen(ifname) + 1);
  ifr.ifr_data = data;
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return errno;
  int r = ioctl(fd, req, &ifr);
  int e = errno;
  close(fd);
  return r < 0 ? e : 0;
}

/* ETHTOOL_GET_TS_INFO(ifname) -> [so_timestamping, phc_index, tx_types, rx_filters] */
static napi_value n_ts_info(napi_env env, napi_callback_info info) {
  ARGS(1);
  char name[IFNAMSIZ];
  if (!nr_arg_ifname(env, argv[0], name)) return NULL;
  struct ethtool_ts_info ti;
  memset(&ti, 0, sizeof ti);
  ti.cmd = ETHTOOL_GET_TS_INFO;
  int e = dev_ioctl(name, SIOCETHTOOL, &ti);
  if (e) { nr_throw_errno(env, "ioctl(ETHTOOL_GET_TS_INFO)", e); return NULL; }
  napi_value arr;
  napi_create_array_with_length(env, 4, &arr);
  napi_set_element(env, arr, 0, nr_num(env, ti.so_timestamping));
  napi_set_element(env, arr, 1, nr_num(env, ti.phc_index));
  napi_set_element(env, arr, 2, nr_num(env, ti.tx_types));
  napi_set_element(env, arr, 3, nr_num(env, ti.rx_filters));
  return arr;
}

/* SIOCSHWTSTAMP(ifname, tx_type, rx_filter) -> the rx_filter the driver chose
 * (drivers may widen a filter, e.g. PTP_V2_EVENT -> ALL). */
static napi_value n_hwtstamp(napi_env env, napi_callback_info info) {
  ARGS(3); I32(1, tx); I32(2, rx);
  char name[IFNAMSIZ];
  if (!nr_arg_ifname(env, argv[0], name)) return NULL;
  struct hwtstamp_config cfg = {.flags = 0, .tx_type = tx, .rx_filter = rx};
  int e = dev_ioctl(name, SIOCSHWTSTAMP, &cfg);
  if (e) { nr_throw_errno(env, "ioctl(SIOCSHWTSTAMP)", e); return NULL; }
  return nr_num(env, cfg.rx_filter);
}

/* SIOCGHWTSTAMP(ifname) -> [tx_type, rx_filter, flags]: the current setting */
static napi_value n_hwtstamp_get(napi_env env, napi_callback_info info) {
  ARGS(1);
  char name[IFNAMSIZ];
  if (!nr_arg_ifname(env, argv[0], name)) return NULL;
  struct hwtstamp_config cfg;
  memset(&cfg, 0, sizeof cfg);
  int e = dev_ioctl(name, SIOCGHWTSTAMP, &cfg);
  if (e) { nr_throw_errno(env, "ioctl(SIOCGHWTSTAMP)", e); return NULL; }
  napi_value arr;
  napi_create_array_with_length(env, 3, &arr);
  napi_set_element(env, arr, 0, nr_num(env, cfg.tx_type));
  napi_set_element(env, arr, 1, nr_num(env, cfg.rx_filter));
  napi_set_element(env, arr, 2, nr_num(env, cfg.flags));
  return arr;
}

void init_ioctl(napi_env env, napi_value exports) {
  static const napi_property_descriptor props[] = {
    NR_FN("tsInfo", n_ts_info), NR_FN("hwtstamp", n_hwtstamp), NR_FN("hwtstampGet", n_hwtstamp_get),
  };
  NR_DEFINE(env, exports, props);
}
