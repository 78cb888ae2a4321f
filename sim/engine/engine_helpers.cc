// SPDX-License-Identifier: GPL-2.0-or-later
// Usermode helpers and fencing: the kernel's drbd_khelper (argv, the
// environment it builds, the "helper command:" log lines, the events2
// call/response helper notifications), the handlers it calls after state
// changes (disconnected, fence-peer after a lost connection, unfence-peer,
// before/after-resync-*), conn_try_outdate_peer with the meanings of the
// fence-peer exit codes, and IO frozen (susp-io fencing) while fence-peer
// runs under `fencing resource-and-stonith`. Helpers run through the env's
// HelperRunner and answer later on the loop; where the kernel blocks a
// thread on a helper, the engine goes on and applies the answer when it
// comes (docs/design/drbd-simd.md "Handlers and fencing").
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "sim/engine/engine.h"
#include "sim/engine/engine_internal.h"

namespace drbd::engine {
namespace {

using events::NotifyType;

// fencing_policy values (options.def).
constexpr int64_t kFencingDontCare = 0;
constexpr int64_t kFencingStonith = 2;

// fence-peer exit codes (the kernel's enum drbd_peer_state answers).
constexpr int kFpInconsistent = 3;
constexpr int kFpOutdated = 4;
constexpr int kFpDown = 5;
constexpr int kFpPrimary = 6;
constexpr int kFpFencing = 7;

// The kernel's %pI6: eight groups of four hex digits, no compression.
std::string ExpandIpv6(const std::string& host) {
  std::string h = host.substr(0, host.find('%'));
  std::array<uint16_t, 8> g{};
  auto parse_groups = [](const std::string& s, std::vector<uint16_t>* out) {
    size_t pos = 0;
    while (pos < s.size()) {
      size_t end = s.find(':', pos);
      if (end == std::string::npos) end = s.size();
      std::string part = s.substr(pos, end - pos);
      if (part.find('.') != std::string::npos) {  // embedded IPv4
        unsigned a = 0, b = 0, c = 0, d = 0;
        if (std::sscanf(part.c_str(), "%u.%u.%u.%u", &a, &b, &c, &d) == 4) {
          out->push_back(static_cast<uint16_t>((a << 8) | b));
          out->push_back(static_cast<uint16_t>((c << 8) | d));
        }
      } else if (!part.empty()) {
        out->push_back(static_cast<uint16_t>(std::strtoul(part.c_str(), nullptr, 16)));
      }
      pos = end + 1;
    }
  };
  std::vector<uint16_t> head, tail;
  size_t dc = h.find("::");
  if (dc == std::string::npos) {
    parse_groups(h, &head);
  } else {
    parse_groups(h.substr(0, dc), &head);
    parse_groups(h.substr(dc + 2), &tail);
  }
  for (size_t i = 0; i < head.size() && i < 8; ++i) g[i] = head[i];
  for (size_t i = 0; i < tail.size() && i < 8; ++i) g[8 - tail.size() + i] = tail[i];
  std::string out;
  for (size_t i = 0; i < 8; ++i) {
    if (i) out += ':';
    out += fmt::format("{:04x}", g[i]);
  }
  return out;
}

// env_print_address: PREFIXADDRESS and PREFIXAF.
void PutAddress(std::vector<std::string>& env, const std::string& prefix, const Address& a) {
  std::string af = "ssocks", host = a.host;
  if (a.family == Address::Family::kIpv6) {
    af = "ipv6";
    host = ExpandIpv6(a.host);
  } else if (a.family == Address::Family::kIpv4) {
    af = "ipv4";
  }
  env.push_back(prefix + "ADDRESS=" + host);
  env.push_back(prefix + "AF=" + af);
}

}  // namespace

void Engine::CallHelper(Resource& r, Connection* c, Device* d, const std::string& name,
                        const HelperDone& done) {
  sim::HelperRunner* runner = env_.helpers;
  if (!runner) {
    if (done) env_.clock->StartTimer(0, [done] { done(kHelperDisabled); });
    return;
  }
  // The environment, in drbd_khelper's order.
  sim::HelperCall call;
  call.name = name;
  call.resource = r.name;
  std::vector<std::string>& env = call.env;
  env.emplace_back("HOME=/");
  env.emplace_back("TERM=linux");
  env.emplace_back("PATH=/sbin:/usr/sbin:/bin:/usr/bin");
  if (d) {
    env.push_back(fmt::format("DRBD_MINOR={}", d->minor));
    env.push_back(fmt::format("DRBD_VOLUME={}", d->volume));
    if (d->data) env.push_back("DRBD_BACKING_DEV=" + d->backing_dev);
  }
  if (c) {
    if (!c->paths.empty()) {
      PutAddress(env, "DRBD_MY_", c->paths.front().local);
      PutAddress(env, "DRBD_PEER_", c->paths.front().peer);
    }
    env.push_back(fmt::format("DRBD_PEER_NODE_ID={}", c->peer_node_id));
    env.push_back(fmt::format("DRBD_CSTATE={}", events::ToString(c->cstate)));
  }
  if (c && !d) {
    for (const auto& [vol, pd] : c->peer_devices) {
      auto dit = r.devices.find(vol);
      if (dit == r.devices.end()) continue;
      env.push_back(fmt::format("DRBD_MINOR_{}={}", vol, dit->second.minor));
      if (dit->second.data) {
        env.push_back(fmt::format("DRBD_BACKING_DEV_{}={}", vol, dit->second.backing_dev));
      }
    }
  }
  if (c && name.find("fence") != std::string::npos) {
    // up_to_date_nodes() of every attached volume, intersected; volumes
    // where no node is known UpToDate are left out.
    const bool op_is_fence = name == "fence-peer";
    uint64_t mask = ~0ull;
    for (const auto& [vol, pd] : c->peer_devices) {
      auto dit = r.devices.find(vol);
      if (dit == r.devices.end() || !dit->second.data) continue;
      const Device& dev = dit->second;
      uint64_t m = 1ull << r.node_id;
      if (r.role == Role::kPrimary || op_is_fence) {
        for (const auto& [peer, c2] : r.connections) {
          auto p = c2.peer_devices.find(vol);
          if (p != c2.peer_devices.end() && p->second.peer_disk == DiskState::kUpToDate) {
            m |= 1ull << peer;
          }
        }
      } else if (dev.disk == DiskState::kUpToDate) {
        for (uint32_t node = 0; node < kNodeIdMax && node < dev.sb.peers.size(); ++node) {
          if (static_cast<int32_t>(node) == r.node_id) continue;
          bool up = false;
          auto cit = r.connections.find(node);
          if (cit != r.connections.end()) {
            auto p = cit->second.peer_devices.find(vol);
            up = p != cit->second.peer_devices.end() && p->second.peer_disk == DiskState::kUpToDate;
          }
          const md::PeerRecord& pr = dev.sb.peers[node];
          if (up || ((pr.flags & md::kNodeExists) && pr.bitmap_uuid == 0)) m |= 1ull << node;
        }
      } else {
        m = 0;
      }
      if (m) mask &= m;
    }
    env.push_back(fmt::format("UP_TO_DATE_NODES=0x{:08X}", mask));
  }

  // magic_printk: the peer device, else the device, else the connection
  // (else the resource: no caller passes neither).
  std::string prefix = c && d ? Prefix(r, *d, *c)
                       : d    ? Prefix(r, *d)
                       : c    ? Prefix(r, *c)
                              : Prefix(r);
  const std::string program = runner->Program();
  events::Helper note;
  note.resource = r.name;
  if (c) {
    note.peer_node_id = c->peer_node_id;
    note.conn_name = c->name;
  }
  if (d) {
    note.volume = d->volume;
    note.minor = d->minor;
  }
  note.name = name;
  Log(fmt::format("{}: helper command: {} {}", prefix, program, name));
  Emit(events::Notification{NotifyType::kCall, false, note});
  const bool disconnected = name == "disconnected";
  if (disconnected) ++disconnected_running_[r.name];
  runner->Run(call, [this, prefix, program, note, name, done, disconnected,
                     res = r.name](int status) mutable {
    if (status) {
      Log(fmt::format("{}: helper command: {} {} exit code {} (0x{:x})", prefix, program, name,
                      (status >> 8) & 0xff, static_cast<unsigned>(status)));
    } else {
      Log(fmt::format("{}: helper command: {} {} exit code 0", prefix, program, name));
    }
    note.response = true;
    note.status = static_cast<uint32_t>(status);
    Emit(events::Notification{NotifyType::kResponse, false, note});
    if (status < 0) status = 0;  // errnos are ignored
    if (done) done((status >> 8) & 0xff);
    if (disconnected && --disconnected_running_[res] == 0) {
      disconnected_running_.erase(res);
      auto waiters = std::move(disconnected_waiters_[res]);
      disconnected_waiters_.erase(res);
      for (auto& fn : waiters) fn();
    }
  });
}

void Engine::AfterDisconnectedHandlers(const std::string& res, std::function<void()> fn) {
  if (!disconnected_running_.count(res)) return fn();
  disconnected_waiters_[res].push_back(std::move(fn));
}

void Engine::AfterReleasedDisksDurable(std::function<void()> fn) {
  if (released_io_->in_flight == 0) return fn();
  released_io_->waiters.push_back(std::move(fn));
}

bool Engine::IoFrozen(const Resource& r) const {
  for (const auto& [peer, c] : r.connections) {
    if (c.susp_fen) return true;
  }
  return false;
}

void Engine::SetFencingSuspend(Resource& r, Connection& c, bool on, const std::string& tag) {
  if (c.susp_fen == on) return;
  // The kernel's suspend-flag list: user, no-disk, fencing, quorum.
  auto flags = [&r](bool fen) {
    std::string f;
    if (r.susp_user) f += "user,";
    if (fen) f += "fencing,";
    if (r.susp_quorum) f += "quorum,";
    return f.empty() ? std::string("no") : f.substr(0, f.size() - 1);
  };
  const bool was = IoFrozen(r);
  c.susp_fen = on;
  const bool now = IoFrozen(r);
  if (was == now) return;
  Log(fmt::format("{}: susp-io( {} -> {} ){}", Prefix(r), flags(was), flags(now),
                  tag.empty() ? "" : " [" + tag + "]"));
  Emit(ResourceNote(r, NotifyType::kChange));
  if (now) return;
  // Thawed: the parked requests run again, in order, as later events.
  std::vector<std::function<void()>> parked;
  parked.swap(r.frozen_io);
  for (auto& fn : parked) env_.clock->StartTimer(0, std::move(fn));
}

void Engine::HelpersStateChanged(Resource& r, const ResState& o, const ResState& n,
                                 const std::string& tag) {
  for (auto& [peer, c] : r.connections) {
    auto oit = o.conns.find(peer);
    auto nit = n.conns.find(peer);
    if (oit == o.conns.end() || nit == n.conns.end()) continue;
    const ResState::Conn& oc = oit->second;
    const ResState::Conn& nc = nit->second;
    const int64_t fencing = c.net.Int("fencing");
    const std::string res = r.name;
    const uint32_t peer_id = peer;

    // Suspend IO while fence-peer runs: a Primary lost sight of the peer's disk.
    if (fencing == kFencingStonith && !c.susp_fen) {
      bool lost = false;
      for (const auto& [vol, npd] : nc.pd) {
        auto op = oc.pd.find(vol);
        if (op == oc.pd.end()) continue;
        if (n.role == Role::kPrimary && npd.repl < ReplState::kEstablished &&
            npd.peer_disk == DiskState::kDUnknown &&
            (o.role != Role::kPrimary || op->second.peer_disk != DiskState::kDUnknown)) {
          lost = true;
        }
      }
      if (lost) SetFencingSuspend(r, c, true, tag);
    }

    // check_may_resume_io_after_fencing: every peer disk outdated by the
    // handler, or the connection established again.
    if (c.susp_fen && !c.peer_devices.empty()) {
      bool all_outdated = true, all_connected = true;
      for (const auto& [vol, pd] : c.peer_devices) {
        if (pd.peer_disk > DiskState::kOutdated) all_outdated = false;
        if (pd.repl < ReplState::kEstablished) all_connected = false;
      }
      if (all_outdated || all_connected) SetFencingSuspend(r, c, false, "after-fencing");
    }

    // The connection went down: fence-peer (Primary, fencing on, the peer
    // not known to be Outdated) and the disconnected handler.
    if (oc.cstate == ConnState::kConnected && nc.cstate != ConnState::kConnected) {
      bool peer_may_be_current = false;
      for (const auto& [vol, pd] : c.peer_devices) {
        if (pd.peer_disk >= DiskState::kDUnknown) peer_may_be_current = true;
      }
      if (r.role == Role::kPrimary && fencing != kFencingDontCare && peer_may_be_current) {
        TryOutdatePeer(r, c, "outdate-async");
      }
      CallHelper(r, &c, nullptr, "disconnected");
    }

    // unfence-peer: the last volume of the connection became UpToDate on
    // both sides.
    if (fencing != kFencingDontCare && !nc.pd.empty()) {
      bool unfence = true, some_was_not = false;
      for (const auto& [vol, npd] : nc.pd) {
        auto od = oc.pd.find(vol);
        auto nd = n.disk.find(vol);
        if (nd == n.disk.end() || nd->second != DiskState::kUpToDate ||
            npd.peer_disk != DiskState::kUpToDate) {
          unfence = false;
        }
        if (od == oc.pd.end() || od->second.peer_disk != DiskState::kUpToDate) some_was_not = true;
      }
      if (unfence && some_was_not) CallHelper(r, &c, nullptr, "unfence-peer");
    }

    // Resync handlers (drbd_start_resync, drbd_resync_finished).
    for (const auto& [vol, npd] : nc.pd) {
      auto op = oc.pd.find(vol);
      auto dit = r.devices.find(vol);
      if (op == oc.pd.end() || dit == r.devices.end()) continue;
      const ReplState was = op->second.repl, is = npd.repl;
      Device& d = dit->second;
      if (!IsSyncTarget(was) && IsSyncTarget(is)) {
        CallHelper(r, &c, &d, "before-resync-target", [this, res, peer_id, vol = vol](int ex) {
          if (ex <= 0) return;
          DropAfterHelper(res, peer_id, vol,
                          fmt::format("before-resync-target handler returned {}, "
                                      "dropping connection.",
                                      ex));
        });
      } else if (!IsSyncSource(was) && IsSyncSource(is)) {
        CallHelper(r, &c, &d, "before-resync-source", [this, res, peer_id, vol = vol](int ex) {
          if (ex <= 0) return;
          if (ex == 3) {
            DropAfterHelper(res, peer_id, vol,
                            "before-resync-source handler returned 3, ignoring. Old userland "
                            "tools?",
                            false);
            return;
          }
          DropAfterHelper(res, peer_id, vol,
                          fmt::format("before-resync-source handler returned {}, "
                                      "dropping connection.",
                                      ex));
        });
      }
      if (IsSyncTarget(was) && is == ReplState::kEstablished) {
        CallHelper(r, &c, &d, "after-resync-target");
      }
    }
  }
}

void Engine::DropAfterHelper(const std::string& res, uint32_t peer, uint32_t vol,
                             const std::string& why, bool drop) {
  Resource* r = FindResource(res);
  if (!r) return;
  auto cit = r->connections.find(peer);
  auto dit = r->devices.find(vol);
  if (cit == r->connections.end() || dit == r->devices.end()) return;
  Log(fmt::format("{}: {}", Prefix(*r, dit->second), why));
  if (!drop || cit->second.cstate < ConnState::kConnected) return;
  TryDisconnect(*r, cit->second, true, "");
}

void Engine::TryOutdatePeer(Resource& r, Connection& c, const std::string& tag,
                            const std::function<void(bool outdated)>& done) {
  auto finish = [this, done](bool v) {
    if (done) env_.clock->StartTimer(0, [done, v] { done(v); });
  };
  if (c.cstate >= ConnState::kConnected) {
    Log(fmt::format("{}: Expected cstate < C_CONNECTED", Prefix(r, c)));
    return finish(false);
  }
  // conn_highest_disk: the best local disk behind this connection.
  auto highest_disk = [](const Resource& res, const Connection& conn) {
    DiskState best = DiskState::kDiskless;
    for (const auto& [vol, pd] : conn.peer_devices) {
      auto dit = res.devices.find(vol);
      if (dit != res.devices.end()) best = std::max(best, dit->second.disk);
    }
    return best;
  };
  if (highest_disk(r, c) < DiskState::kConsistent) {
    SetFencingSuspend(r, c, false, tag);
    return finish(false);
  }
  if (c.net.Int("fencing") == kFencingDontCare) return finish(true);
  const std::string res = r.name;
  const uint32_t peer = c.peer_node_id;
  const uint64_t reconnects = c.reconnects;
  CallHelper(
      r, &c, nullptr, "fence-peer", [this, res, peer, reconnects, tag, done, highest_disk](int ex) {
        Resource* r = FindResource(res);
        auto cit = r ? r->connections.find(peer) : decltype(r->connections.end()){};
        if (!r || cit == r->connections.end()) {
          if (done) done(false);
          return;
        }
        Connection& c = cit->second;
        auto all_outdated = [&c] {
          for (const auto& [vol, pd] : c.peer_devices) {
            if (pd.peer_disk > DiskState::kOutdated) return false;
          }
          return true;
        };
        if (ex == kHelperDisabled) {
          if (done) done(true);
          return;
        }
        ResState n = Capture(*r);
        auto downgrade_peer = [&n, peer](DiskState to) {
          for (auto& [vol, pd] : n.conns.at(peer).pd) pd.peer_disk = std::min(pd.peer_disk, to);
        };
        std::string what;
        switch (ex) {
          case kFpInconsistent:
            what = "peer is inconsistent or worse";
            downgrade_peer(DiskState::kInconsistent);
            break;
          case kFpOutdated:
            what = "peer was fenced";
            downgrade_peer(DiskState::kOutdated);
            break;
          case kFpDown:
            if (highest_disk(*r, c) == DiskState::kUpToDate) {
              what = "peer is unreachable, assumed to be dead";
              downgrade_peer(DiskState::kOutdated);
            } else {
              what = "peer unreachable, doing nothing since disk != UpToDate";
            }
            break;
          case kFpPrimary:
            what = "peer is active";
            Log(fmt::format("{}: Peer is primary, outdating myself.", Prefix(*r, c)));
            for (auto& [vol, ds] : n.disk) ds = std::min(ds, DiskState::kOutdated);
            break;
          case kFpFencing:
            if (c.net.Int("fencing") != kFencingStonith) {
              Log(fmt::format("{}: fence-peer() = 7 && fencing != Stonith !!!", Prefix(*r, c)));
            }
            what = "peer was stonithed";
            downgrade_peer(DiskState::kOutdated);
            break;
          default:
            // A broken handler: nothing changes, IO stays frozen.
            Log(fmt::format("{}: fence-peer helper broken, returned {}", Prefix(*r, c), ex));
            if (done) done(false);
            return;
        }
        Log(fmt::format("{}: fence-peer helper returned {} ({})", Prefix(*r, c), ex, what));
        if (c.cstate >= ConnState::kConnected) {
          // Connection re-established meanwhile: do not fence.
        } else if (c.reconnects != reconnects) {
          Log(fmt::format("{}: Ignoring fence-peer exit code", Prefix(*r, c)));
        } else {
          Change(*r, n, false, tag);
        }
        if (done) done(all_outdated());
      });
}

void Engine::PrimaryFenced(const Ctx& ctx, bool force, const std::function<void(Reply)>& done) {
  auto reply_later = [this, done](Reply r) {
    env_.clock->StartTimer(0, [done, r = std::move(r)] { done(r); });
  };
  Reply first = Primary(ctx, false);
  Resource* r = FindResource(ctx.resource);
  if (first.ret != Ret::kSsPrimaryNop || !r) {
    if (IsSuccess(first.ret) || !force) return reply_later(std::move(first));
    return reply_later(Primary(ctx, true));
  }
  // conn_try_outdate_peer for every connection, one after the other, then
  // the retry (with `force` now).
  std::vector<uint32_t> peers;
  for (const auto& [peer, c] : r->connections) {
    if (c.cstate < ConnState::kConnected && c.net.Int("fencing") != kFencingDontCare) {
      peers.push_back(peer);
    }
  }
  // Each step is kept alive by whoever runs it next (this call, then the
  // pending fence-peer answer); it refers to itself only weakly.
  auto step = std::make_shared<std::function<void(size_t)>>();
  std::weak_ptr<std::function<void(size_t)>> weak = step;
  *step = [this, ctx, force, peers, weak, reply_later](size_t i) {
    Resource* res = FindResource(ctx.resource);
    while (res && i < peers.size() && !res->connections.count(peers[i])) ++i;
    if (!res || i >= peers.size()) return reply_later(Primary(ctx, force));
    auto self = weak.lock();
    TryOutdatePeer(*res, res->connections.at(peers[i]), "primary",
                   [self, i](bool) { (*self)(i + 1); });
  };
  (*step)(0);
}

}  // namespace drbd::engine
