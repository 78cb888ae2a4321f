// SPDX-License-Identifier: GPL-2.0-or-later
// The objects that `drbdsetup events2` and `status` describe, as typed C++
// values: resource, device (volume/minor), connection (peer-node-id,
// conn-name), path and peer device, each with its identity keys, its info
// fields and its statistics, mirroring the kernel's genl *_info and
// *_statistics attribute sets (docs: /work/shared/spec/genl.md §7), plus the
// helper call/response records and the notification envelope. Values keep
// the kernel's units (sectors, not KiB); the printers convert. Producers:
// the genl decoder (drbdsetup), drbd-simd's engine and the events2 line
// parser. See docs/formats/events2.md and docs/formats/status.md.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "lib/events/states.h"

namespace drbd::events {

// A path endpoint as drbd-utils prints it: "ipv4:10.0.0.1:7789",
// "ipv6:[fe80::1%eth0]:7789", "ssocks:…", "sdp:…".
struct Address {
  enum class Family : uint8_t { kIpv4, kIpv6, kSsocks, kSdp, kUnknown };
  Family family = Family::kIpv4;
  std::string host;   // numeric address, no brackets; IPv6 may carry %scope
  uint16_t port = 0;  // host byte order
  friend bool operator==(const Address&, const Address&) = default;
};

// ---- resource ------------------------------------------------------------

// genl resource_info (TLA 15).
struct ResourceInfo {
  Role role = Role::kUnknown;  // res_role
  SuspendFlags susp;           // res_susp, res_susp_nod, _fen, _quorum
  bool fail_io = false;        // res_fail_io: force-io-failures
  friend bool operator==(const ResourceInfo&, const ResourceInfo&) = default;
};

// genl resource_statistics (TLA 19).
struct ResourceStatistics {
  WriteOrdering write_ordering = WriteOrdering::kNone;  // res_stat_write_ordering
  friend bool operator==(const ResourceStatistics&, const ResourceStatistics&) = default;
};

struct Resource {
  std::string name;                 // identity: ctx_resource_name
  std::optional<uint32_t> node_id;  // res_opts.node_id (status only)
  ResourceInfo info;
  std::optional<ResourceStatistics> stats;  // absent: kernel sent none
  friend bool operator==(const Resource&, const Resource&) = default;
};

// ---- device --------------------------------------------------------------

// genl device_info (TLA 16).
struct DeviceInfo {
  DiskState disk_state = DiskState::kDiskless;         // dev_disk_state
  Tristate intentional_diskless = Tristate::kUnknown;  // is_intentional_diskless ("client")
  bool has_quorum = false;                             // dev_has_quorum
  Tristate is_open = Tristate::kUnknown;               // dev_is_open (kernels >= 2024-06)
  std::string backing_dev;                             // backing_dev_path; "" = none
  friend bool operator==(const DeviceInfo&, const DeviceInfo&) = default;
};

// genl device_statistics (TLA 20).
struct DeviceStatistics {
  uint64_t size = 0;                    // dev_size, sectors
  uint64_t read = 0;                    // dev_read, sectors
  uint64_t written = 0;                 // dev_write, sectors
  uint64_t al_writes = 0;               // dev_al_writes, count
  uint64_t bm_writes = 0;               // dev_bm_writes, count
  uint32_t upper_pending = 0;           // dev_upper_pending, requests
  uint32_t lower_pending = 0;           // dev_lower_pending, requests
  bool upper_blocked = false;           // dev_upper_blocked
  bool lower_blocked = false;           // dev_lower_blocked
  bool al_suspended = false;            // dev_al_suspended
  uint64_t exposed_data_uuid = 0;       // dev_exposed_data_uuid
  uint64_t current_uuid = 0;            // dev_current_uuid
  uint32_t disk_flags = 0;              // dev_disk_flags, MDF_*
  std::vector<uint64_t> history_uuids;  // history_uuids, up to 32
  friend bool operator==(const DeviceStatistics&, const DeviceStatistics&) = default;
};

struct Device {
  std::string resource;  // identity: resource name
  uint32_t volume = 0;   // identity: ctx_volume
  uint32_t minor = 0;    // genl header minor
  DeviceInfo info;
  std::optional<DeviceStatistics> stats;
  friend bool operator==(const Device&, const Device&) = default;
};

// ---- connection ----------------------------------------------------------

// genl connection_info (TLA 17).
struct ConnectionInfo {
  ConnState conn_state = ConnState::kStandAlone;  // conn_connection_state
  Role peer_role = Role::kUnknown;                // conn_role
  friend bool operator==(const ConnectionInfo&, const ConnectionInfo&) = default;
};

// genl connection_statistics (TLA 21).
struct ConnectionStatistics {
  bool congested = false;                // conn_congested
  std::optional<uint64_t> ap_in_flight;  // sectors; kernels >= 2018
  std::optional<uint64_t> rs_in_flight;  // sectors
  friend bool operator==(const ConnectionStatistics&, const ConnectionStatistics&) = default;
};

struct Connection {
  std::string resource;       // identity: resource name
  uint32_t peer_node_id = 0;  // identity: ctx_peer_node_id
  std::string name;           // identity: ctx_conn_name ("" = unnamed)
  ConnectionInfo info;
  std::optional<ConnectionStatistics> stats;
  std::optional<bool> tls;  // net_conf.tls (status, drbd-utils >= 9.28)
  friend bool operator==(const Connection&, const Connection&) = default;
};

// ---- path ----------------------------------------------------------------

struct Path {
  std::string resource;       // identity
  uint32_t peer_node_id = 0;  // identity
  std::string conn_name;      // identity
  Address local;              // identity: ctx_my_addr
  Address peer;               // identity: ctx_peer_addr
  bool established = false;   // drbd_path_info.path_established
  friend bool operator==(const Path&, const Path&) = default;
};

// ---- peer device ---------------------------------------------------------

// genl peer_device_info (TLA 18).
struct PeerDeviceInfo {
  ReplState repl_state = ReplState::kOff;                   // peer_repl_state
  DiskState peer_disk_state = DiskState::kDUnknown;         // peer_disk_state
  ResyncSuspendFlags resync_susp;                           // peer_resync_susp_*
  Tristate peer_intentional_diskless = Tristate::kUnknown;  // "peer-client"
  friend bool operator==(const PeerDeviceInfo&, const PeerDeviceInfo&) = default;
};

// genl peer_device_statistics (TLA 22). Resync/verify fields are 0 when idle.
struct PeerDeviceStatistics {
  uint64_t received = 0;       // peer_dev_received, sectors
  uint64_t sent = 0;           // peer_dev_sent, sectors
  uint32_t pending = 0;        // peer_dev_pending, requests
  uint32_t unacked = 0;        // peer_dev_unacked, requests
  uint64_t out_of_sync = 0;    // peer_dev_out_of_sync, sectors
  uint64_t resync_failed = 0;  // peer_dev_resync_failed, sectors
  uint64_t bitmap_uuid = 0;    // peer_dev_bitmap_uuid
  uint32_t flags = 0;          // peer_dev_flags, MDF_PEER_*
  // Absent on kernels before 2018; with it absent, a sync state shows
  // `done` computed from out_of_sync / device size.
  std::optional<uint64_t> rs_total;  // peer_dev_rs_total, sectors
  uint64_t ov_start_sector = 0;      // peer_dev_ov_start_sector
  uint64_t ov_stop_sector = 0;       // peer_dev_ov_stop_sector
  uint64_t ov_position = 0;          // peer_dev_ov_position, sector
  uint64_t ov_left = 0;              // peer_dev_ov_left, sectors
  uint64_t ov_skipped = 0;           // peer_dev_ov_skipped, sectors
  uint64_t rs_same_csum = 0;         // peer_dev_rs_same_csum, sectors
  uint64_t rs_dt_start_ms = 0;       // ms since resync start
  uint64_t rs_paused_ms = 0;         // ms paused
  uint64_t rs_dt0_ms = 0;            // ms since progress mark 0
  uint64_t rs_db0_sectors = 0;       // sectors done since mark 0
  uint64_t rs_dt1_ms = 0;            // ms since mark 1 (newest)
  uint64_t rs_db1_sectors = 0;       // sectors done since mark 1
  uint32_t rs_c_sync_rate = 0;       // KiB/s wanted by the controller
  uint64_t uuid_flags = 0;           // peer_dev_uuid_flags, UUID_FLAG_*
  friend bool operator==(const PeerDeviceStatistics&, const PeerDeviceStatistics&) = default;
};

// UUID_FLAG_STABLE in peer_dev_uuid_flags (may_promote uses it).
inline constexpr uint64_t kUuidFlagStable = 1u << 5;

struct PeerDevice {
  std::string resource;       // identity
  uint32_t peer_node_id = 0;  // identity
  std::string conn_name;      // identity
  uint32_t volume = 0;        // identity
  PeerDeviceInfo info;
  std::optional<PeerDeviceStatistics> stats;
  friend bool operator==(const PeerDevice&, const PeerDevice&) = default;
};

// ---- helper --------------------------------------------------------------

// One usermode-helper call or response (genl DRBD_HELPER, TLA 24).
struct Helper {
  bool response = false;                 // NOTIFY_RESPONSE vs NOTIFY_CALL
  std::string resource;                  // "" = not sent
  std::optional<uint32_t> peer_node_id;  // connection helpers
  std::string conn_name;                 // "" = not sent
  std::optional<Address> local;          // printed only with peer
  std::optional<Address> peer;
  std::optional<uint32_t> volume;  // device helpers
  std::optional<uint32_t> minor;   // device helpers
  std::string name;                // helper_name: "fence-peer", …
  uint32_t status = 0;             // helper_status: raw wait status
                                   // (exit code << 8); response only
  friend bool operator==(const Helper&, const Helper&) = default;
};

// ---- notification envelope -----------------------------------------------

// Rename of a resource (NOTIFY_RENAME on RESOURCE_STATE).
struct Rename {
  std::string name;      // old name
  std::string new_name;  // res_new_name
  friend bool operator==(const Rename&, const Rename&) = default;
};

// The end of the initial state (DRBD_INITIAL_STATE_DONE): events2 prints
// "exists -".
struct InitialStateDone {
  friend bool operator==(const InitialStateDone&, const InitialStateDone&) = default;
};

// One kernel (or drbd-simd) notification. On kDestroy only the identity
// keys of the object are meaningful. A burst of notifications that form one
// atomic state change has `continues` set on all but the last.
struct Notification {
  NotifyType type = NotifyType::kExists;
  bool continues = false;  // NOTIFY_CONTINUES
  std::variant<InitialStateDone, Resource, Device, Connection, PeerDevice, Path, Helper, Rename>
      object;
  friend bool operator==(const Notification&, const Notification&) = default;
};

// ---- a whole resource, as `status` and state-of-world see it ------------

struct ConnectionSnapshot {
  Connection connection;
  std::vector<PeerDevice> peer_devices;  // volume order
  std::vector<Path> paths;
};

struct ResourceSnapshot {
  Resource resource;
  std::vector<Device> devices;                  // volume order
  std::vector<ConnectionSnapshot> connections;  // status sorts by name
};

}  // namespace drbd::events
