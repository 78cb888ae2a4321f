// SPDX-License-Identifier: GPL-2.0-or-later
// Test support: an engine placed in a sim::World with its own recording
// sink, plus helpers that issue requests the way drbdsetup addresses them
// (resource / minor / peer node / volume) and write fresh metadata onto a
// world disk through lib/md. Header-only so both the engine tests and later
// cluster scenarios can use it.
#pragma once

#include <optional>
#include <string>

#include "lib/md/device.h"
#include "lib/md/metadata.h"
#include "lib/md/superblock.h"
#include "sim/engine/engine.h"
#include "sim/world/world.h"

namespace drbd::sim {

// The tests' usual backing disk size, and one second of world time.
inline constexpr uint64_t kDiskBytes = 32ull << 20;
inline constexpr uint64_t kSec = 1000000000ull;

// Writes v09 internal metadata (as drbdmeta create-md does) onto world disk
// `path` of `bytes` bytes. `flags` are MDF_* bits; `node_id` -1 = unset.
inline bool MakeMetadata(World& w, const std::string& path, uint64_t bytes,
                         uint32_t flags = md::kMdfAlClean,
                         uint64_t current_uuid = md::kUuidJustCreated, int32_t node_id = -1) {
  md::MemDevice dev(bytes);
  md::Superblock sb = md::NewSuperblock(md::Format::kV09, 1, 1, 8);
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
      : world(w), engine(name, Env{w.clock(), w.net(), w.disks(), w.rng(), &sink}) {}

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

}  // namespace drbd::sim
