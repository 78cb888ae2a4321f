// SPDX-License-Identifier: GPL-2.0-or-later
// drbdsetup_instrumented for drbd-cp: the program drbd-utils' own events2
// and show tests (tests/v9/events2-*.test, show-*.test) run, rebuilt on our
// code. It reads named test messages from stdin (`resource_create`,
// `device_change minor 5`, ...), builds each as the genl message the kernel
// would send (the attribute values are the facts of drbd-utils'
// user/v9/test/drbdsetup_instrumented.c), encodes it to netlink bytes and
// hands the bytes to our real decoder and printers:
//   events2 [opts]   every message goes through genl::Decode ->
//                    notify::DecodeNotification -> events::Events2World;
//   show [opts]      our whole drbdsetup runs (RunDrbdsetupWith) over an
//                    in-process transport that answers the family lookup
//                    and serves each GET_* dump from the stdin script.
// See tests/replay/README.md.
#include <arpa/inet.h>
#include <getopt.h>
#include <netinet/in.h>

#include <cstdio>
#include <deque>
#include <iostream>
#include <map>
#include <sstream>
#include <string>

#include "drbdsetup/drbdsetup.h"
#include "lib/events/events2.h"
#include "lib/genl/codec.h"
#include "lib/genl/ctrl.h"
#include "lib/genl/transport.h"
#include "lib/notify/notify.h"

namespace drbd::replay {
namespace {

namespace attr = genl::attr;
using genl::Cmd;
using genl::Message;
using genl::Set;
using genl::Tla;

// Kernel state numbers, from the state tables (lib/spec/states.def).
template <typename E>
constexpr uint32_t N(E e) {
  return static_cast<uint32_t>(e);
}
constexpr uint32_t kRSecondary = N(events::Role::kSecondary), kRPrimary = N(events::Role::kPrimary),
                   kRUnknown = N(events::Role::kUnknown);
constexpr uint32_t kDDiskless = N(events::DiskState::kDiskless),
                   kDInconsistent = N(events::DiskState::kInconsistent),
                   kDUnknown = N(events::DiskState::kDUnknown),
                   kDUpToDate = N(events::DiskState::kUpToDate);
constexpr uint32_t kCStandAlone = N(events::ConnState::kStandAlone),
                   kCConnected = N(events::ConnState::kConnected);
constexpr uint32_t kLOff = N(events::ReplState::kOff), kLEstablished = N(events::ReplState::kEstablished),
                   kLSyncSource = N(events::ReplState::kSyncSource);
constexpr uint32_t kNotifyExists = N(events::NotifyType::kExists),
                   kNotifyCreate = N(events::NotifyType::kCreate),
                   kNotifyChange = N(events::NotifyType::kChange),
                   kNotifyDestroy = N(events::NotifyType::kDestroy),
                   kNotifyCall = N(events::NotifyType::kCall),
                   kNotifyResponse = N(events::NotifyType::kResponse);
constexpr uint64_t kUuidFlagStable = 1u << 5;
constexpr int32_t kMdIndexFlexInt = -3;

const char kResource[] = "some-resource";
const char kPeerName[] = "some-peer";
constexpr uint32_t kNodeId = 4, kPeerNodeId = 1;

// The variables a script line may set ("device_create diskless 1").
struct Vars {
  int msg_seq = -1;
  int auto_promote = 1;
  uint32_t on_no_quorum = 1;
  uint32_t minor = 1000;
  uint32_t volume_number = 0;
  int diskless = 0;
  int inconsistent = 0;
  int has_quorum = 1;
  uint32_t al_extents = 1237;
  uint32_t read_balancing = 0;
  uint32_t max_bio_size = 1u << 20;
  uint32_t ping_int = 10;
  int two_primaries = 0;
  uint32_t c_max_rate = 102400;
  uint32_t c_min_rate = 250;

