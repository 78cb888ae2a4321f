// SPDX-License-Identifier: GPL-2.0-or-later
// Test support: an engine placed in a sim::World with its own recording
// sink, plus helpers that issue requests the way drbdsetup addresses them
// (resource / minor / peer node / volume) and write fresh metadata onto a
// world disk through lib/md. Header-only so both the engine tests and later
// cluster scenarios can use it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "lib/md/device.h"
#include "lib/md/metadata.h"
#include "lib/md/superblock.h"
#include "sim/engine/engine.h"
#include "sim/world/world.h"

namespace drbd::sim {

// The tests' usual backing disk size, and one second of world time.
inline constexpr uint64_t kDiskBytes = 32ull << 20;
inline constexpr uint64_t kSec = 1000000000ull;

// N bytes of test data that differ with SEED and along the buffer (no
// repeat within a 4 KiB block or between neighbouring blocks).
inline std::vector<uint8_t> Pattern(size_t n, uint8_t seed) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(seed + i * 13 + (i >> 10));
  return v;
}

// Writes v09 internal metadata (as drbdmeta create-md does) onto world disk
// `path` of `bytes` bytes. `flags` are MDF_* bits; `node_id` -1 = unset;
// `max_peers` bitmap slots.
inline bool MakeMetadata(World& w, const std::string& path, uint64_t bytes,
                         uint32_t flags = md::kMdfAlClean,
                         uint64_t current_uuid = md::kUuidJustCreated, int32_t node_id = -1,
                         int max_peers = 1) {
  md::MemDevice dev(bytes);
  md::Superblock sb = md::NewSuperblock(md::Format::kV09, max_peers, 1, 8);
  if (!md::InitOffsets(sb, md::kIndexFlexInternal, bytes).ok()) return false;
  sb.flags = flags;
  sb.current_uuid = current_uuid;
  sb.node_id = node_id;
  if (!md::CreateMetadata(dev, md::Placement{md::Format::kV09, md::kIndexFlexInternal}, sb, false)
           .ok()) {
    return false;
  }
  *w.AddDisk(path, bytes) = dev.data();
  return true;
}

inline Address Ip4(const std::string& host, uint16_t port) {
  Address a;
  a.family = Address::Family::kIpv4;
  a.host = host;
  a.port = port;
  return a;
}

struct Node {
  Node(World& w, std::string name)
      : world(w), engine(std::move(name), Env{w.clock(), w.net(), w.disks(), w.rng(), &sink}) {}
  // With usermode helpers run by `helpers` (not owned; must outlive the node).
  Node(World& w, std::string name, HelperRunner* helpers)
      : world(w),
        engine(std::move(name), Env{w.clock(), w.net(), w.disks(), w.rng(), &sink, helpers}) {}

  engine::Ctx Res(const std::string& res) const {
    engine::Ctx c;
    c.resource = res;
    return c;
  }
  engine::Ctx Minor(uint32_t minor) const {
    engine::Ctx c;
    c.minor = minor;
    return c;
  }
  engine::Ctx Peer(const std::string& res, uint32_t peer) const {
    engine::Ctx c = Res(res);
    c.peer_node_id = peer;
    return c;
  }
  engine::Ctx PeerVol(const std::string& res, uint32_t peer, uint32_t vol) const {
    engine::Ctx c = Peer(res, peer);
    c.volume = vol;
    return c;
  }

