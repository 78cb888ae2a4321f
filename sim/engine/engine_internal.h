// SPDX-License-Identifier: GPL-2.0-or-later
// The engine's private object model, shared by engine.cc (control requests
// and state changes) and engine_net.cc (connections and the peer protocol).
// Not part of the engine's interface.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "lib/md/format.h"
#include "sim/engine/engine.h"

namespace drbd::engine {

// UUID_FLAG_* bits (drbd_protocol.h) the engine sends in STATE.
inline constexpr uint64_t kUuidFlagCrashedPrimary = 0x2;
inline constexpr uint64_t kUuidFlagInconsistent = 0x4;
inline constexpr uint64_t kUuidFlagSkipInitialSync = 0x8;
inline constexpr uint64_t kUuidFlagStable = 0x20;

inline constexpr uint64_t kUuidPrimaryBit = 1;
inline constexpr uint64_t kNsPerSec = 1000000000ull;

// The kernel's ppsize(): KiB scaled to the largest unit below 10000,
// rounded ("32 MB").
std::string PrettySize(uint64_t kb);

// drbd_check_name_str with strict names (the module default): NO_ERROR,
// ERR_MANDATORY_TAG (empty) or ERR_INVALID_REQUEST.
Ret CheckName(const std::string& name);

struct Engine::PeerDevice {
  uint32_t volume = 0;
  ReplState repl = ReplState::kOff;
  DiskState peer_disk = DiskState::kDUnknown;
  bool peer_client = false;
  bool susp_user = false;  // pause-sync
  bool susp_peer = false;  // paused by the peer
  OptionSet opts{cfg::OptContext::kPeerDeviceOptions};
  proto::VolumeState peer;  // the peer's last STATE record for this volume
  bool have_peer = false;
  // new-current-uuid --clear-bitmap on a just-created pair: STATE carries
  // UUID_FLAG_SKIP_INITIAL_SYNC until the peer reports our current UUID.
  bool send_skip = false;
  // USE_DEGR_WFC_T: attached as a crashed degraded Primary (MDF_PRIMARY_IND
  // without MDF_PEER_CONNECTED); cleared once the peer is seen.
  bool degr_wfc = false;
  // Online verify in progress (see engine_requests.cc), in 4 KiB blocks.
  uint64_t ov_gen = 0;       // identifies the run; stale completions are dropped
  uint64_t ov_next = 0;      // VerifyS: next block to read and send
  uint64_t ov_total = 0;     // VerifyS: end of the range
  uint64_t ov_answered = 0;  // VerifyS: blocks whose result came back
  uint64_t ov_oos = 0;       // blocks found to differ so far
  // Out-of-sync bitmap toward this peer, one bit per 4 KiB block of data,
  // kept in memory by the data path (engine_io.cc); not yet persisted.
  std::vector<uint64_t> oos_bits;
  uint64_t oos_count = 0;  // bits set
};

struct Engine::Path {
  Address local;
  Address peer;
  bool established = false;
};

struct Engine::Connection {
  uint32_t peer_node_id = 0;
  std::string name;  // net_conf._name, events2 conn-name
  OptionSet net{cfg::OptContext::kNewPeer};
  ConnState cstate = ConnState::kStandAlone;
  Role peer_role = Role::kUnknown;
  std::vector<Path> paths;
  std::map<uint32_t, PeerDevice> peer_devices;  // by volume
  bool discard_my_data = false;
  // Runtime.
  uint64_t session = 0;  // the stream that owns the connection, 0 = none
  std::vector<sim::ConnectId> dials;
  sim::TimerId connect_timer = 0;
  sim::TimerId ping_timer = 0;
  sim::TimerId ping_timeout_timer = 0;
  std::vector<std::string> listening;  // AddressToString of local addrs held
};

struct Engine::Device {
  uint32_t minor = 0;
  uint32_t volume = 0;
  DiskState disk = DiskState::kDiskless;
  std::string backing_dev;                  // "" while diskless
  std::string meta_dev;                     // "" while diskless
  int32_t conf_meta_idx = kMetaIdxFlexInt;  // meta_dev_idx as attach gave it
  OptionSet disk_opts{cfg::OptContext::kAttach};
  std::shared_ptr<sim::Disk> data;
  std::shared_ptr<sim::Disk> meta;
  md::Superblock sb;
  int32_t meta_idx = kMetaIdxFlexInt;
  uint64_t md_offset = 0;     // superblock byte offset on `meta`
  uint64_t size_sectors = 0;  // usable data size
  uint64_t attach_gen = 0;    // identifies the attach in flight
};

struct Engine::Resource {
  std::string name;
  int32_t node_id = 0;
  OptionSet opts{cfg::OptContext::kResourceOptions};
  Role role = Role::kSecondary;
  bool susp_user = false;
  std::map<uint32_t, Device> devices;          // by volume
  std::map<uint32_t, Connection> connections;  // by peer node id
};

// One peer-protocol stream and its handshake progress.
struct Engine::Session {
  uint64_t id = 0;
  std::unique_ptr<sim::Stream> stream;
  proto::Decoder decoder;
  bool dialed_by_me = false;
  Address local;                 // local address of the path used
  std::string resource;          // "" until bound
  std::optional<uint32_t> peer;  // peer node id once bound
  bool hello_sent = false;
  bool hello_got = false;
  bool auth = false;  // cram-hmac-alg configured
  std::vector<uint8_t> my_challenge;
  bool peer_verified = false;
  bool protocol_got = false;
  bool state_got = false;
  bool up = false;  // Connected on this stream
  proto::State peer_state;
};

// A resource's state as the kernel's state machine sees it: the fields a
// state change may alter, OLD vs NEW.
struct Engine::ResState {
  struct Pd {
    ReplState repl = ReplState::kOff;
    DiskState peer_disk = DiskState::kDUnknown;
    bool susp_user = false;
    bool susp_peer = false;
    bool peer_client = false;
    bool operator==(const Pd&) const = default;
  };
  struct Conn {
    ConnState cstate = ConnState::kStandAlone;
    Role peer_role = Role::kUnknown;
    std::map<uint32_t, Pd> pd;
    bool operator==(const Conn&) const = default;
  };
  Role role = Role::kSecondary;
  bool susp_user = false;
  std::map<uint32_t, DiskState> disk;  // by volume
  std::map<uint32_t, Conn> conns;      // by peer node id
  bool operator==(const ResState&) const = default;
};

struct Engine::Resolved {
  Resource* res = nullptr;
  Device* dev = nullptr;
  Connection* conn = nullptr;
  PeerDevice* pd = nullptr;
};

}  // namespace drbd::engine