  uint32_t DiskState() const {
    return diskless ? kDDiskless : inconsistent ? kDInconsistent : kDUpToDate;
  }
  std::string BackingDev() const {
    uint32_t d = DiskState();
    return d == kDUpToDate || d == kDInconsistent ? "/dev/sda" : "none";
  }
};

bool ParseLine(const std::string& line, std::string* name, Vars* v) {
  std::istringstream in(line);
  if (!(in >> *name)) {
    std::cerr << "Failed to read msg_name\n";
    return false;
  }
  std::map<std::string, int*> ints = {{"msg_seq", &v->msg_seq},       {"auto_promote", &v->auto_promote},
                                      {"diskless", &v->diskless},     {"inconsistent", &v->inconsistent},
                                      {"has_quorum", &v->has_quorum}, {"two_primaries", &v->two_primaries}};
  std::map<std::string, uint32_t*> uints = {
      {"on_no_quorum", &v->on_no_quorum}, {"minor", &v->minor},
      {"volume_number", &v->volume_number}, {"al_extents", &v->al_extents},
      {"read_balancing", &v->read_balancing}, {"max_bio_size", &v->max_bio_size},
      {"ping_int", &v->ping_int}, {"c_max_rate", &v->c_max_rate}, {"c_min_rate", &v->c_min_rate}};
  std::string var;
  while (in >> var) {
    bool ok = false;
    if (auto it = ints.find(var); it != ints.end()) {
      ok = static_cast<bool>(in >> *it->second);
    } else if (auto it2 = uints.find(var); it2 != uints.end()) {
      ok = static_cast<bool>(in >> *it2->second);
    } else {
      std::cerr << "Unknown var: '" << var << "'\n";
      return false;
    }
    if (!ok) {
      std::cerr << "Failed to read value for '" << var << "'\n";
      return false;
    }
  }
  return true;
}

// ---- the canned messages ------------------------------------------------------

Message Msg(Cmd cmd, uint32_t minor) {
  Message m;
  m.cmd = static_cast<uint8_t>(cmd);
  m.minor = minor;
  m.set_ret_code(101);  // NO_ERROR
  return m;
}

void Header(Message& m, uint32_t type) { m.Add(Set::kNotificationHeader).PutU32(attr::nh_type, type); }

// The cfg_context naming an object: the resource, then for objects of the
// peer (connection, peer device, path) the connection, then for devices the
// volume.
enum class On { kResource, kDevice, kConnection, kPeerDevice };

Tla& Context(Message& m, On on, const Vars& v) {
  Tla& t = m.Add(Set::kCfgContext).PutStr(attr::ctx_resource_name, kResource);
  if (on == On::kConnection || on == On::kPeerDevice) {
    t.PutStr(attr::ctx_conn_name, kPeerName).PutU32(attr::ctx_peer_node_id, kPeerNodeId);
  }
  if (on == On::kDevice || on == On::kPeerDevice) t.PutU32(attr::ctx_volume, v.volume_number);
  return t;
}

std::vector<uint8_t> Sin(uint32_t addr_be, uint16_t port) {
  sockaddr_in s{};
  s.sin_family = AF_INET;
  s.sin_port = htons(port);
  s.sin_addr.s_addr = addr_be;
  const auto* p = reinterpret_cast<const uint8_t*>(&s);
  return {p, p + sizeof s};
}

void PathCtx(Message& m, const Vars& v) {
  auto mine = Sin(0x04030201, 7789);  // 1.2.3.4 in memory order
  auto peer = Sin(0x08070605, 7790);  // 5.6.7.8
  Context(m, On::kConnection, v)
      .PutBin(attr::ctx_my_addr, mine)
      .PutBin(attr::ctx_peer_addr, peer);
}

void ResourceOpts(Message& m, const Vars& v) {
  m.Add(Set::kResourceOpts)
      .PutU32(attr::node_id, kNodeId)
      .PutFlag(attr::auto_promote, v.auto_promote != 0)
      .PutU32(attr::on_no_quorum, v.on_no_quorum);
}

void ResourceInfo(Message& m, uint32_t role) {
  m.Add(Set::kResourceInfo)
      .PutU32(attr::res_role, role)
      .PutFlag(attr::res_susp, false)
      .PutFlag(attr::res_susp_nod, false)
      .PutFlag(attr::res_susp_fen, false)
      .PutFlag(attr::res_susp_quorum, false);
}

void ResourceStats(Message& m) {
  m.Add(Set::kResourceStatistics).PutU32(attr::res_stat_write_ordering, 0);
}

void DiskConf(Message& m, const Vars& v) {
  m.Add(Set::kDiskConf)
      .PutStr(attr::backing_dev, v.BackingDev())
      .PutStr(attr::meta_dev, v.BackingDev())
      .PutS32(attr::meta_dev_idx, kMdIndexFlexInt)
      .PutU32(attr::al_extents, v.al_extents)
      .PutU32(attr::read_balancing, v.read_balancing);
}

void DeviceConf(Message& m, const Vars& v) {
  m.Add(Set::kDeviceConf).PutU32(attr::max_bio_size, v.max_bio_size);
}

void DeviceInfo(Message& m, const Vars& v) {
  m.Add(Set::kDeviceInfo)
      .PutU32(attr::dev_disk_state, v.DiskState())
      .PutFlag(attr::is_intentional_diskless, false)
      .PutFlag(attr::dev_is_open, false)
      .PutFlag(attr::dev_has_quorum, v.has_quorum != 0)
      .PutStr(attr::backing_dev_path, v.BackingDev());
}

void DeviceStats(Message& m) {
  m.Add(Set::kDeviceStatistics)
      .PutU64(attr::dev_size, 10)
      .PutU64(attr::dev_read, 20)
      .PutU64(attr::dev_write, 30)
      .PutU64(attr::dev_al_writes, 40)
      .PutU64(attr::dev_bm_writes, 50)
      .PutU32(attr::dev_upper_pending, 60)
      .PutU32(attr::dev_lower_pending, 70)
      .PutFlag(attr::dev_upper_blocked, false)
      .PutFlag(attr::dev_lower_blocked, false)
      .PutFlag(attr::dev_al_suspended, false)
      .PutU32(attr::dev_disk_flags, 0);
}

void NetConf(Message& m, const Vars& v) {
  m.Add(Set::kNetConf).PutU32(attr::ping_int, v.ping_int).PutFlag(attr::two_primaries, v.two_primaries != 0);
}

void ConnectionInfo(Message& m, uint32_t cstate, uint32_t role) {
  m.Add(Set::kConnectionInfo).PutU32(attr::conn_connection_state, cstate).PutU32(attr::conn_role, role);
}

void ConnectionStats(Message& m) {
  m.Add(Set::kConnectionStatistics)
      .PutFlag(attr::conn_congested, false)
      .PutU64(attr::ap_in_flight, 10)
      .PutU64(attr::rs_in_flight, 20);
}

void PeerDeviceOpts(Message& m, const Vars& v) {
  m.Add(Set::kPeerDeviceOpts).PutU32(attr::c_max_rate, v.c_max_rate).PutU32(attr::c_min_rate, v.c_min_rate);
}

void PeerDeviceInfo(Message& m, uint32_t repl, uint32_t pdisk) {
  m.Add(Set::kPeerDeviceInfo)
      .PutU32(attr::peer_repl_state, repl)
      .PutU32(attr::peer_disk_state, pdisk)
      .PutU32(attr::peer_resync_susp_user, 0)
      .PutU32(attr::peer_resync_susp_peer, 0)
      .PutU32(attr::peer_resync_susp_dependency, 0)
      .PutFlag(attr::peer_is_intentional_diskless, false)
      .PutU32(attr::peer_resync_susp_max_parallel, 0);
}

void PeerDeviceStats(Message& m, bool resync) {
  m.Add(Set::kPeerDeviceStatistics)
      .PutU64(attr::peer_dev_received, 10)
      .PutU64(attr::peer_dev_sent, 20)
      .PutU32(attr::peer_dev_pending, 30)
      .PutU32(attr::peer_dev_unacked, 40)
      .PutU64(attr::peer_dev_out_of_sync, resync ? 5000 : 0)
      .PutU64(attr::peer_dev_resync_failed, 0)
      .PutU32(attr::peer_dev_flags, 0)
      .PutU64(attr::peer_dev_rs_total, resync ? 8000 : 0)
      .PutU64(attr::peer_dev_ov_start_sector, 0)
      .PutU64(attr::peer_dev_ov_stop_sector, 0)
      .PutU64(attr::peer_dev_ov_position, 0)
      .PutU64(attr::peer_dev_ov_left, 0)
      .PutU64(attr::peer_dev_ov_skipped, 0)
      .PutU64(attr::peer_dev_rs_same_csum, 0)
      .PutU64(attr::peer_dev_rs_dt_start_ms, 0)
      .PutU64(attr::peer_dev_rs_paused_ms, 0)
      .PutU64(attr::peer_dev_rs_dt0_ms, 0)
      .PutU64(attr::peer_dev_rs_db0_sectors, 0)
      .PutU64(attr::peer_dev_rs_dt1_ms, resync ? 100 : 0)
      .PutU64(attr::peer_dev_rs_db1_sectors, resync ? 50 : 0)
      .PutU32(attr::peer_dev_rs_c_sync_rate, 0)
      .PutU64(attr::peer_dev_uuid_flags, kUuidFlagStable);
}

void PathInfo(Message& m, bool established) {
  m.Add(Set::kPathInfo).PutFlag(attr::path_established, established);
}

void Helper(Message& m, uint32_t status) {
  m.Add(Set::kHelper).PutStr(attr::helper_name, "before-resync-target").PutU32(attr::helper_status, status);
}

// The message named `name`, or nullopt.
std::optional<Message> Build(const std::string& name, const Vars& v) {
  constexpr uint32_t kNone = genl::kMinorNone;
  Message m;
  auto resource = [&](uint32_t type, bool info, uint32_t role) {
    m = Msg(Cmd::kResourceState, kNone);
    Context(m, On::kResource, v);
    Header(m, type);
    if (info) {
      ResourceInfo(m, role);
      ResourceStats(m);
    }
  };
  auto device = [&](uint32_t type, bool info) {
    m = Msg(Cmd::kDeviceState, info ? v.minor : kNone);
    Context(m, On::kDevice, v);
    Header(m, type);
    if (info) {
      DeviceInfo(m, v);
      DeviceStats(m);
    }
  };
  auto connection = [&](uint32_t type, bool info, uint32_t cstate, uint32_t role) {
    m = Msg(Cmd::kConnectionState, kNone);
    Context(m, On::kConnection, v);
    Header(m, type);
    if (info) {
      ConnectionInfo(m, cstate, role);
      ConnectionStats(m);
    }
  };
  auto peer_device = [&](uint32_t type, bool info, uint32_t repl, uint32_t pdisk, bool resync) {
    m = Msg(Cmd::kPeerDeviceState, kNone);
    Context(m, On::kPeerDevice, v);
    Header(m, type);
    if (info) {
      PeerDeviceInfo(m, repl, pdisk);
      PeerDeviceStats(m, resync);
    }
  };
  auto path = [&](uint32_t type, std::optional<bool> established) {
    m = Msg(Cmd::kPathState, kNone);
    PathCtx(m, v);
    Header(m, type);
    if (established) PathInfo(m, *established);
  };
  auto helper = [&](uint32_t type, uint32_t status) {
    m = Msg(Cmd::kHelper, kNone);
    Context(m, On::kPeerDevice, v);
    Header(m, type);
    Helper(m, status);
  };
  if (name == "initial_state_done") {
    m = Msg(Cmd::kInitialStateDone, kNone);
    Header(m, kNotifyExists);
  } else if (name == "resource_exists") {
    resource(kNotifyExists, true, kRSecondary);
  } else if (name == "resource_create") {
    resource(kNotifyCreate, true, kRSecondary);
  } else if (name == "resource_change_role") {
    resource(kNotifyChange, true, kRPrimary);
  } else if (name == "resource_destroy") {
    resource(kNotifyDestroy, false, 0);
  } else if (name == "device_exists") {
    device(kNotifyExists, true);
  } else if (name == "device_create") {
    device(kNotifyCreate, true);
  } else if (name == "device_change") {
    device(kNotifyChange, true);
  } else if (name == "device_destroy") {
    device(kNotifyDestroy, false);
  } else if (name == "connection_create") {
    connection(kNotifyCreate, true, kCStandAlone, kRUnknown);
  } else if (name == "connection_change_connection") {
    connection(kNotifyChange, true, kCConnected, kRSecondary);
  } else if (name == "connection_change_role") {
    connection(kNotifyChange, true, kCConnected, kRPrimary);
  } else if (name == "connection_destroy") {
    connection(kNotifyDestroy, false, 0, 0);
  } else if (name == "peer_device_create") {
    peer_device(kNotifyCreate, true, kLOff, kDUnknown, false);
  } else if (name == "peer_device_change_replication") {
    peer_device(kNotifyChange, true, kLEstablished, kDUpToDate, false);
  } else if (name == "peer_device_change_sync") {
    peer_device(kNotifyChange, true, kLSyncSource, kDInconsistent, true);
  } else if (name == "peer_device_destroy") {
    peer_device(kNotifyDestroy, false, 0, 0, false);
  } else if (name == "path_create") {
    path(kNotifyCreate, false);
  } else if (name == "path_change_established") {
    path(kNotifyChange, true);
  } else if (name == "path_destroy") {
    path(kNotifyDestroy, std::nullopt);
  } else if (name == "helper_call") {
    helper(kNotifyCall, 0);
  } else if (name == "helper_response") {
    helper(kNotifyResponse, 1);
  } else if (name == "get_resource") {
    m = Msg(Cmd::kGetResources, kNone);
    Context(m, On::kResource, v);
    ResourceOpts(m, v);
    ResourceInfo(m, kRSecondary);
    ResourceStats(m);
  } else if (name == "get_device") {
    m = Msg(Cmd::kGetDevices, v.minor);
    Context(m, On::kDevice, v);
    DiskConf(m, v);
    DeviceConf(m, v);
    DeviceInfo(m, v);
    DeviceStats(m);
  } else if (name == "get_connection") {
    m = Msg(Cmd::kGetConnections, kNone);
    Context(m, On::kConnection, v);
    NetConf(m, v);
    ConnectionInfo(m, kCConnected, kRPrimary);
    ConnectionStats(m);
  } else if (name == "get_peer_device") {
    m = Msg(Cmd::kGetPeerDevices, v.minor);
    Context(m, On::kPeerDevice, v);
    PeerDeviceInfo(m, kLEstablished, kDUpToDate);
    PeerDeviceStats(m, false);
    PeerDeviceOpts(m, v);
  } else {
    std::cerr << "unknown message '" << name << "'\n";
    return std::nullopt;
  }
  return m;
}

constexpr uint16_t kFamilyId = 0x1c;  // what the in-process "kernel" assigns
constexpr uint32_t kEventsGroup = 7;

// Netlink bytes of m, as the kernel would put them on the socket.
std::optional<std::vector<uint8_t>> Wire(Message m, uint32_t seq, uint16_t flags) {
  m.nl.type = kFamilyId;
  m.nl.seq = seq;
  m.nl.flags = flags;
  auto bytes = genl::Encode(m, {.mandatory_bit = false, .nested_flag = true});
  if (!bytes.ok()) {
    std::cerr << "encoding failed: " << bytes.error().message << "\n";
    return std::nullopt;
  }
  return std::move(*bytes);
}

// ---- events2 ------------------------------------------------------------------

int Events2(int argc, char** argv) {
  events::Events2Options opts;
  bool timestamps = false;
  static option long_opts[] = {{"help", no_argument, nullptr, 'h'},
                               {"timestamps", no_argument, nullptr, 'T'},
                               {"statistics", no_argument, nullptr, 's'},
                               {"now", no_argument, nullptr, 'n'},
                               {"diff", optional_argument, nullptr, 'i'},
                               {"full", no_argument, nullptr, 'f'},
                               {"color", no_argument, nullptr, 'c'},
                               {nullptr, 0, nullptr, 0}};
  for (;;) {
    int c = getopt_long(argc, argv, "hTifsnc::", long_opts, nullptr);
    if (c == -1) break;
    switch (c) {
      case 'n': break;  // the input is the initial state plus changes: nothing to stop early
      case 's': opts.statistics = true; break;
      case 'T': timestamps = true; break;
      case 'i': opts.diff = true; break;
      case 'f':
        opts.statistics = true;
        opts.full = true;
        break;
      case 'c': opts.color = true; break;
      default:
        std::cerr << "drbdsetup_instrumented events2 - Fake drbdsetup events2 from messages on "
                     "stdin\n\nInput line format:\nmessage_name [variable value]...\n";
        return 1;
    }
  }
  events::Events2World world(opts);
  uint32_t next_seq = 0;
  std::string line;
  while (std::getline(std::cin, line)) {
    std::string name;
    Vars v;
    if (!ParseLine(line, &name, &v)) return 1;
    if (v.msg_seq != -1) next_seq = static_cast<uint32_t>(v.msg_seq);
    auto m = Build(name, v);
    if (!m) return 1;
    auto bytes = Wire(*m, next_seq, genl::kNlmFRequest);
    if (!bytes) return 1;
    auto decoded = genl::Decode(*bytes, {.family_id = kFamilyId});
    if (!decoded.ok()) {
      std::cerr << "decode failed: " << decoded.error().message << "\n";
      return 1;
    }
    auto n = notify::DecodeNotification(*decoded);
    if (!n.ok()) {
      std::cerr << n.error().message << "\n";
      return 1;
    }
    std::string out;
    // Fixed time: the tests replace it by a pattern.
    std::string prefix = timestamps ? events::TimestampPrefix(1700000000000000) : "";
    world.Apply(*n, prefix, &out, decoded->nl.seq);
    std::cout << out;
    ++next_seq;
  }
  std::cout.flush();
  return 0;
}

// ---- the generic (dump) path ---------------------------------------------------------

// An in-process "kernel": answers the family lookup, and each dump request
// with the messages the stdin script lists for it.
class ScriptTransport : public genl::Transport {
 public:
  genl::Status Send(std::span<const uint8_t> datagram) override {
    auto hdr = genl::PeekHeader(datagram);
    if (!hdr.ok()) return hdr.status();
    if (hdr->type == genl::kGenlIdCtrl) {
      queue_.push_back(genl::EncodeNewFamily(Family(), hdr->seq, 0));
      return {};
    }
    auto req = genl::Decode(datagram, {.family_id = kFamilyId});
    if (!req.ok()) return req.status();
    std::string want(genl::GetCmd(static_cast<Cmd>(req->cmd)).name);
    std::string line;
    if (!std::getline(std::cin, line)) {
      std::cerr << "Unexpected generic_get() cmd_id=" << int(req->cmd) << "\n";
      std::exit(1);
    }
    if (line != want) {
      std::cerr << "Command '" << want << "' does not match expected '" << line << "'\n";
      std::exit(1);
    }
    std::vector<uint8_t> datagram_out;
    while (std::getline(std::cin, line)) {
      std::string name;
      Vars v;
      if (!ParseLine(line, &name, &v)) std::exit(1);
      if (name == "-") break;
      auto m = Build(name, v);
      if (!m) std::exit(1);
      auto bytes = Wire(*m, hdr->seq, genl::kNlmFMulti);
      if (!bytes) std::exit(1);
      queue_.push_back(std::move(*bytes));
    }
    queue_.push_back(genl::EncodeDone(hdr->seq, 0));
    return {};
  }