  engine::Ret NewResource(const std::string& res, int64_t node_id) {
    return engine
        .NewResource(Res(res), node_id, engine::OptionSet(cfg::OptContext::kResourceOptions))
        .ret;
  }
  engine::Ret NewMinor(const std::string& res, uint32_t minor, uint32_t vol) {
    engine::Ctx c = Res(res);
    c.minor = minor;
    c.volume = vol;
    return engine.NewMinor(c).ret;
  }
  // Attach and run the world until the reply arrives.
  engine::Reply Attach(uint32_t minor, const std::string& disk, const std::string& meta = "",
                       int32_t idx = engine::kMetaIdxFlexInt) {
    engine::DiskConf conf;
    conf.backing_dev = disk;
    conf.meta_dev = meta.empty() ? disk : meta;
    conf.meta_dev_idx = idx;
    std::optional<engine::Reply> got;
    engine.Attach(Minor(minor), conf, [&](engine::Reply r) { got = std::move(r); });
    for (int i = 0; i < 1000 && !got; ++i) world.Step();
    return got.value_or(engine::Reply{engine::Ret::kSsUnknownError, {"no reply"}});
  }
  engine::Ret NewPeer(const std::string& res, uint32_t peer, const std::string& name,
                      const engine::OptionSet& net = engine::OptionSet(cfg::OptContext::kNewPeer)) {
    return engine.NewPeer(Peer(res, peer), name, net).ret;
  }
  engine::Ret NewPath(const std::string& res, uint32_t peer, const Address& local,
                      const Address& remote) {
    return engine.NewPath(Peer(res, peer), local, remote).ret;
  }
  engine::Ret Connect(const std::string& res, uint32_t peer) {
    return engine.Connect(Peer(res, peer), false, false).ret;
  }

  World& world;
  RecordingSink sink;
  engine::Engine engine;
};

// Options of UpMesh: the resource options every node gets, and at most one
// node that is an intentional diskless client (new-minor --diskless, not
// attached; the others turn the `bitmap` peer-device option off toward it).
struct MeshOptions {
  engine::OptionSet res{cfg::OptContext::kResourceOptions};
  int client = -1;  // index into `nodes`, -1 for none
};

// The three-or-more-node setup: resource r0 on every node of `nodes` (node
// id = index i, named 'a' + i, 10.0.0.<i+1>:7788), minor 0 / volume 0 on
// fresh metadata /<name>/disk with a bitmap slot per peer, attached, and
// every pair connected (the world is not run). "" on success, else the step
// that failed.
inline std::string UpMesh(World& w, const std::vector<Node*>& nodes,
                          const MeshOptions& opts = MeshOptions{}) {
  using engine::Ret;
  const int n = static_cast<int>(nodes.size());
  auto name = [](int i) { return std::string(1, static_cast<char>('a' + i)); };
  auto host = [](int i) { return "10.0.0." + std::to_string(i + 1); };
  for (int i = 0; i < n; ++i) {
    Node& node = *nodes[static_cast<size_t>(i)];
    const bool client = i == opts.client;
    if (node.engine.NewResource(node.Res("r0"), i, opts.res).ret != Ret::kNoError) {
      return "new-resource " + name(i);
    }
    engine::Ctx mc = node.Res("r0");
    mc.minor = 0;
    mc.volume = 0;
    if (node.engine.NewMinor(mc, 512, client).ret != Ret::kNoError) return "new-minor " + name(i);
    for (int j = 0; j < n; ++j) {
      if (j == i) continue;
      const auto peer = static_cast<uint32_t>(j);
      if (node.NewPeer("r0", peer, name(j)) != Ret::kNoError ||
          node.NewPath("r0", peer, Ip4(host(i), 7788), Ip4(host(j), 7788)) != Ret::kNoError) {
        return "new-peer " + name(i) + "-" + name(j);
      }
      if (j == opts.client) {
        engine::OptionSet no_bitmap(cfg::OptContext::kPeerDeviceOptions);
        no_bitmap.Set("bitmap", 0);
        if (node.engine.PeerDeviceOptions(node.PeerVol("r0", peer, 0), no_bitmap, false).ret !=
            Ret::kNoError) {
          return "peer-device-options " + name(i) + "-" + name(j);
        }
      }
    }
    if (client) continue;
    const std::string disk = "/" + name(i) + "/disk";
    if (!MakeMetadata(w, disk, kDiskBytes, md::kMdfAlClean, md::kUuidJustCreated, -1, n - 1)) {
      return "metadata " + name(i);
    }
    if (node.Attach(0, disk).ret != Ret::kNoError) return "attach " + name(i);
  }
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < n; ++j) {
      if (j != i && nodes[static_cast<size_t>(i)]->Connect("r0", static_cast<uint32_t>(j)) !=
                        Ret::kSsSuccess) {
        return "connect " + name(i) + "-" + name(j);
      }
    }
  }
  return "";
}

// The two-node setup most engine tests start from: resource r0 on `a`
// (node 0, 10.0.0.1:7788) and `b` (node 1, 10.0.0.2:7788), minor 0 /
// volume 0 each on fresh metadata (/a/disk, /b/disk), connected.
struct PairOptions {
  engine::OptionSet res{cfg::OptContext::kResourceOptions};
  engine::OptionSet net{cfg::OptContext::kNewPeer};
  // Set on both before connecting when `set_peer_device` (a plain flag, not
  // std::optional: GCC 12 -fsanitize=address warns about the latter).
  engine::OptionSet peer_device{cfg::OptContext::kPeerDeviceOptions};
  bool set_peer_device = false;
  bool attach_b = true;
  // new-current-uuid --clear-bitmap once connected: both start UpToDate.
  bool skip_initial_sync = true;
};

// A pair whose resync runs at a fixed `rate` KiB/s (no dynamic controller),
// slow enough by default (100 MiB/s) for a test to act while it runs.
inline PairOptions FixedRatePairOptions(int64_t rate = int64_t{100} << 10) {
  PairOptions o;
  o.peer_device.Set("resync-rate", rate);
  o.peer_device.Set("c-plan-ahead", int64_t{0});
  o.set_peer_device = true;
  return o;
}

// A pair that verifies (verify-alg crc32c) and resyncs at a fixed rate
// (`rate` KiB/s, unthrottled by default).
inline PairOptions VerifyPairOptions(int64_t rate = int64_t{1} << 20) {
  PairOptions o = FixedRatePairOptions(rate);
  o.net.Set("verify-alg", std::string("crc32c"));
  return o;
}

// Flips a byte in each 4 KiB block `blocks` of `path`'s data area, behind
// DRBD's back (what online verify is for).
inline void CorruptBlocks(World& w, const std::string& path, const std::vector<uint64_t>& blocks) {
  auto bytes = w.DiskBytes(path);
  for (uint64_t blk : blocks) (*bytes)[blk * 4096 + 100] ^= 0xa5;
}

// Brings the pair up; "" on success, else the step that failed.
inline std::string UpPair(World& w, Node& a, Node& b, const PairOptions& o = {}) {
  using engine::Ret;
  if (a.engine.NewResource(a.Res("r0"), 0, o.res).ret != Ret::kNoError) return "new-resource a";
  if (b.engine.NewResource(b.Res("r0"), 1, o.res).ret != Ret::kNoError) return "new-resource b";
  if (a.NewMinor("r0", 0, 0) != Ret::kNoError || b.NewMinor("r0", 0, 0) != Ret::kNoError)
    return "new-minor";
  if (a.NewPeer("r0", 1, "b", o.net) != Ret::kNoError ||
      b.NewPeer("r0", 0, "a", o.net) != Ret::kNoError)
    return "new-peer";
  if (a.NewPath("r0", 1, Ip4("10.0.0.1", 7788), Ip4("10.0.0.2", 7788)) != Ret::kNoError ||
      b.NewPath("r0", 0, Ip4("10.0.0.2", 7788), Ip4("10.0.0.1", 7788)) != Ret::kNoError)
    return "new-path";
  if (!MakeMetadata(w, "/a/disk", kDiskBytes) || !MakeMetadata(w, "/b/disk", kDiskBytes))
    return "metadata";
  if (a.Attach(0, "/a/disk").ret != Ret::kNoError) return "attach a";
  if (o.attach_b && b.Attach(0, "/b/disk").ret != Ret::kNoError) return "attach b";
  if (o.set_peer_device) {
    if (a.engine.PeerDeviceOptions(a.PeerVol("r0", 1, 0), o.peer_device, false).ret !=
            Ret::kNoError ||
        b.engine.PeerDeviceOptions(b.PeerVol("r0", 0, 0), o.peer_device, false).ret !=
            Ret::kNoError)
      return "peer-device-options";
  }
  if (a.Connect("r0", 1) != Ret::kSsSuccess || b.Connect("r0", 0) != Ret::kSsSuccess)
    return "connect";
  w.RunFor(kSec);
  if (a.engine.ConnStateOf("r0", 1) != engine::ConnState::kConnected) return "not connected";
  if (o.attach_b && o.skip_initial_sync) {
    if (a.engine.NewCurrentUuid(a.Minor(0), true).ret != Ret::kNoError) return "new-current-uuid";
    w.RunFor(kSec);
    if (b.engine.DiskStateOf(0) != engine::DiskState::kUpToDate) return "b not UpToDate";
  }
  return "";
}