  genl::Result<std::vector<uint8_t>> Receive(int) override {
    if (queue_.empty()) return genl::Error{genl::ErrorCode::kTimeout, "nothing to receive"};
    std::vector<uint8_t> d = std::move(queue_.front());
    queue_.pop_front();
    return d;
  }
  genl::Status JoinGroup(uint32_t) override { return {}; }
  uint32_t port_id() const override { return 4242; }
  std::string name() const override { return "replay"; }

 private:
  static genl::FamilyInfo Family() {
    genl::FamilyInfo f = genl::DrbdFamilyInfo(kFamilyId, kEventsGroup);
    // Like the tests' kernel stand-in: no GET_PATHS.
    std::erase_if(f.ops, [](const genl::CtrlOp& op) {
      return op.id == static_cast<uint32_t>(Cmd::kGetPaths);
    });
    return f;
  }
  std::deque<std::vector<uint8_t>> queue_;
};

int Generic(int argc, char** argv) {
  std::vector<std::string> args = {"drbdsetup"};
  for (int i = 1; i < argc; ++i) args.emplace_back(argv[i]);
  return setup::RunDrbdsetupWith(args, std::cout, std::cerr, [] {
    return genl::Client::Connect(std::make_unique<ScriptTransport>());
  });
}

}  // namespace
}  // namespace drbd::replay

int main(int argc, char** argv) {
  std::ios::sync_with_stdio(false);
  if (argc < 2) {
    std::cerr << "USAGE: drbdsetup_instrumented {events2|show} [options]\n";
    return 1;
  }
  std::string cmd = argv[1];
  int rc;
  if (cmd == "events2") {
    rc = drbd::replay::Events2(argc - 1, argv + 1);
  } else if (cmd == "show") {
    rc = drbd::replay::Generic(argc, argv);
  } else {
    std::cerr << "Unknown command '" << cmd << "'\n"
              << "USAGE: drbdsetup_instrumented {events2|show} [options]\n";
    rc = 1;
  }
  std::cout.flush();
  return rc;
}