// Brings node `node_id` of an UpPair pair up again on its existing disk,
// as after a restart (`n` is the fresh Node): resource, minor, peer and path
// with `o`'s options, peer-device options when `o.set_peer_device`,
// attach, and connect unless `connect` is false. "" or the failed step.
inline std::string RejoinPair(Node& n, int node_id, const PairOptions& o = {},
                              bool connect = true) {
  using engine::Ret;
  const uint32_t peer = node_id == 0 ? 1 : 0;
  const std::string me = node_id == 0 ? "10.0.0.1" : "10.0.0.2";
  const std::string other = node_id == 0 ? "10.0.0.2" : "10.0.0.1";
  const std::string disk = node_id == 0 ? "/a/disk" : "/b/disk";
  if (n.engine.NewResource(n.Res("r0"), node_id, o.res).ret != Ret::kNoError)
    return "new-resource";
  if (n.NewMinor("r0", 0, 0) != Ret::kNoError) return "new-minor";
  if (n.NewPeer("r0", peer, node_id == 0 ? "b" : "a", o.net) != Ret::kNoError) return "new-peer";
  if (n.NewPath("r0", peer, Ip4(me, 7788), Ip4(other, 7788)) != Ret::kNoError) return "new-path";
  if (o.set_peer_device &&
      n.engine.PeerDeviceOptions(n.PeerVol("r0", peer, 0), o.peer_device, false).ret !=
          Ret::kNoError)
    return "peer-device-options";
  if (n.Attach(0, disk).ret != Ret::kNoError) return "attach";
  if (connect && n.Connect("r0", peer) != Ret::kSsSuccess) return "connect";
  return "";
}

// Makes `n` Primary of r0 and opens minor 0 for writing, as a workload
// does: the handle, 0 if either step failed.
inline uint64_t PrimaryWriter(Node& n) {
  if (n.engine.Primary(n.Res("r0"), false).ret != engine::Ret::kSsSuccess) return 0;
  int err = 0;
  const uint64_t h = n.engine.OpenDevice(0, &err);
  return h != 0 && n.engine.OpenDeviceForWrite(h) == 0 ? h : 0;
}

// Writes through an open handle and runs the world until the write
// completes: its errno (0 = done), -1 if it never completed.
inline int WriteAndRun(World& w, Node& n, uint64_t handle, uint64_t off, std::vector<uint8_t> data,
                       bool fua = false) {
  std::optional<int> got;
  n.engine.IoWrite(handle, off, std::move(data), fua, [&](int e) { got = e; });
  for (int i = 0; i < 100000 && !got; ++i) {
    if (!w.Step()) break;
  }
  return got.value_or(-1);
}

}  // namespace drbd::sim
