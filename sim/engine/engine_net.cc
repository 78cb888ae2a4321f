// SPDX-License-Identifier: GPL-2.0-or-later
// Engine connections: listening and dialing per path, the peer-protocol
// handshake (version, cram-hmac-alg authentication, protocol settings,
// state exchange), the connection state machine (Connecting -> Connected,
// NetworkFailure / BrokenPipe / TearDown -> Unconnected -> Connecting,
// Disconnecting -> StandAlone), pings, and the UUID comparison that picks
// the replication state. See docs/formats/peer-protocol.md and
// /work/shared/spec/split-brain.md.
#include <fmt/format.h>

#include <algorithm>
#include <cerrno>

#include "sim/engine/engine.h"
#include "sim/engine/engine_internal.h"

namespace drbd::engine {
namespace {

using events::NotifyType;

bool Contains(const std::vector<uint64_t>& v, uint64_t x) {
  return x != 0 && std::find(v.begin(), v.end(), x) != v.end();
}

}  // namespace

// ---------------------------------------------------------------------------
// Listening and dialing

void Engine::ListenOn(const Address& a) {
  std::string key = sim::AddressToString(a);
  Listener& l = listeners_[key];
  if (l.refs++ > 0) return;
  sim::NetError err = sim::NetError::kNone;
  l.id = env_.net->Listen(
      a, [this, a](std::unique_ptr<sim::Stream> s) { OnAccept(std::move(s), a); }, &err);
  if (l.id == 0)
    Log(fmt::format("drbd-simd {}: cannot listen on {}: {}", node_name_, key,
                    sim::NetErrorName(err)));
}

void Engine::UnlistenOn(const Address& a) {
  std::string key = sim::AddressToString(a);
  auto it = listeners_.find(key);
  if (it == listeners_.end()) return;
  if (--it->second.refs > 0) return;
  if (it->second.id != 0) env_.net->StopListening(it->second.id);
  listeners_.erase(it);
}

void Engine::StartConnecting(Resource& r, Connection& c) {
  ResState n = Capture(r);
  n.conns.at(c.peer_node_id).cstate = ConnState::kConnecting;
  Change(r, n, true, "connecting");
  for (const Path& p : c.paths) {
    std::string key = sim::AddressToString(p.local);
    if (std::find(c.listening.begin(), c.listening.end(), key) != c.listening.end()) continue;
    ListenOn(p.local);
    c.listening.push_back(key);
  }
  Dial(r.name, c.peer_node_id);
}

void Engine::StopNetworking(Resource& r, Connection& c) {
  // conn_disconnect -> cleanup_unacked_peer_requests, on every way a
  // connection ends (a local `disconnect --force` too): the writes from
  // this peer that no PEER_ACK covered go out of sync toward the others.
  ApplyUnackedPeerRequests(r, c);
  AbortPeerIo(r, c);
  // The sent/received statistics count per connection: 0 once it is gone
  // and through the next one (captures 03/11/13b: 0 while StandAlone,
  // 4096 after a reconnect's resync, not 36824).
  for (auto& [vol, pd] : c.peer_devices) pd.sent_bytes = pd.received_bytes = 0;
  for (sim::ConnectId id : c.dials) env_.net->CancelConnect(id);
  c.dials.clear();
  for (sim::TimerId* t : {&c.connect_timer, &c.ping_timer, &c.ping_timeout_timer, &c.ko_timer}) {
    if (*t) env_.clock->CancelTimer(*t);
    *t = 0;
  }
  if (c.session) CloseSession(c.session);
  c.session = 0;
  for (const std::string& key : c.listening) {
    auto it = listeners_.find(key);
    if (it == listeners_.end()) continue;
    if (--it->second.refs > 0) continue;
    if (it->second.id != 0) env_.net->StopListening(it->second.id);
    listeners_.erase(it);
  }
  c.listening.clear();
  // Streams still handshaking for this connection are dropped too.
  std::vector<uint64_t> stale;
  for (const auto& [id, s] : sessions_) {
    if (s->resource == r.name && s->peer == c.peer_node_id) stale.push_back(id);
  }
  for (uint64_t id : stale) CloseSession(id);
  // A peer pinged by drbd_check_peers is answered for: it is gone.
  if (std::exchange(c.checking, false)) MaybeFinishCheckPeers(r);
}

void Engine::Dial(const std::string& res, uint32_t peer) {
  Connection* conn = FindConnection(res, peer);
  if (!conn) return;
  Connection& c = *conn;
  for (const Path& p : c.paths) {
    auto id = std::make_shared<sim::ConnectId>(0);
    Address local = p.local;
    *id = env_.net->Connect(
        p.local, p.peer,
        [this, res, peer, id, local](std::unique_ptr<sim::Stream> s, sim::NetError) {
          Resource* r2 = nullptr;
          Connection* found = FindConnection(res, peer, &r2);
          if (!found) return;
          Connection& c2 = *found;
          std::erase(c2.dials, *id);
          if (!s || c2.cstate != ConnState::kConnecting) return;
          uint64_t sid = AddSession(std::move(s), true, res, peer);
          Session& sess = *sessions_.at(sid);
          sess.local = local;
          if (!Bind(sess, *r2, c2)) return;
          proto::Hello h;
          h.sender_node_id = static_cast<uint32_t>(r2->node_id);
          h.receiver_node_id = peer;
          h.resource = res;
          Send(sess, h);
          sess.hello_sent = true;
        });
    c.dials.push_back(*id);
  }
  ArmConnectRetry(res, peer);
}

// The connect-int retry, ticking for as long as the connection is
// Connecting. One attempt at a time, as the kernel's dtt_connect: while a
// stream is mid-handshake nothing new is dialled, but the retry goes on,
// as the kernel's receiver starts conn_connect over after any failed
// handshake. A handshake stream that its peer closes (no handshake timeout
// then) would otherwise leave Connecting with nothing to dial again: the
// simd_soak's 120 s hang after a proxy cut, detsim partition-stall.
void Engine::ArmConnectRetry(const std::string& res, uint32_t peer) {
  Connection* conn = FindConnection(res, peer);
  if (!conn || conn->connect_timer != 0) return;
  uint64_t delay = static_cast<uint64_t>(conn->net.Int("connect-int")) * kNsPerSec;
  conn->connect_timer = env_.clock->StartTimer(delay, [this, res, peer] {
    Connection* c2 = FindConnection(res, peer);
    if (!c2) return;
    c2->connect_timer = 0;
    if (c2->cstate != ConnState::kConnecting) return;
    if (c2->session == 0) return Dial(res, peer);
    ArmConnectRetry(res, peer);
  });
}

void Engine::OnAccept(std::unique_ptr<sim::Stream> s, const Address& local) {
  uint64_t id = AddSession(std::move(s), false, "", std::nullopt);
  sessions_.at(id)->local = local;
}

uint64_t Engine::AddSession(std::unique_ptr<sim::Stream> stream, bool dialed_by_me,
                            const std::string& res, std::optional<uint32_t> peer) {
  auto s = std::make_unique<Session>();
  s->id = next_session_id_++;
  s->stream = std::move(stream);
  s->dialed_by_me = dialed_by_me;
  s->resource = res;
  s->peer = peer;
  uint64_t id = s->id;
  sim::Stream* raw = s->stream.get();
  sessions_[id] = std::move(s);
  raw->Start(
      sim::Stream::Callbacks{[this, id](std::span<const uint8_t> d) { OnSessionData(id, d); },
                             [this, id](sim::NetError e) { OnSessionClosed(id, e); }});
  return id;
}

bool Engine::Bind(Session& s, Resource& r, Connection& c) {
  s.resource = r.name;
  s.peer = c.peer_node_id;
  s.auth = !c.net.Str("cram-hmac-alg").empty();
  // conn_connect arms a receive timeout on the data stream until the last
  // handshake packet arrived (ping-timeout * 10, "10 times the ping_timeo
  // for two-phase commits"): a peer that died in the middle of the
  // handshake, silently, must not hold the connection in Connecting with a
  // stream that never completes; the stream is dropped and dialled anew.
  auto arm_handshake_timeout = [this, &r, &c, &s, id = s.id] {
    const uint64_t timeout = static_cast<uint64_t>(c.net.Int("ping-timeout")) * kNsPerSec;
    if (s.handshake_timer) env_.clock->CancelTimer(s.handshake_timer);
    s.handshake_timer =
        env_.clock->StartTimer(timeout, [this, res = r.name, peer = c.peer_node_id, id] {
          auto it = sessions_.find(id);
          if (it == sessions_.end()) return;
          it->second->handshake_timer = 0;
          if (it->second->up) return;
          Connection* c2 = FindConnection(res, peer);
          CloseSession(id);
          if (c2 && c2->cstate == ConnState::kConnecting && c2->session == 0) Dial(res, peer);
        });
  };
  if (c.session == 0 || c.session == s.id || !sessions_.count(c.session)) {
    if (c.session != s.id) arm_handshake_timeout();
    c.session = s.id;
    return true;
  }
  Session& other = *sessions_.at(c.session);
  bool keep_mine_dialed = r.node_id < static_cast<int32_t>(c.peer_node_id);
  bool s_wins =
      !other.up && s.dialed_by_me == keep_mine_dialed && other.dialed_by_me != keep_mine_dialed;
  if (!s_wins) {
    CloseSession(s.id);
    return false;
  }
  uint64_t loser = c.session;
  c.session = s.id;
  CloseSession(loser);
  arm_handshake_timeout();
  return true;
}

void Engine::CloseSession(uint64_t id) {
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return;
  std::unique_ptr<Session> s = std::move(it->second);
  sessions_.erase(it);
  if (s->handshake_timer) env_.clock->CancelTimer(s->handshake_timer);
  s->handshake_timer = 0;
  if (s->rx_pages_timer) env_.clock->CancelTimer(s->rx_pages_timer);
  s->rx_pages_timer = 0;
  DropUuidLock(*s);
  if (!s->resource.empty() && s->peer) {
    Resource* r = FindResource(s->resource);
    if (r && r->connections.count(*s->peer) && r->connections.at(*s->peer).session == id) {
      r->connections.at(*s->peer).session = 0;
    }
  }
  s->stream->Close();
  // The stream may be inside its own callback: free it on a later event.
  graveyard_.push_back(std::move(s));
  if (graveyard_timer_ == 0) {
    graveyard_timer_ = env_.clock->StartTimer(0, [this] {
      graveyard_timer_ = 0;
      graveyard_.clear();
    });
  }
}

Engine::Connection* Engine::ConnectionOf(const Session& s, Resource** res_out) {
  if (s.resource.empty() || !s.peer) return nullptr;
  Resource* r = nullptr;
  Connection* c = FindConnection(s.resource, *s.peer, &r);
  if (!c || c->session != s.id) return nullptr;
  if (res_out) *res_out = r;
  return c;
}

void Engine::Send(Session& s, const proto::Message& m) {
  if (const auto* st = std::get_if<proto::State>(&m)) {
    if (Connection* c = ConnectionOf(s)) {
      for (const proto::VolumeState& v : st->volumes) {
        if (auto it = c->peer_devices.find(v.volume); it != c->peer_devices.end()) {
          it->second.comm_disk = static_cast<DiskState>(v.disk);
          it->second.comm_uuid_flags = v.uuid_flags;
          it->second.comm_crash_marks = v.crash_marks;
        }
      }
    }
  }
  s.stream->Send(proto::Encode(m));
}

// ---------------------------------------------------------------------------
// Stream events

void Engine::OnSessionData(uint64_t id, std::span<const uint8_t> data) {
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return;
  it->second->decoder.Feed(data);
  while (true) {
    auto sit = sessions_.find(id);
    if (sit == sessions_.end()) return;
    Session& s = *sit->second;
    std::optional<proto::Message> m = s.decoder.Next();
    if (!m) {
      if (s.decoder.error().empty()) return;
      Resource* r = nullptr;
      Connection* c = ConnectionOf(s, &r);
      if (c) {
        Log(fmt::format("{}: protocol error: {}", Prefix(*r, *c), s.decoder.error()));
        if (s.up) {
          ConnectionLost(*r, *c, ConnState::kProtocolError, false, "protocol-error");
          return;
        }
      }
      CloseSession(id);
      return;
    }
    // A waiting receiver reads no further on the data socket
    // (engine_congestion.cc).
    if ((s.rx_wait_pages || s.rx_wait_barrier || !s.rx_held.empty()) && OnDataSocket(*m)) {
      s.rx_held.push_back(std::move(*m));
      continue;
    }
    HandleMessage(s, std::move(*m));
  }
}

void Engine::OnSessionClosed(uint64_t id, sim::NetError err) {
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return;
  Session& s = *it->second;
  Resource* r = nullptr;
  Connection* c = ConnectionOf(s, &r);
  if (c && s.up) {
    if (err == sim::NetError::kClosed) {
      Log(fmt::format("{}: sock was shut down by peer", Prefix(*r, *c)));
      ConnectionLost(*r, *c, ConnState::kBrokenPipe, false, "receive-error");
    } else {
      Log(fmt::format("{}: sock_recvmsg returned {}", Prefix(*r, *c), sim::NetErrorName(err)));
      ConnectionLost(*r, *c, ConnState::kNetworkFailure, false, "receive-error");
    }
    return;
  }
  // A stream that dies during the handshake: stay Connecting and retry.
  CloseSession(id);
}

// ---------------------------------------------------------------------------
// The handshake

void Engine::HandleMessage(Session& s, proto::Message m) {
  Resource* r = nullptr;
  Connection* c = ConnectionOf(s, &r);

  if (auto* h = std::get_if<proto::Hello>(&m)) {
    if (s.hello_got) return CloseSession(s.id);
    if (!s.dialed_by_me) {
      // Like the kernel, bind by the listening address and the peer's node
      // id; resource names may differ between nodes. A name match wins.
      Resource* rr = nullptr;
      Connection* cc = nullptr;
      for (auto& [name, res] : resources_) {
        if (res->node_id != static_cast<int32_t>(h->receiver_node_id)) continue;
        auto it = res->connections.find(h->sender_node_id);
        if (it == res->connections.end() || it->second.cstate != ConnState::kConnecting) continue;
        bool on_path = false;
        for (const Path& p : it->second.paths) on_path = on_path || p.local == s.local;
        if (!on_path) continue;
        if (!rr || name == h->resource) {
          rr = res.get();
          cc = &it->second;
        }
      }
      if (!rr) {
        Log(fmt::format("drbd-simd {}: dropping stream for resource \"{}\" peer-node-id {}",
                        node_name_, h->resource, h->sender_node_id));
        return CloseSession(s.id);
      }
      if (!Bind(s, *rr, *cc)) return;
      r = rr;
      c = cc;
      proto::Hello mine;
      mine.sender_node_id = static_cast<uint32_t>(rr->node_id);
      mine.receiver_node_id = h->sender_node_id;
      mine.resource = rr->name;
      Send(s, mine);
      s.hello_sent = true;
    } else if (!c || h->sender_node_id != c->peer_node_id ||
               static_cast<int32_t>(h->receiver_node_id) != r->node_id) {
      return CloseSession(s.id);
    }
    s.hello_got = true;
    uint16_t agreed = std::min(h->proto_max, proto::kProtoMax);
    if (agreed < std::max(h->proto_min, proto::kProtoMin)) {
      Log(fmt::format("{}: incompatible DRBD dialects: I support {}-{}, peer supports {}-{}",
                      Prefix(*r, *c), proto::kProtoMin, proto::kProtoMax, h->proto_min,
                      h->proto_max));
      return ConnectionLost(*r, *c, ConnState::kDisconnecting, true, "connect");
    }
    Log(fmt::format("{}: Handshake to peer {} successful: Agreed network protocol version {}",
                    Prefix(*r, *c), c->peer_node_id, agreed));
    SendHandshakeAfterHello(s, *r, *c);
    return;
  }
  if (!c || !s.hello_got) return CloseSession(s.id);

  if (auto* ch = std::get_if<proto::AuthChallenge>(&m)) {
    if (!s.auth || s.peer_verified) {
      Log(fmt::format("{}: Unexpected data packet AuthChallenge (0x0010)", Prefix(*r, *c)));
      return ConnectionLost(*r, *c, ConnState::kProtocolError, false, "connect");
    }
    if (ch->challenge == s.my_challenge) {
      Log(fmt::format("{}: Peer presented the same challenge!", Prefix(*r, *c)));
      return ConnectionLost(*r, *c, ConnState::kDisconnecting, true, "connect");
    }
    auto resp =
        proto::Hmac(c->net.Str("cram-hmac-alg"), c->net.Str("shared-secret"), ch->challenge);
    Send(s, proto::AuthResponse{resp.value_or(std::vector<uint8_t>{})});
    return;
  }
  if (auto* ar = std::get_if<proto::AuthResponse>(&m)) {
    if (!s.auth || s.peer_verified) {
      Log(fmt::format("{}: Unexpected data packet AuthResponse (0x0011)", Prefix(*r, *c)));
      return ConnectionLost(*r, *c, ConnState::kProtocolError, false, "connect");
    }
    auto want =
        proto::Hmac(c->net.Str("cram-hmac-alg"), c->net.Str("shared-secret"), s.my_challenge);
    if (!want || *want != ar->response) {
      Log(fmt::format("{}: Authentication of peer failed", Prefix(*r, *c)));
      return ConnectionLost(*r, *c, ConnState::kDisconnecting, true, "connect");
    }
    Log(fmt::format("{}: Peer authenticated using {} bytes HMAC", Prefix(*r, *c), want->size()));
    s.peer_verified = true;
    Send(s, LocalProtocol(*c));
    SendHandshakeState(s, *r, *c);
    return;
  }
  if (auto* p = std::get_if<proto::Protocol>(&m)) {
    if (s.auth && !s.peer_verified) {
      Log(fmt::format("{}: expected AuthChallenge packet, received: ReportProtocol (0x000b)",
                      Prefix(*r, *c)));
      Log(fmt::format("{}: Authentication of peer failed, trying again.", Prefix(*r, *c)));
      return ConnectionLost(*r, *c, ConnState::kNetworkFailure, false, "connect");
    }
    proto::Protocol mine = LocalProtocol(*c);
    const char* bad = nullptr;
    if (p->wire_protocol != mine.wire_protocol)
      bad = "protocol";
    else if (p->after_sb_0p != mine.after_sb_0p)
      bad = "after-sb-0pri";
    else if (p->after_sb_1p != mine.after_sb_1p)
      bad = "after-sb-1pri";
    else if (p->after_sb_2p != mine.after_sb_2p)
      bad = "after-sb-2pri";
    else if (p->discard_my_data && mine.discard_my_data)
      bad = "discard-my-data";
    else if (p->two_primaries != mine.two_primaries)
      bad = "allow-two-primaries";
    else if (p->integrity_alg != mine.integrity_alg)
      bad = "data-integrity-alg";
    if (bad) {
      Log(fmt::format("{}: incompatible {} settings", Prefix(*r, *c), bad));
      return ConnectionLost(*r, *c, ConnState::kDisconnecting, true, "connect");
    }
    s.protocol_got = true;
    return;
  }
  if (auto* st = std::get_if<proto::State>(&m)) {
    if (!s.protocol_got) return ConnectionLost(*r, *c, ConnState::kProtocolError, false, "connect");
    s.peer_state = *st;
    s.state_got = true;
    // The replication state each volume's previous STATE reported
    // (FollowCancelledResync tells a cancel from a STATE sent before the
    // peer's own decision).
    std::map<uint32_t, uint8_t> prev_repl;
    for (const auto& [vol, pd] : c->peer_devices) prev_repl[vol] = pd.peer.repl;
    if (s.up) {
      MaybeTakeNewCurrent(*r, *c, *st);  // engine_peer_ack.cc
      ApplyPeerState(*r, *c, *st, false);
      DetectFinishedResyncs(*r, *c);  // engine_peer_ack.cc
    } else {
      MaybeEstablish(s, *r, *c);
    }
    NoteSourceStability(*r, *c);  // engine_peer_ack.cc
    if (s.up) FollowCancelledResync(*r, *c, *st, prev_repl);
    return;
  }
  if (std::holds_alternative<proto::Ping>(m)) {
    Send(s, proto::PingAck{});
    return;
  }
  if (std::holds_alternative<proto::PingAck>(m)) {
    if (c->ping_timeout_timer) env_.clock->CancelTimer(c->ping_timeout_timer);
    c->ping_timeout_timer = 0;
    // That node is there: no reconciliation for its loss (HandlePeerDagtag).
    for (auto& [p2, c2] : r->connections) c2.pending_dagtags.erase(c->peer_node_id);
    MaybeFinishCheckPeers(*r);
    return;
  }
  if (std::holds_alternative<proto::Disconnect>(m)) {
    return ConnectionLost(*r, *c, ConnState::kTearDown, false, "remote");
  }
  if (s.up && HandleDataMessage(s, *r, *c, m)) return;
  if (auto* pa = std::get_if<proto::PeerAck>(&m)) {
    if (s.up) HandlePeerAck(*r, *c, *pa);
    return;
  }
  if (auto* rd = std::get_if<proto::ResyncDone>(&m)) {
    if (s.up) HandleResyncDone(*r, *c, *rd);
    return;
  }
  if (auto* pis = std::get_if<proto::PeersInSync>(&m)) {
    if (s.up) HandlePeersInSync(*r, *pis);
    return;
  }
  if (auto* pdt = std::get_if<proto::PeerDagtag>(&m)) {
    if (s.up) HandlePeerDagtag(*r, *c, *pdt);
    return;
  }
  if (auto* bm = std::get_if<proto::Bitmap>(&m)) {
    if (s.up && BitmapWanted(*r, *c, bm->volume)) {
      HandleBitmap(*r, *c, *bm);
      if (bm->last) BitmapReceived(*r, *c, bm->volume);
    }
    return;
  }
  if (auto* rs = std::get_if<proto::ResyncStart>(&m)) {
    if (s.up) HandleResyncStart(*r, *c, *rs);
    return;
  }
  if (auto* rc = std::get_if<proto::ResyncCsum>(&m)) {
    if (s.up) HandleResyncCsum(*r, *c, *rc);
    return;
  }
  if (auto* v = std::get_if<proto::Verify>(&m)) {
    if (s.up) HandleVerify(*r, *c, *v);
    return;
  }
  if (auto* rr = std::get_if<proto::ResyncRequest>(&m)) {
    if (s.up) HandleResyncRequest(*r, *c, *rr);
    return;
  }
  if (s.up) {
    HandleTwoPcMessage(*r, *c, m);  // engine_twopc.cc
  } else if (auto* tp = std::get_if<proto::TwoPcPrepare>(&m)) {
    // Not connected on this side yet: no part of the change goes this way.
    Send(s, proto::TwoPcReply{tp->initiator, tp->tid});
  }
}

void Engine::SendHandshakeAfterHello(Session& s, Resource& r, Connection& c) {
  if (s.auth) {
    s.my_challenge.resize(proto::kChallengeBytes);
    for (size_t i = 0; i < s.my_challenge.size(); i += 8) {
      uint64_t v = env_.rng->Next();
      for (size_t j = 0; j < 8 && i + j < s.my_challenge.size(); ++j) {
        s.my_challenge[i + j] = static_cast<uint8_t>(v >> (8 * j));
      }
    }
    Send(s, proto::AuthChallenge{s.my_challenge});
    return;
  }
  Send(s, LocalProtocol(c));
  SendHandshakeState(s, r, c);
}

namespace {
// The UUIDs a STATE carries, folded into one number (FNV-1a over them).
uint64_t UuidDigest(const proto::State& st) {
  uint64_t h = 0xcbf29ce484222325ULL;
  auto mix = [&h](uint64_t v) {
    for (int i = 0; i < 8; ++i) {
      h ^= (v >> (8 * i)) & 0xff;
      h *= 0x100000001b3ULL;
    }
  };
  for (const proto::VolumeState& v : st.volumes) {
    mix(v.volume);
    mix(v.current_uuid);
    for (const auto& [node, uuid] : v.bitmap_uuids) mix((uint64_t{node} << 56) ^ uuid);
    for (uint64_t h2 : v.history_uuids) mix(h2);
  }
  return h;
}
}  // namespace

void Engine::SendHandshakeState(Session& s, Resource& r, Connection& c) {
  proto::State st = LocalState(r, c.peer_node_id);
  s.uuid_lock = true;
  s.sent_uuid_digest = UuidDigest(st);
  s.sent_disks.clear();
  s.sent_marked.clear();
  for (const proto::VolumeState& v : st.volumes) {
    s.sent_disks[v.volume] = v.disk;
    s.sent_marked[v.volume] = v.dirty_bits > 0;
  }
  Send(s, st);
}

bool Engine::UuidLocked(const Resource& r) const {
  for (const auto& [id, s] : sessions_) {
    if (s->uuid_lock && s->resource == r.name) return true;
  }
  return false;
}

void Engine::DropUuidLock(Session& s) {
  if (!std::exchange(s.uuid_lock, false)) return;
  Resource* r = FindResource(s.resource);
  if (r) ScheduleUuidWaiters(*r);
}

void Engine::ScheduleUuidWaiters(Resource& r) {
  if (UuidLocked(r) || r.checking_peers || uuid_waiters_timer_ != 0) return;
  bool waiting = !r.uuid_waiters.empty();
  for (const auto& [vol, d] : r.devices) waiting = waiting || d.rotate_after_handshake;
  if (!waiting) return;
  // Not from inside the state change that dropped it: on a later event.
  uuid_waiters_timer_ = env_.clock->StartTimer(0, [this] {
    uuid_waiters_timer_ = 0;
    RunUuidWaiters();
  });
}

void Engine::RunUuidWaiters() {
  for (auto& [name, r] : resources_) {
    if (UuidLocked(*r) || r->checking_peers) continue;
    for (auto& [vol, d] : r->devices) {
      if (std::exchange(d.rotate_after_handshake, false)) RotateUuidForAbsentPeers(*r, d);
    }
    std::vector<std::function<void()>> waiting;
    waiting.swap(r->uuid_waiters);
    for (auto& fn : waiting) fn();
  }
}

proto::Protocol Engine::LocalProtocol(const Connection& c) const {
  proto::Protocol p;
  p.wire_protocol = static_cast<uint8_t>(c.net.Int("protocol"));
  p.after_sb_0p = static_cast<uint8_t>(c.net.Int("after-sb-0pri"));
  p.after_sb_1p = static_cast<uint8_t>(c.net.Int("after-sb-1pri"));
  p.after_sb_2p = static_cast<uint8_t>(c.net.Int("after-sb-2pri"));
  p.two_primaries = c.net.Bool("allow-two-primaries");
  p.discard_my_data = c.discard_my_data;
  p.integrity_alg = c.net.Str("data-integrity-alg");
  return p;
}

proto::State Engine::LocalState(const Resource& r, uint32_t peer) const {
  const Connection* c = r.connections.count(peer) ? &r.connections.at(peer) : nullptr;
  proto::State st;
  st.role = static_cast<uint8_t>(r.role);
  for (const auto& [vol, d] : r.devices) {
    proto::VolumeState v;
    v.volume = vol;
    v.disk = static_cast<uint8_t>(d.disk);
    v.client = d.intentional_diskless && d.disk == DiskState::kDiskless;
    v.quorum = d.have_quorum;
    if (c && c->peer_devices.count(vol)) {
      v.peer_disk = static_cast<uint8_t>(c->peer_devices.at(vol).peer_disk);
    }
    // Without a disk, the data this node exposes (drbd_send_uuids sends
    // the exposed data UUID as the current one; here a field of its own,
    // so that no receiver takes it for a new current UUID).
    if (!d.data && d.disk < DiskState::kInconsistent) v.exposed_uuid = d.exposed_uuid;
    if (d.data) {
      v.size_sectors = d.size_sectors;
      v.current_uuid = d.sb.current_uuid;
      if (r.role == Role::kPrimary) v.weak_nodes = WeakNodes(r, d);
      // (While Negotiating, the disk the metadata gives: the peer takes it
      // as the "real peer disk state", receive_state.)
      const DiskState own =
          d.disk == DiskState::kNegotiating ? d.neg_disk : d.disk;
      if (own == DiskState::kInconsistent) v.uuid_flags |= kUuidFlagInconsistent;
      if (d.sb.flags & md::kMdfCrashedPrimary) v.uuid_flags |= kUuidFlagCrashedPrimary;
      if (DeviceStable(r)) v.uuid_flags |= kUuidFlagStable;
      if (c && c->was_connected) v.uuid_flags |= kUuidFlagReconnect;
      if (c && c->discard_my_data) v.uuid_flags |= kUuidFlagDiscardMyData;
      if (c && c->peer_devices.count(vol)) {
        const PeerDevice& pd = c->peer_devices.at(vol);
        v.dirty_bits = pd.oos_count;
        v.crash_marks = pd.CrashMarksOnly();
      }
      if (c && c->peer_devices.count(vol) && c->peer_devices.at(vol).ov_marks) {
        v.verify_marks = c->peer_devices.at(vol).ov_source ? 1 : 2;
      }
      if (c && c->peer_devices.count(vol)) {
        const PeerDevice& pd = c->peer_devices.at(vol);
        v.resync_susp = static_cast<uint8_t>((pd.susp_user ? 1 : 0) | (pd.susp_dep ? 2 : 0) |
                                             (pd.susp_other_c ? 4 : 0));
        v.repl = static_cast<uint8_t>(pd.repl);
      }
      if (c && c->peer_devices.count(vol) && c->peer_devices.at(vol).send_skip) {
        v.uuid_flags |= kUuidFlagSkipInitialSync;
      }
      for (int node = 0; node < md::kPeersMax; ++node) {
        if (d.sb.peers[node].bitmap_uuid) {
          v.bitmap_uuids.emplace_back(static_cast<uint8_t>(node), d.sb.peers[node].bitmap_uuid);
        }
      }
      for (uint64_t h : d.sb.history_uuids) {
        if (h) v.history_uuids.push_back(h);
      }
    }
    st.volumes.push_back(std::move(v));
  }
  return st;
}

void Engine::BroadcastState(Resource& r, std::optional<uint32_t> except_peer) {
  for (auto& [peer, c] : r.connections) {
    if (peer == except_peer) continue;
    Session* s = SessionOf(c);
    if (s && s->up) Send(*s, LocalState(r, peer));
  }
}

void Engine::MaybeEstablish(Session& s, Resource& r, Connection& c) {
  if (s.up || !s.protocol_got || !s.state_got || (s.auth && !s.peer_verified)) return;
  // The UUIDs this side decides on must be those its STATE carried, or the
  // two ends decide differently (one waits for a bitmap for ever). The
  // handshake lock keeps writes from changing them; anything else that
  // did (a third node's new current UUID) makes the handshake start over.
  const proto::State now = LocalState(r, c.peer_node_id);
  if (UuidDigest(now) != s.sent_uuid_digest) {
    Log(fmt::format("{}: UUIDs changed during the handshake, connecting again", Prefix(r, c)));
    return ConnectionLost(r, c, ConnState::kNetworkFailure, false, "connect");
  }
  // So must the disk states: no STATE goes to a connection that is not up,
  // so the peer would keep the old one (the kernel's connect is a
  // cluster-wide change that no other change overtakes). A Secondary that
  // a lost-peer commit made UpToDate meanwhile stayed Consistent at the
  // Primary for good (simd_soak --nodes 3 --seed 0xc4119f14).
  for (const proto::VolumeState& v : now.volumes) {
    auto it = s.sent_disks.find(v.volume);
    if (it != s.sent_disks.end() && it->second == v.disk) continue;
    Log(fmt::format("{}: disk states changed during the handshake, connecting again",
                    Prefix(r, c)));
    return ConnectionLost(r, c, ConnState::kNetworkFailure, false, "connect");
  }
  // And whether this side has bits toward the peer: the decision weighs
  // this side's bits as they are now against the peer's as it sent them,
  // and the peer weighs the ones this side sent. A peer ack that marked a
  // first block in between made this end a sync source that the other end
  // never waited for (WFBitMapS for good: simd_soak --nodes 3 --seed
  // 0x5eed0011). The kernel decides on the count it sent (comm_bm_set) on
  // both ends, and its marks stay; here they are resynced.
  for (const proto::VolumeState& v : now.volumes) {
    auto it = s.sent_marked.find(v.volume);
    if (it == s.sent_marked.end() || it->second == (v.dirty_bits > 0)) continue;
    Log(fmt::format("{}: bits toward the peer changed during the handshake, connecting again",
                    Prefix(r, c)));
    return ConnectionLost(r, c, ConnState::kNetworkFailure, false, "connect");
  }
  s.up = true;
  for (sim::ConnectId id : c.dials) env_.net->CancelConnect(id);
  c.dials.clear();
  if (c.connect_timer) env_.clock->CancelTimer(c.connect_timer);
  c.connect_timer = 0;
  for (Path& p : c.paths) {
    if (p.local != s.local) continue;
    p.established = true;
    Emit(PathNote(r, c, p, NotifyType::kChange));
    break;
  }
  ApplyPeerState(r, c, s.peer_state, true);
  if (c.cstate == ConnState::kConnected) SchedulePing(r, c);
  if (c.cstate == ConnState::kConnected) ScheduleKoCheck(r, c);
  DropUuidLock(s);
}

// ---------------------------------------------------------------------------
// Peer state and the UUID comparison

// The node whose bitmap UUID in the peer's STATE is `uuid` (any slot), or
// -1.
int Engine::PeerBitmapFor(const PeerDevice& pd, uint64_t uuid) {
  for (const auto& [node, bm] : pd.peer.bitmap_uuids) {
    if ((bm & ~kUuidPrimaryBit) == uuid) return node;
  }
  return -1;
}

// The node other than ourselves whose bitmap UUID in our metadata is
// `uuid`, or -1.
int Engine::OwnBitmapFor(const Resource& r, const Device& d, uint64_t uuid) {
  for (int node = 0; node < static_cast<int>(d.sb.peers.size()); ++node) {
    if (node == r.node_id) continue;
    if ((d.sb.peers[static_cast<size_t>(node)].bitmap_uuid & ~kUuidPrimaryBit) == uuid) {
      return node;
    }
  }
  return -1;
}

void Engine::BitmapAfterHandshake(Resource& r, Connection& c, Device& d, PeerDevice& pd,
                                  const HandshakeOut& hs, ReplState repl) {
  const std::string prefix = Prefix(r, d, c);
  // bitmap_mod_after_handshake, a full sync toward a fresh node (current
  // UUID just created): every allocated bitmap slot is set, not only the
  // source's (drbd_bmio_set_allocated_n_write), so the blocks stay marked
  // toward the nodes this one has not met yet. Only those here: a
  // connected peer runs its own handshake with the fresh node, and without
  // the kernel's P_PEERS_IN_SYNC nothing would clear the marks toward a
  // peer the source is in sync with (two fresh disks synced from one
  // source stayed marked toward each other).
  if (repl == ReplState::kSyncTarget && !hs.use_bitmap && !hs.send_bitmap && d.data &&
      NormUuid(d.sb.current_uuid) == md::kUuidJustCreated) {
    bool any = false;
    for (auto& [peer, c2] : r.connections) {
      auto pit = c2.peer_devices.find(d.volume);
      if (&c2 == &c || pit == c2.peer_devices.end() || peer >= md::kPeersMax ||
          d.sb.peers[peer].bitmap_index < 0 || c2.cstate == ConnState::kConnected) {
        continue;
      }
      MarkAll(d, pit->second);
      any = true;
    }
    if (any) {
      Log(fmt::format("{}: Setting and writing the whole bitmap, fresh node", prefix));
      MdFlushBitmap(r, d, 0, ~uint64_t{0});
    }
  }
  if (hs.clear_bitmap && repl == ReplState::kSyncTarget) {
    Log(fmt::format("{}: Resync source provides bitmap (node_id={})", prefix, hs.copy_from));
    ClearOutOfSync(r, d, pd);
  } else if (!hs.clear_bitmap && hs.copy_from >= 0 && repl == ReplState::kSyncSource) {
    const PeerDevice* from = nullptr;
    auto cit = r.connections.find(static_cast<uint32_t>(hs.copy_from));
    if (cit != r.connections.end()) {
      auto pit = cit->second.peer_devices.find(d.volume);
      if (pit != cit->second.peer_devices.end()) from = &pit->second;
    }
    const int32_t slot = d.sb.peers[static_cast<size_t>(hs.copy_from)].bitmap_index;
    if (from && slot >= 0) {
      Log(fmt::format("{}: Copying bitmap of peer node_id={} (bitmap_index={})", prefix,
                      hs.copy_from, slot));
      // Added to the bits already kept toward the peer, where the kernel
      // replaces them (drbd_bm_copy_slot). Those are this node's changes
      // since an older UUID of the peer's, so they hold the copied ones but
      // for blocks the third node took from here since its bitmap UUID (by
      // a resync that broke off, or writes it got as SyncTarget), which
      // the peer on that UUID lacks (detsim --nodes=3
      // --seed=0x88eb825a236d7c0e: a node fully synced from the third node
      // before the Primary's partial resync to it became UpToDate without
      // the blocks that resync moved). Beyond the kernel: docs/compat.md.
      OrOutOfSync(pd.oos_bits, pd.oos_count, from->oos_bits);
    } else {
      Log(fmt::format("{}: Setting all bitmap bits, day0 bm not available node_id={}", prefix,
                      hs.copy_from));
      MarkAll(d, pd);
    }
    if (d.data) MdFlushBitmap(r, d, 0, ~uint64_t{0});
  }
}

// drbd_uuid_detect_finished_resyncs, while the connection is being made
// and both current UUIDs are equal (neither side a SyncTarget): our bitmap
// UUID toward the peer is set and the peer keeps none toward us, and ours is
// not the peer's current UUID: we were SyncSource and missed the end of the
// run ("Missed end of resync as sync-source"); with no bit set on either
// side the stale bitmap UUID is simply retired. The mirror image: the peer
// missed the end ("Peer missed end of resync").
Engine::Missed Engine::MissedEndOfResync(Resource& r, Connection& c, Device& d,
                                         const PeerDevice& pd, uint64_t my_bm, uint64_t peer_bm) {
  if (d.disk == DiskState::kInconsistent ||
      pd.peer.disk == static_cast<uint8_t>(DiskState::kInconsistent)) {
    return Missed::kNone;
  }
  const uint64_t peer_current = pd.peer.current_uuid & ~kUuidPrimaryBit;
  const std::string prefix = Prefix(r, d, c);
  const bool no_bits = pd.oos_count == 0 && pd.peer.dirty_bits == 0;
  if (peer_bm != 0 && my_bm == 0 && peer_bm != peer_current) {
    if (no_bits) {
      Log(fmt::format("{}: Peer missed end of resync, 0 to sync", prefix));
      return Missed::kNone;
    }
    Log(fmt::format("{}: Peer missed end of resync", prefix));
    return Missed::kPeerMissedEnd;
  }
  if (peer_bm == 0 && my_bm != 0 && my_bm != peer_current) {
    if (no_bits) {
      Log(fmt::format("{}: Missed end of resync as sync-source, no bits to sync", prefix));
      RetireBitmapUuid(r, d, c.peer_node_id);
      return Missed::kNone;
    }
    Log(fmt::format("{}: Missed end of resync as sync-source", prefix));
    return Missed::kSourceMissedEnd;
  }
  return Missed::kNone;
}

ReplState Engine::DecideRepl(Resource& r, Connection& c, Device& d, PeerDevice& pd, Role peer_role,
                             ResState& n, HandshakeOut* hs) {
  DiskState peer_disk = static_cast<DiskState>(pd.peer.disk);
  if (!d.data || d.disk < DiskState::kInconsistent || peer_disk < DiskState::kInconsistent ||
      peer_disk == DiskState::kDUnknown) {
    return ReplState::kEstablished;
  }
  uint64_t self = NormUuid(d.sb.current_uuid);
  uint64_t peer = NormUuid(pd.peer.current_uuid);
  uint64_t my_bm = d.sb.peers[c.peer_node_id].bitmap_uuid & ~kUuidPrimaryBit;
  uint64_t peer_bm = 0;
  for (const auto& [node, uuid] : pd.peer.bitmap_uuids) {
    if (node == r.node_id) peer_bm = uuid & ~kUuidPrimaryBit;
  }
  std::vector<uint64_t> my_hist, peer_hist;
  for (uint64_t h : d.sb.history_uuids) my_hist.push_back(h & ~kUuidPrimaryBit);
  for (uint64_t h : pd.peer.history_uuids) peer_hist.push_back(h & ~kUuidPrimaryBit);

  const char* strategy = "no-sync";
  const char* rule = "";
  ReplState out = ReplState::kEstablished;
  bool split_brain = false, unrelated = false, missed_end_primary = false;
  Missed missed = Missed::kNone;
  if (self == md::kUuidJustCreated && peer == md::kUuidJustCreated) {
    rule = "just-created-both";
  } else if (self == md::kUuidJustCreated) {
    strategy = "target-set-bitmap", rule = "just-created-self", out = ReplState::kSyncTarget;
  } else if (peer == md::kUuidJustCreated) {
    strategy = "source-set-bitmap", rule = "just-created-peer", out = ReplState::kSyncSource;
  } else if (self == peer && pd.repl == ReplState::kOff &&
             (missed = MissedEndOfResync(r, c, d, pd, my_bm, peer_bm)) != Missed::kNone) {
    // A resync ended on one side only: the source crashed before it heard
    // that its target finished (its bitmap UUID toward the peer outlived the
    // run), so the source's bits are still to be synced. Only when the
    // connection comes up: drbd_uuid_detect_finished_resyncs sets
    // RS_PEER_MISSED_END / RS_SOURCE_MISSED_END at L_OFF only, not in the
    // handshake a live connection runs again (detsim --nodes=3
    // --seed=0xb3617b70ac9e918f).
    if (missed == Missed::kSourceMissedEnd) {
      strategy = "source-use-bitmap", rule = "sync-source-missed-finish";
      out = ReplState::kSyncSource;
    } else {
      strategy = "target-use-bitmap", rule = "sync-target-peer-missed-finish";
      out = ReplState::kSyncTarget;
    }
    // Not in the kernel (docs/compat.md): the target of that run is Primary
    // now. It holds the source's data as of the run's end and has written
    // since, so the run is not repeated toward it (9.2.18: "I shall become
    // SyncTarget, but I am primary!", StandAlone for good): it is the
    // source over both sides' bits (detsim --nodes=2
    // --seed=0x5694d913deb212ca).
    const bool target_primary =
        out == ReplState::kSyncTarget ? r.role == Role::kPrimary : peer_role == Role::kPrimary;
    if (target_primary) {
      strategy = out == ReplState::kSyncTarget ? "source-use-bitmap" : "target-use-bitmap";
      out = out == ReplState::kSyncTarget ? ReplState::kSyncSource : ReplState::kSyncTarget;
      missed_end_primary = true;
    }
  } else if (self == peer) {
    // The kernel's order for equal current UUIDs (drbd_uuid_compare):
    // both sides lost this connection before (RECONNECT on both) → nothing
    // to do; with protocol A or B a crashed Primary pushes its AL area;
    // a crashed Primary meeting the node that survived it (RECONNECT there)
    // → resync from the survivor "if both failed", i.e. following whoever
    // is Primary now (rule lost-quorum, as the kernel names it); one side
    // saw the other before → nothing; else a common power failure: the
    // crashed Primary is source (both crashed: the conflict resolver's
    // peer).
    const bool me_crashed = (d.sb.flags & md::kMdfCrashedPrimary) != 0;
    const bool peer_crashed = (pd.peer.uuid_flags & kUuidFlagCrashedPrimary) != 0;
    const bool me_reconnect = c.was_connected;
    const bool peer_reconnect = (pd.peer.uuid_flags & kUuidFlagReconnect) != 0;
    constexpr int64_t kProtocolA = 1, kProtocolB = 2;
    const int64_t protocol = c.net.Int("protocol");
    int if_both_failed = 0;  // +1 source, -1 target
    if (me_reconnect && peer_reconnect) {
      rule = "reconnected";
    } else if ((protocol == kProtocolA || protocol == kProtocolB) && me_crashed != peer_crashed) {
      rule = "crashed-primary";
      if (me_crashed) {
        strategy = "source-use-bitmap", out = ReplState::kSyncSource;
      } else {
        strategy = "target-use-bitmap", out = ReplState::kSyncTarget;
      }
    } else if (peer_crashed && me_reconnect) {
      rule = "lost-quorum", if_both_failed = 1;
    } else if (me_crashed && peer_reconnect) {
      rule = "lost-quorum", if_both_failed = -1;
    } else if (me_reconnect || peer_reconnect) {
      rule = "lost-quorum";
    } else {
      rule = "both-off";
      if (me_crashed) {
        if_both_failed = peer_crashed && HoldsResolveConflicts(r.node_id, c.peer_node_id) ? -1 : 1;
      } else if (peer_crashed) {
        if_both_failed = -1;
      }
    }
    if (if_both_failed != 0) {
      strategy = if_both_failed > 0 ? "source-if-both-failed" : "target-if-both-failed";
      if (r.role == Role::kPrimary || peer_role == Role::kPrimary) {
        // Follow the Primary.
        out = peer_role == Role::kSecondary ? ReplState::kSyncSource
              : r.role == Role::kSecondary  ? ReplState::kSyncTarget
                                            : ReplState::kEstablished;
      } else {
        out = if_both_failed > 0 ? ReplState::kSyncSource : ReplState::kSyncTarget;
      }
    }
  } else if (self == peer_bm) {
    strategy = "target-use-bitmap", rule = "bitmap-peer", out = ReplState::kSyncTarget;
  } else if (int other = PeerBitmapFor(pd, self); other >= 0) {
    // The peer keeps a bitmap toward a third node that holds our data:
    // it supplies the bitmap (drbd_find_peer_bitmap_by_uuid).
    strategy = "target-clear-bitmap", rule = "bitmap-peer-other", out = ReplState::kSyncTarget;
    hs->clear_bitmap = true;
    hs->copy_from = other;
  } else if (my_bm != 0 && my_bm == peer) {
    strategy = "source-use-bitmap", rule = "bitmap-self", out = ReplState::kSyncSource;
  } else if (int other = OwnBitmapFor(r, d, peer); other >= 0) {
    // Our bitmap toward a third node started at the peer's data: it is
    // what the peer lacks (drbd_find_bitmap_by_uuid).
    strategy = "source-copy-other-bitmap", rule = "bitmap-self-other", out = ReplState::kSyncSource;
    hs->copy_from = other;
  } else if (Contains(peer_hist, self) && !Contains(my_hist, peer)) {
    strategy = "target-set-bitmap", rule = "history-peer", out = ReplState::kSyncTarget;
  } else if (Contains(my_hist, peer) && !Contains(peer_hist, self)) {
    strategy = "source-set-bitmap", rule = "history-self", out = ReplState::kSyncSource;
  } else if (my_bm != 0 && my_bm == peer_bm) {
    strategy = "split-brain-auto-recover", rule = "bitmap-both", split_brain = true;
  } else {
    bool common = false;
    for (uint64_t h : my_hist) common = common || Contains(peer_hist, h);
    if (common) {
      strategy = "split-brain-disconnect", rule = "history-both", split_brain = true;
    } else {
      strategy = "unrelated-data", rule = "", unrelated = true;
    }
  }
  const bool if_failed = std::string_view(strategy).ends_with("-if-both-failed");
  hs->use_bitmap = std::string_view(strategy) == "source-use-bitmap" ||
                   std::string_view(strategy) == "source-copy-other-bitmap" ||
                   (if_failed && out == ReplState::kSyncSource);
  hs->send_bitmap = std::string_view(strategy) == "target-use-bitmap" ||
                    (if_failed && out == ReplState::kSyncTarget);
  std::string prefix = Prefix(r, d, c);
  Log(fmt::format("{}: drbd_sync_handshake:", prefix));
  uint64_t my_flags = 0;
  for (const proto::VolumeState& v : LocalState(r, c.peer_node_id).volumes) {
    if (v.volume == d.volume) my_flags = v.uuid_flags;
  }
  Log(fmt::format("{}: self {:016X}:{:016X}:{:016X}:{:016X} bits:{} flags:{:X}", prefix,
                  d.sb.current_uuid, d.sb.peers[c.peer_node_id].bitmap_uuid, d.sb.history_uuids[0],
                  d.sb.history_uuids[1], pd.oos_count, my_flags));
  uint64_t peer_bm_raw = 0;
  for (const auto& [node, uuid] : pd.peer.bitmap_uuids) {
    if (node == r.node_id) peer_bm_raw = uuid;
  }
  Log(fmt::format("{}: peer {:016X}:{:016X}:{:016X}:{:016X} bits:{} flags:{:X}", prefix,
                  pd.peer.current_uuid, peer_bm_raw,
                  !pd.peer.history_uuids.empty() ? pd.peer.history_uuids[0] : 0,
                  pd.peer.history_uuids.size() > 1 ? pd.peer.history_uuids[1] : 0,
                  pd.peer.dirty_bits, pd.peer.uuid_flags));
  Log(fmt::format("{}: uuid_compare()={} by rule={}", prefix, strategy, rule));
  if (missed_end_primary) {
    Log(fmt::format("{}: the target of the unfinished resync is Primary now: it is the source",
                    prefix));
  }
  if (unrelated) {
    Log(fmt::format("{}: Unrelated data, aborting!", prefix));
    hs->drop = true;
    return ReplState::kOff;
  }
  // The disk states below are this node's as the peer last heard it
  // (comm_state.disk; while Negotiating, the metadata's), so both ends
  // weigh the same pair: a disk Outdated a moment ago by another peer's
  // handshake (WFBitMapT there) still counts as the UpToDate it sent here
  // (detsim --nodes=3 --seed=0xb3617b70ac9e918f: one end chose a bitmap
  // resync, the other none, and the first waited in WFBitMapT for good).
  DiskState my_disk =
      pd.comm_disk == DiskState::kNegotiating ? d.neg_disk : pd.comm_disk;
  if (my_disk < DiskState::kInconsistent || my_disk == DiskState::kDUnknown) my_disk = d.disk;
  // disk_states_to_strategy: where the UUIDs left the direction open
  // (equal current UUIDs decided by crashed-Primary or lost-quorum flags)
  // or found nothing to do beside an Inconsistent disk, differing disk
  // states decide: the better disk is the source. A crashed Primary whose
  // disk came back Inconsistent never overwrites an UpToDate peer.
  if (!split_brain && my_disk != peer_disk && my_disk >= DiskState::kInconsistent &&
      peer_disk >= DiskState::kInconsistent && peer_disk != DiskState::kDUnknown) {
    const std::string_view rv = rule;
    const bool either_inconsistent =
        my_disk == DiskState::kInconsistent || peer_disk == DiskState::kInconsistent;
    const bool arbitrary =
        if_failed && (rv == "reconnected" || rv == "lost-quorum" || rv == "both-off");
    if (arbitrary || (out == ReplState::kEstablished && either_inconsistent &&
                      std::string_view(strategy) == "no-sync")) {
      // A full sync (the kernel's choice when the target's bitmap cannot be
      // matched to the source's; always safe).
      const bool prefer_local = my_disk > peer_disk;
      out = prefer_local ? ReplState::kSyncSource : ReplState::kSyncTarget;
      hs->use_bitmap = false;
      hs->send_bitmap = false;
      Log(fmt::format("{}: strategy = {} due to disk states. ({}/{})", prefix,
                      prefer_local ? "source-set-bitmap" : "target-set-bitmap",
                      events::ToString(my_disk), events::ToString(peer_disk)));
    }
  }
  // Not in the kernel (docs/compat.md): the rules that take a third node's
  // bitmap (bitmap-peer-other, bitmap-self-other) assume the target holds
  // the data of its current UUID. An Inconsistent target does not: one that
  // took a source's UUID at the start of a full sync it has not done yet
  // would have its own bits cleared and only the third node's copied
  // (detsim --nodes=3 --seed=0xad5254d3cae388f0: a replaced disk became
  // UpToDate with most blocks never written). It takes a full sync instead.
  if (!split_brain && ((std::string_view(strategy) == "target-clear-bitmap" &&
                        my_disk == DiskState::kInconsistent) ||
                       (std::string_view(strategy) == "source-copy-other-bitmap" &&
                        peer_disk == DiskState::kInconsistent))) {
    hs->use_bitmap = false;
    hs->send_bitmap = false;
    hs->clear_bitmap = false;
    hs->copy_from = -1;
    Log(fmt::format("{}: strategy = {} due to disk states. ({}/{})", prefix,
                    out == ReplState::kSyncSource ? "source-set-bitmap" : "target-set-bitmap",
                    events::ToString(my_disk), events::ToString(peer_disk)));
  }
  // Not in the kernel (docs/compat.md): equal current UUIDs and "no-sync"
  // beside blocks marked out of sync resync those blocks, where it is clear
  // which side has them: from the better disk (an Outdated SyncTarget that
  // crashed before its Inconsistent state was on disk, back beside its
  // source), or, both UpToDate, from the only side that marked any (a
  // crashed Primary's activity log beside a peer whose WFBitMapT state was
  // lost in its own crash). 9.2.18 connects without a resync and keeps the
  // bits, so one side claims data it lacks (detsim seed 0x826fe5a4086d52e8).
  // Both ends see the same disks and bit counts: they pick opposite ends.
  // Never toward a node that replicates from a Primary (UUID_FLAG_STABLE
  // clear) from a stable one: the stable side is then a Secondary back
  // from a crash the Primary had not noticed, whose bits are its own stale
  // writes; 9.2.18's no-sync keeps the current side's data (detsim
  // --nodes=3 --seed=0xa93258ef7777682c).
  // A Consistent disk beside an UpToDate one counts as UpToDate here: a
  // node that just lost its Primary is Consistent for a moment (the
  // AFTER_UNSTABLE re-handshake sees it so), and its marks toward a peer
  // that was cut off from the Primary are the writes that peer lacks, not
  // a reason to overwrite them from it (detsim --nodes=3
  // --seed=0xb9d3087ca30dd21d). Two Consistent disks stay as they were.
  const bool one_consistent = (my_disk == DiskState::kConsistent) !=
                              (peer_disk == DiskState::kConsistent);
  const auto up = [one_consistent](DiskState s) {
    return one_consistent && s == DiskState::kConsistent ? DiskState::kUpToDate : s;
  };
  const DiskState my_rank = up(my_disk), peer_rank = up(peer_disk);
  const bool both_up = my_rank == DiskState::kUpToDate && peer_rank == DiskState::kUpToDate;
  const bool one_marked = (pd.oos_count > 0) != (pd.peer.dirty_bits > 0);
  // Bits on both sides (activity logs applied after crashes on both): the
  // run covers the union from the side nearer a Primary: the Primary
  // itself, whose data is the one its users see, else the side that
  // replicates from one (UUID_FLAG_STABLE clear) over one that does not.
  // The other side's marks are blocks that Primary wrote. 9.2.18 keeps
  // the bits, and the data may differ for good. Between two sides equally
  // near they stay.
  const bool both_marked = pd.oos_count > 0 && pd.peer.dirty_bits > 0;
  // (This side's stability as the peer heard it, so both ends weigh the
  // same pair.)
  const bool me_stable = pd.comm_disk != DiskState::kDUnknown
                             ? (pd.comm_uuid_flags & kUuidFlagStable) != 0
                             : DeviceStable(r);
  const bool peer_stable = (pd.peer.uuid_flags & kUuidFlagStable) != 0;
  const int near_here = r.role == Role::kPrimary ? 2 : me_stable ? 0 : 1;
  const int near_there = peer_role == Role::kPrimary ? 2 : peer_stable ? 0 : 1;
  // With bits on one side only, beside a Primary the same: a Primary is
  // never made the target of its peer's marks (quorum-failover-reconnect:
  // "I shall become SyncTarget, but I am primary!" for good).
  const bool any_marked = pd.oos_count > 0 || pd.peer.dirty_bits > 0;
  // Bits on both sides between two Secondaries where one side's are only
  // what its activity log added after a crash (crash_marks): the other
  // side's are writes the crashed one missed (peer acks, writes while it
  // was away), so that side is the source over both (drbd-simd's own;
  // detsim --nodes=3 --seed=0xcbf8613e7e0e015f: the crashed side, just
  // reconnected to the Primary and so "nearer", overwrote them).
  const bool my_crash =
      pd.comm_disk != DiskState::kDUnknown ? pd.comm_crash_marks : pd.CrashMarksOnly();
  const bool by_crash =
      both_marked && my_crash != pd.peer.crash_marks && near_here != 2 && near_there != 2;
  const bool by_nearness = !by_crash && near_here != near_there && any_marked &&
                           (both_marked || near_here == 2 || near_there == 2);
  const bool prefer_local = my_rank != peer_rank ? my_rank > peer_rank
                            : by_crash           ? !my_crash
                            : by_nearness        ? near_here > near_there
                                                 : pd.oos_count > 0;
  const bool stale_source = !by_nearness && !by_crash &&
                            (prefer_local ? me_stable && !peer_stable : peer_stable && !me_stable);
  if (!split_brain && out == ReplState::kEstablished && std::string_view(strategy) == "no-sync" &&
      my_disk >= DiskState::kOutdated && peer_disk >= DiskState::kOutdated &&
      peer_disk != DiskState::kDUnknown &&
      (my_rank != peer_rank ? any_marked : both_up && (one_marked || by_nearness || by_crash)) &&
      !stale_source && !pd.ov_marks &&
      pd.peer.verify_marks == 0) {  // verify's marks: VerifyRepairRepl
    out = prefer_local ? ReplState::kSyncSource : ReplState::kSyncTarget;
    hs->use_bitmap = prefer_local;
    hs->send_bitmap = !prefer_local;
    Log(fmt::format("{}: strategy = {} due to bits in bitmap. ({}/{})", prefix,
                    prefer_local ? "source-use-bitmap" : "target-use-bitmap",
                    events::ToString(my_disk), events::ToString(peer_disk)));
  }
  // drbd_sync_handshake: a missed end of a resync only repeats it from an
  // UpToDate source; otherwise the target retires its bitmap UUID.
  if (missed == Missed::kSourceMissedEnd && my_disk != DiskState::kUpToDate) {
    Log(fmt::format("{}: Resync (rule={}) skipped: sync-source ({})", prefix, rule,
                    events::ToString(my_disk)));
    out = ReplState::kEstablished;
    hs->use_bitmap = false;
  } else if (missed == Missed::kPeerMissedEnd && peer_disk != DiskState::kUpToDate) {
    RetireBitmapUuid(r, d, c.peer_node_id);
    Log(fmt::format("{}: Resync (rule={}) skipped: peer sync-source ({})", prefix, rule,
                    events::ToString(peer_disk)));
    out = ReplState::kEstablished;
    hs->send_bitmap = false;
  } else if (missed != Missed::kNone &&
             (missed == Missed::kSourceMissedEnd ? me_stable && !peer_stable
                                                 : peer_stable && !me_stable)) {
    // Not in the kernel (docs/compat.md): the missed end is not repeated
    // from a stable node toward one that replicates from a Primary. The
    // stable side is then a Secondary back from a crash its Primary has not
    // noticed yet (a restart faster than ping-int + ping-timeout): the
    // blocks it marked toward the peer are where its own data may be stale,
    // while the peer holds the Primary's. 9.2.18 resyncs them from the
    // stable side and overwrites writes the Primary acknowledges a moment
    // later (detsim --nodes=3 --seed=0xaddae981b35bc343). The run goes the
    // other way over the same bits, and the bitmap UUID it outlived
    // retires on the side that held it.
    const bool source = missed == Missed::kPeerMissedEnd;
    if (!source) RetireBitmapUuid(r, d, c.peer_node_id);
    out = source ? ReplState::kSyncSource : ReplState::kSyncTarget;
    hs->use_bitmap = source;
    hs->send_bitmap = !source;
    Log(fmt::format("{}: Resync (rule={}) reversed: {} replicates from a Primary", prefix, rule,
                    source ? "this node" : "the peer"));
  }
  if (split_brain) {
    out = ResolveSplitBrain(r, c, d, pd, peer_role, n, std::string_view(rule) == "bitmap-both", hs);
    if (hs->drop) return ReplState::kOff;
    return CheckDecidedRepl(r, c, d, pd, n, out, false, hs);
  }
  // Not in the kernel (docs/compat.md): a Primary whose disk is still
  // Inconsistent and that made a new data generation without it (an
  // exposed data UUID, drbd_uuid_new_current's branch for a device below
  // UpToDate) takes no resync from a peer that was away then (weak) and
  // is on other data: that peer missed the writes the new generation
  // stands for. 9.2.18 checks the exposed UUID against a joining peer
  // only when diskless; with an Inconsistent disk it resyncs from the
  // stale peer (detsim --nodes=3 --seed=0xa6f1cdeb133b839a). The
  // connection is tried again later. A peer that was connected at the
  // bump and lost it on the way held all the data then (--nodes=2
  // --seed=0x70).
  if (out == ReplState::kSyncTarget && r.role == Role::kPrimary && d.exposed_uuid != 0 &&
      my_disk == DiskState::kInconsistent && peer != d.exposed_uuid &&
      d.own_exposed == d.exposed_uuid && (d.own_exposed_weak & NodeBit(c.peer_node_id)) != 0) {
    Log(fmt::format("{}: Current UUID of peer does not match my exposed UUID.", prefix));
    hs->retry = true;
    return ReplState::kOff;
  }
  return CheckDecidedRepl(r, c, d, pd, n, out, std::string_view(rule) == "crashed-primary", hs);
}

void Engine::ApplyPeerState(Resource& r, Connection& c, const proto::State& st, bool initial) {
  if (!initial) FollowPeerRepl(r, c, st);  // Ahead / Behind (engine_congestion.cc)
  ResState n = Capture(r);
  ResState::Conn& nc = n.conns.at(c.peer_node_id);
  if (initial) nc.cstate = ConnState::kConnected;
  nc.peer_role = static_cast<Role>(st.role);
  if (nc.peer_role == Role::kPrimary) {
    // finish_state_change: MDF_PRIMARY_IND beside a Primary too, before
    // its writes can land here, so that a crash applies the activity log
    // they went through. It stays until a clean detach or down (the kernel
    // drops it once nothing is in flight and no Primary is left; keeping
    // it costs a resync of the log's extents after a crash, no more).
    for (auto& [vol, d] : r.devices) {
      if (!d.data || (d.sb.flags & md::kMdfPrimaryInd)) continue;
      d.sb.flags |= md::kMdfPrimaryInd;
      WriteMetadata(d);
    }
  }
  bool drop = false, retry = false;
  bool answer_attach = false;  // a peer's attach negotiates: send it our STATE
  bool answer_resync = false;  // UUID_FLAG_RESYNC to send (receive_uuids110)
  for (const proto::VolumeState& vs_in : st.volumes) {
    auto pit = c.peer_devices.find(vs_in.volume);
    if (pit == c.peer_devices.end()) continue;
    PeerDevice& pd = pit->second;
    Device& d = r.devices.at(vs_in.volume);
    ResState::Pd& npd = nc.pd.at(vs_in.volume);
    // receive_state: a peer whose attach negotiates (D_NEGOTIATING) is taken
    // as Inconsistent or Consistent by its UUID flags ("real peer disk
    // state"), and this side runs the sync handshake for the new disk
    // (drbd_attach_handshake); the attaching side follows the decision.
    proto::VolumeState vs = vs_in;
    const DiskState old_pdsk = npd.peer_disk;
    const bool was_off = npd.repl == ReplState::kOff;
    const bool peer_negotiating = vs.disk == static_cast<uint8_t>(DiskState::kNegotiating);
    if (peer_negotiating) {
      const DiskState real = (vs.uuid_flags & kUuidFlagInconsistent) ? DiskState::kInconsistent
                                                                     : DiskState::kConsistent;
      vs.disk = static_cast<uint8_t>(real);
      Log(fmt::format("{}: real peer disk state = {}", Prefix(r, d, c), events::ToString(real)));
      answer_attach = true;
    }
    bool first = !pd.have_peer || npd.repl == ReplState::kOff ||
                 (pd.peer.disk < static_cast<uint8_t>(DiskState::kInconsistent) &&
                  vs.disk >= static_cast<uint8_t>(DiskState::kInconsistent)) ||
                 (peer_negotiating && pd.peer_disk < DiskState::kInconsistent);
    // receive_uuids110: a peer that became stable offers a resync
    // (UUID_FLAG_GOT_STABLE, AfterUnstable in engine_twopc.cc); a stable
    // node answers UUID_FLAG_RESYNC and both run the sync handshake again
    // (drbd_resync AFTER_UNSTABLE). A weak node gets the writes it missed
    // that way.
    const bool got_stable = (vs.uuid_flags & kUuidFlagGotStable) && DeviceStable(r);
    const bool after_unstable = !initial && !first && npd.repl == ReplState::kEstablished &&
                                d.data && (got_stable || (vs.uuid_flags & kUuidFlagResync));
    answer_resync = answer_resync || (after_unstable && got_stable);
    first = first || after_unstable;
    if (initial) pd.degr_wfc = false;
    // A connected peer that grew (resize there) lets this side follow.
    if (!initial && !first && d.data && vs.size_sectors > d.size_sectors &&
        vs.size_sectors > pd.peer.size_sectors) {
      FollowPeerSize(r, d, vs.size_sectors);
    }
    pd.peer = vs;
    pd.have_peer = true;
    if (vs.disk >= static_cast<uint8_t>(DiskState::kInconsistent)) pd.peer_disk_seen = true;
    // The data a diskless node exposes (the kernel's exposed data UUID),
    // taken from an UpToDate peer. A diskless node that already exposes
    // other data checks a connecting peer (receive_state,
    // diskless_with_peers_different_current_uuids): the peer's data grew
    // from ours (our exposed UUID among its bitmap UUIDs or history,
    // peer_data_is_successor_of_mine): a Secondary follows it, a Primary
    // connects again later; the peer's data is older (another peer keeps a
    // bitmap UUID of it, or its own history names it,
    // peer_data_is_ancestor_of_mine): its disk counts as Outdated here;
    // otherwise the connection is refused. On a live connection only a
    // Secondary follows the peer's data (__receive_uuids).
    bool outdate_peer = false;
    if (d.disk < DiskState::kInconsistent &&
        vs.disk == static_cast<uint8_t>(DiskState::kUpToDate) && vs.current_uuid &&
        d.exposed_uuid != NormUuid(vs.current_uuid)) {
      const bool connecting = npd.repl == ReplState::kOff;
      const uint64_t peer_current = NormUuid(vs.current_uuid);
      auto in_history = [&vs](uint64_t uuid) {
        for (uint64_t h : vs.history_uuids) {
          if (NormUuid(h) == uuid) return true;
        }
        return false;
      };
      bool adopt = true;
      if (d.exposed_uuid != 0 && connecting && d.disk == DiskState::kDiskless) {
        const std::string prefix = Prefix(r, d, c);
        if (PeerBitmapFor(pd, d.exposed_uuid) >= 0 || in_history(d.exposed_uuid)) {
          if (r.role == Role::kPrimary) {
            Log(fmt::format("{}: Remote node has more recent data", prefix));
            adopt = false;
            retry = true;
          }
        } else {
          bool ancestor = in_history(peer_current);
          for (const auto& [p2, c2] : r.connections) {
            auto it2 = c2.peer_devices.find(d.volume);
            if (p2 != c.peer_node_id && it2 != c2.peer_devices.end() &&
                PeerBitmapFor(it2->second, peer_current) >= 0) {
              ancestor = true;
            }
          }
          adopt = false;
          if (ancestor) {
            Log(fmt::format("{}: Downgrading joining peer's disk as its data is older", prefix));
            outdate_peer = true;
          } else {
            Log(fmt::format("{}: Current UUID of peer does not match my exposed UUID.", prefix));
            drop = true;
          }
        }
      } else if (d.exposed_uuid != 0 && r.role == Role::kPrimary) {
        // A Primary keeps the data it exposes: on a live connection
        // (__receive_uuids takes the peer's only on a Secondary), and while
        // a replaced disk negotiates (receive_state checks a connecting
        // peer only without a disk; a stale peer would otherwise become
        // the exposed data and the new disk's sync source, detsim
        // --nodes=3 --seed=0x1cff0ca17e43916f).
        adopt = false;
      }
      if (adopt) {
        d.exposed_uuid = peer_current;
        Log(fmt::format("{}: receiver updated UUIDs to exposed data uuid: {:016X}",
                        Prefix(r, d, c), d.exposed_uuid));
      }
    }
    npd.peer_disk = static_cast<DiskState>(vs.disk);
    if (outdate_peer && npd.peer_disk > DiskState::kOutdated) npd.peer_disk = DiskState::kOutdated;
    // sanitize_state, "Do not trust this guy!": without a disk, a peer that
    // becomes UpToDate on other data than this node exposes counts as
    // Consistent; __receive_uuids takes it as UpToDate once it is on the
    // exposed UUID ("Peer is on same UUID now").
    if (d.disk == DiskState::kDiskless && d.exposed_uuid != 0 && !outdate_peer &&
        npd.peer_disk == DiskState::kUpToDate && vs.current_uuid != 0) {
      if (NormUuid(vs.current_uuid) != d.exposed_uuid) {
        if (old_pdsk != DiskState::kUpToDate) npd.peer_disk = DiskState::kConsistent;
      } else if (old_pdsk == DiskState::kConsistent && !was_off) {
        Log(fmt::format("{}: Peer is on same UUID now", Prefix(r, d, c)));
      }
    }
    npd.peer_client = vs.client;
    npd.susp_peer = vs.resync_susp != 0;  // peer_isp
    if (d.disk == DiskState::kNegotiating && d.data) {
      retry = FollowNegotiation(r, c, d, pd, vs, initial, n) || retry;
      continue;
    }
    if (pd.send_skip && d.data && NormUuid(vs.current_uuid) == NormUuid(d.sb.current_uuid)) {
      pd.send_skip = false;
    }
    if ((vs.uuid_flags & kUuidFlagSkipInitialSync) && d.data &&
        NormUuid(d.sb.current_uuid) == md::kUuidJustCreated) {
      Log(fmt::format("{}: Peer skipped the initial sync; adopting UUID {:016X}", Prefix(r, d, c),
                      vs.current_uuid));
      d.sb.current_uuid = vs.current_uuid & ~kUuidPrimaryBit;
      // The bitmap UUID the source made up for this sync becomes history
      // (capture 02: U1:0:x:0).
      ShiftIntoHistory(d.sb, DerivedBitmapUuid(d.sb.current_uuid));
      d.sb.flags |= md::kMdfConsistent | md::kMdfWasUpToDate;
      n.disk[vs.volume] = DiskState::kUpToDate;
      npd.repl = ReplState::kEstablished;
      AdoptSkippedInitialSync(r, c, d);
      WriteMetadata(d);
      continue;
    }
    if (initial || first) {
      HandshakeOut hs;
      const ReplState decided = DecideRepl(r, c, d, pd, static_cast<Role>(st.role), n, &hs);
      // drbd_resync: an undetermined outcome changes nothing.
      if (after_unstable && (hs.drop || hs.retry)) continue;
      npd.repl = decided;
      drop = drop || hs.drop;
      retry = retry || hs.retry;
      if (hs.drop || hs.retry) continue;
      pd.rs_use_bitmap = hs.use_bitmap;
      pd.rs_full = !hs.use_bitmap && !hs.send_bitmap;
      BitmapAfterHandshake(r, c, d, pd, hs, npd.repl);
      npd.repl = VerifyRepairRepl(r, c, d, pd, static_cast<Role>(st.role), npd.repl);
      // drbd_attach_handshake: nothing to sync beside an UpToDate disk
      // here, the attaching peer is UpToDate too (receive_state).
      if (peer_negotiating && npd.repl == ReplState::kEstablished && d.data &&
          n.disk[vs.volume] == DiskState::kUpToDate &&
          NormUuid(vs.current_uuid) == NormUuid(d.sb.current_uuid)) {
        npd.peer_disk = DiskState::kUpToDate;
      }
      // Every resync starts with the bitmap exchange (engine_bitmap.cc),
      // which also brings the target's own bits to the source.
      npd.repl = ExchangeFirst(npd.repl);
      pd.live_hs_no_sync = after_unstable && npd.repl == ReplState::kEstablished;
    } else if ((npd.repl == ReplState::kSyncSource || npd.repl == ReplState::kSyncTarget ||
                // (not before the bitmap exchange, see ReevaluateRepl; but
                // two sources, each sure the other was just created, have
                // no target: both adopted a third node's skipped initial
                // sync, simd_data t_integrity_*_3)
                (npd.repl == ReplState::kWFBitMapS &&
                 static_cast<ReplState>(vs.repl) == ReplState::kWFBitMapS) ||
                npd.repl == ReplState::kPausedSyncS || npd.repl == ReplState::kPausedSyncT) &&
               d.data && n.disk[vs.volume] == DiskState::kUpToDate &&
               npd.peer_disk == DiskState::kUpToDate &&
               NormUuid(vs.current_uuid) == NormUuid(d.sb.current_uuid)) {
      npd.repl = ReplState::kEstablished;  // both sides hold the same UpToDate data
      // Nothing is out of sync then: drop the marks of the run this ends
      // (a full sync started toward a peer that adopted the same UUID from
      // a third node, when the initial sync is skipped with 3+ nodes).
      pd.oos_bits.clear();
      pd.oos_count = 0;
      DropFreshBitmapUuid(r, c, d, pd);
    } else if (npd.repl == ReplState::kEstablished && std::exchange(pd.live_hs_no_sync, false) &&
               static_cast<ReplState>(vs.repl) == ReplState::kWFBitMapT && d.data &&
               n.disk[vs.volume] == DiskState::kUpToDate &&
               NormUuid(vs.current_uuid) == NormUuid(d.sb.current_uuid)) {
      // The peer chose to be our target and waits for our bitmap, but this
      // end, deciding on other inputs, chose no resync in the same live
      // re-handshake (the two ends of a handshake after unstable read bit
      // counts of different moments). The kernel commits such a choice on
      // both ends in one cluster-wide change; here this end follows it as
      // source, and the bitmap exchange brings both ends' bits together
      // (detsim --nodes=3 --seed=0x6183a9eb073465b8: the peer waited in
      // WFBitMapT for good). Only right after such a re-handshake: after
      // invalidate --reset-bitmap=no there a RESYNC_REQUEST follows
      // (HandleResyncRequest).
      Log(fmt::format("{}: Peer waits for our bitmap; becoming sync source", Prefix(r, d, c)));
      npd.repl = ReplState::kWFBitMapS;
      pd.rs_use_bitmap = true;
      pd.rs_full = false;
    }
    // An Outdated disk holding the same data as an UpToDate peer is UpToDate
    // (at a handshake, "Upgrading local disk ... after unstable/weak"), but
    // not through a peer connected to a Primary: this node may be weak,
    // Outdated by the Primary's cluster-wide change (engine_twopc.cc). On a
    // live connection only when the stable peer's disk comes up from
    // Outdated (sanitize_state's third case): an invalidate's Outdated disk
    // waiting for its resync from another peer stays so when the Primary's
    // STATE comes (it began the resync UpToDate, the source ended it).
    const bool peer_unstable = !(vs.uuid_flags & kUuidFlagStable) &&
                               static_cast<Role>(st.role) != Role::kPrimary;
    if (npd.repl == ReplState::kEstablished && n.disk[vs.volume] == DiskState::kOutdated &&
        (initial || first || (!peer_unstable && old_pdsk == DiskState::kOutdated)) &&
        npd.peer_disk == DiskState::kUpToDate && d.data &&
        NormUuid(vs.current_uuid) == NormUuid(d.sb.current_uuid) &&
        MayReturnToUpToDate(r, d, n)) {
      n.disk[vs.volume] = DiskState::kUpToDate;
      d.sb.flags |= md::kMdfConsistent | md::kMdfWasUpToDate;
      WriteMetadata(d);
    }
    // sanitize_state, connected to a diskless Primary: its exposed UUID is
    // this disk's current one: an Outdated or Consistent disk is UpToDate
    // ("Upgrading local disk ..."; the kernel also upgrades an Inconsistent
    // one that no resync targets, the engine does not). Otherwise an
    // UpToDate disk does not stay so ("Downgrading local disk ...") and,
    // the change done, looks for a resync (TryToGetResynced).
    if (was_off && npd.repl == ReplState::kEstablished && d.data &&
        static_cast<Role>(st.role) == Role::kPrimary &&
        vs.disk == static_cast<uint8_t>(DiskState::kDiskless) && vs.exposed_uuid != 0) {
      DiskState& mine = n.disk[vs.volume];
      bool target_other = false;
      for (const auto& [p2, nc2] : n.conns) {
        auto it2 = nc2.pd.find(vs.volume);
        if (p2 != c.peer_node_id && it2 != nc2.pd.end() &&
            (it2->second.repl == ReplState::kSyncTarget ||
             it2->second.repl == ReplState::kPausedSyncT)) {
          target_other = true;
        }
      }
      if (NormUuid(vs.exposed_uuid) == NormUuid(d.sb.current_uuid) && !target_other) {
        if (mine >= DiskState::kOutdated && mine < DiskState::kUpToDate &&
            mine != DiskState::kDUnknown) {
          Log(fmt::format("{}: Upgrading local disk to D_UP_TO_DATE since current UUID matches.",
                          Prefix(r, d, c)));
          mine = DiskState::kUpToDate;
        }
      } else if (mine >= DiskState::kInconsistent) {
        d.try_to_get_resync = true;
        if (mine == DiskState::kUpToDate) {
          Log(fmt::format("{}: Downgrading local disk to D_CONSISTENT since current UUID differs.",
                          Prefix(r, d, c)));
          mine = DiskState::kConsistent;
        }
      }
    }
    if (npd.repl == ReplState::kSyncTarget && n.disk[vs.volume] >= DiskState::kInconsistent) {
      n.disk[vs.volume] = DiskState::kInconsistent;
    }
    if (npd.repl == ReplState::kSyncSource && npd.peer_disk > DiskState::kInconsistent) {
      npd.peer_disk = DiskState::kInconsistent;
    }
    BitmapPhaseDisks(npd.repl, &n.disk[vs.volume], &npd.peer_disk);
  }
  if (answer_resync) {
    if (Session* s = SessionOf(c); s && s->up) {
      proto::State mine = LocalState(r, c.peer_node_id);
      for (proto::VolumeState& v : mine.volumes) v.uuid_flags |= kUuidFlagResync;
      Send(*s, mine);
    }
  }
  if (drop) return ConnectionLost(r, c, ConnState::kDisconnecting, true, "connect");
  if (retry) return ConnectionLost(r, c, ConnState::kNetworkFailure, false, "connect");
  // The handshake is done: --discard-my-data was used up.
  if (initial) c.discard_my_data = false;
  Change(r, n, true, initial ? "connected" : "peer-state");
  // "attach on the peer" (after_state_ch): our UUIDs and state go back at
  // once; the STATE shows the peer's new disk, the answer it waits for.
  if (answer_attach && c.cstate == ConnState::kConnected) {
    if (Session* s = SessionOf(c); s && s->up) Send(*s, LocalState(r, c.peer_node_id));
  }
  // MDF_PEER_CONNECTED on disk while connected (a graceful disconnect
  // clears it): show-gi's "connected" column, also after a re-attach (13b).
  if (c.cstate == ConnState::kConnected && c.peer_node_id < md::kPeersMax) {
    for (auto& [vol, d] : r.devices) {
      uint32_t& f = d.sb.peers[c.peer_node_id].flags;
      if (!d.data || (f & md::kPeerConnected)) continue;
      f |= md::kPeerConnected;
      WriteMetadata(d);
    }
  }
  ReevaluateRepl(r);
  for (auto& [vol, d] : r.devices) {
    if (d.try_to_get_resync) TryToGetResynced(r, d);
  }
}

bool Engine::MayReturnToUpToDate(const Resource& r, const Device& d, const ResState& n) const {
  for (const auto& [peer, nc] : n.conns) {
    auto it = nc.pd.find(d.volume);
    auto cit = r.connections.find(peer);
    if (it == nc.pd.end() || cit == r.connections.end()) continue;
    auto pit = cit->second.peer_devices.find(d.volume);
    if (pit == cit->second.peer_devices.end()) continue;
    const uint64_t exposed = NormUuid(pit->second.peer.exposed_uuid);
    if (nc.peer_role == Role::kPrimary && it->second.peer_disk == DiskState::kDiskless &&
        exposed != 0 && exposed != NormUuid(d.sb.current_uuid)) {
      return false;
    }
  }
  return true;
}

void Engine::TryToGetResynced(Resource& r, Device& d) {
  d.try_to_get_resync = false;
  if (!d.data || d.disk < DiskState::kInconsistent || d.disk == DiskState::kUpToDate) return;
  // The data the diskless Primary exposes; a peer on it is the best source
  // (the kernel ranks the peers by the strategy drbd_uuid_compare gives).
  uint64_t exposed = 0;
  for (const auto& [peer, c] : r.connections) {
    auto pit = c.peer_devices.find(d.volume);
    if (pit != c.peer_devices.end() && c.cstate == ConnState::kConnected &&
        c.peer_role == Role::kPrimary && pit->second.peer_disk == DiskState::kDiskless) {
      exposed = NormUuid(pit->second.peer.exposed_uuid);
    }
  }
  Connection* best = nullptr;
  int best_rank = -1;
  for (auto& [peer, c] : r.connections) {
    auto pit = c.peer_devices.find(d.volume);
    Session* s = SessionOf(c);
    if (pit == c.peer_devices.end() || !s || !s->up || c.cstate != ConnState::kConnected ||
        pit->second.repl != ReplState::kEstablished ||
        pit->second.peer_disk != DiskState::kUpToDate || !pit->second.have_peer) {
      continue;
    }
    const int rank = exposed != 0 && NormUuid(pit->second.peer.current_uuid) == exposed ? 1 : 0;
    if (rank > best_rank) best_rank = rank, best = &c;
  }
  if (best == nullptr) return;
  PeerDevice& pd = best->peer_devices.at(d.volume);
  if (NormUuid(pd.peer.current_uuid) == NormUuid(d.sb.current_uuid) && pd.oos_count == 0 &&
      pd.peer.dirty_bits == 0) {
    // no-sync: this disk holds the peer's data ("get-resync"), unless a
    // diskless Primary exposes other data still.
    ResState n = Capture(r);
    if (!MayReturnToUpToDate(r, d, n)) return;
    n.disk[d.volume] = DiskState::kUpToDate;
    Change(r, n, true, "get-resync");
    return;
  }
  // drbd_resync(DISKLESS_PRIMARY): the peer is asked to run the sync
  // handshake again (UUID_FLAG_RESYNC), and this side runs it on the
  // UUIDs it holds from the peer.
  Session* s = SessionOf(*best);
  proto::State mine = LocalState(r, best->peer_node_id);
  for (proto::VolumeState& v : mine.volumes) {
    if (v.volume == d.volume) v.uuid_flags |= kUuidFlagResync;
  }
  Send(*s, mine);
  proto::State theirs;
  theirs.role = static_cast<uint8_t>(best->peer_role);
  theirs.volumes.push_back(pd.peer);
  theirs.volumes.back().uuid_flags |= kUuidFlagResync;
  ApplyPeerState(r, *best, theirs, false);
  pd.peer.uuid_flags &= ~kUuidFlagResync;
}

void Engine::AdoptSkippedInitialSync(Resource& r, Connection& from, Device& d) {
  // __receive_uuids (skip_initial_sync): the bitmap toward every peer is
  // cleared and written (drbd_bmio_clear_all_n_write), the bitmap UUID
  // toward the sender is 0. Nothing here was ever out of sync.
  if (from.peer_node_id < md::kPeersMax) d.sb.peers[from.peer_node_id].bitmap_uuid = 0;
  for (auto& [peer, c] : r.connections) {
    auto pit = c.peer_devices.find(d.volume);
    if (pit == c.peer_devices.end()) continue;
    PeerDevice& pd = pit->second;
    std::fill(pd.oos_bits.begin(), pd.oos_bits.end(), uint64_t{0});
    pd.oos_count = 0;
    // The kernel runs no sync handshake on a live connection when a disk
    // becomes UpToDate this way, so a third just-created node beside us
    // simply takes the same UUID from the node that skipped the sync.
    // ReevaluateRepl here would start a full sync toward it (both ends
    // soon UpToDate on the same UUID, the bits left behind); instead our
    // STATE carries the skip on, as the kernel's
    // propagate_skip_initial_to_diskless does toward diskless peers.
    if (&c != &from && c.cstate == ConnState::kConnected && pd.repl == ReplState::kEstablished &&
        pd.have_peer && pd.peer_disk >= DiskState::kInconsistent &&
        pd.peer_disk != DiskState::kDUnknown &&
        NormUuid(pd.peer.current_uuid) == md::kUuidJustCreated) {
      pd.send_skip = true;
    }
  }
  if (d.data) MdFlushBitmap(r, d, 0, ~uint64_t{0});
}

bool Engine::FollowNegotiation(Resource& r, Connection& c, Device& d, PeerDevice& pd,
                               const proto::VolumeState& vs, bool initial, ResState& n) {
  if (initial) {
    // A connection made while negotiating joins the negotiation.
    n.conns.at(c.peer_node_id).pd.at(vs.volume).repl = ReplState::kEstablished;
    pd.neg_pending = vs.disk >= static_cast<uint8_t>(DiskState::kInconsistent) &&
                     vs.disk != static_cast<uint8_t>(DiskState::kDUnknown);
  }
  const auto seen = static_cast<DiskState>(vs.peer_disk);
  if (!pd.neg_pending || seen < DiskState::kInconsistent || seen == DiskState::kDUnknown) {
    return false;  // not the answer: the peer has not seen the new disk yet
  }
  pd.neg_pending = false;
  // The peer's decision, seen from here.
  const auto theirs = static_cast<ReplState>(vs.repl);
  ReplState mine = ReplState::kEstablished;
  if (theirs == ReplState::kWFBitMapS || theirs == ReplState::kSyncSource ||
      theirs == ReplState::kPausedSyncS) {
    mine = ReplState::kWFBitMapT;
  } else if (theirs == ReplState::kWFBitMapT || theirs == ReplState::kSyncTarget ||
             theirs == ReplState::kPausedSyncT) {
    mine = ReplState::kWFBitMapS;
  }
  // drbd_attach_handshake here too, on the UUIDs the answer carries, with
  // the disk the metadata gives: its log and how the run starts. Where it
  // comes out differently, the peer's decision stands.
  ResState::Pd& npd = n.conns.at(c.peer_node_id).pd.at(vs.volume);
  const DiskState was = d.disk;
  d.disk = d.neg_disk;
  n.disk[vs.volume] = d.neg_disk;
  HandshakeOut hs;
  const ReplState own = DecideRepl(r, c, d, pd, n.conns.at(c.peer_node_id).peer_role, n, &hs);
  d.disk = was;
  n.disk[vs.volume] = was;
  // A Primary does not take a peer that missed its last data generation
  // as the new disk's sync source (DecideRepl; detsim --nodes=3
  // --seed=0x1cff0ca17e43916f): the connection is tried again instead.
  if (hs.retry && mine == ReplState::kWFBitMapT) return true;
  if (!hs.drop && !hs.retry && ExchangeFirst(own) == mine) {
    pd.rs_use_bitmap = hs.use_bitmap;
    pd.rs_full = !hs.use_bitmap && !hs.send_bitmap;
    BitmapAfterHandshake(r, c, d, pd, hs, own);
  } else {
    Log(fmt::format("{}: following the peer's decision: {} here", Prefix(r, d, c),
                    events::ToString(mine)));
    // As source: a bitmap-based sync where our bitmap UUID toward the peer
    // is its current one (rule bitmap-self), else a full one.
    const uint64_t my_bm =
        c.peer_node_id < md::kPeersMax ? NormUuid(d.sb.peers[c.peer_node_id].bitmap_uuid) : 0;
    pd.rs_use_bitmap = mine == ReplState::kWFBitMapS && my_bm != md::kUuidJustCreated &&
                       my_bm == NormUuid(vs.current_uuid);
    pd.rs_full = mine == ReplState::kWFBitMapS && !pd.rs_use_bitmap;
  }
  npd.repl = ReplState::kEstablished;
  pd.neg_result = mine;
  ResolveNegotiation(r, d, n);
  return false;
}

void Engine::ResolveNegotiation(Resource& r, Device& d, ResState& n) {
  bool target = false, up_to_date_neighbor = false;
  for (auto& [peer, c] : r.connections) {
    auto pit = c.peer_devices.find(d.volume);
    if (pit == c.peer_devices.end()) continue;
    if (pit->second.neg_pending) return;  // stay Negotiating
    const PeerDevice& pd = pit->second;
    const ResState::Conn& nc = n.conns.at(peer);
    if (nc.cstate != ConnState::kConnected || pd.neg_result == ReplState::kOff) continue;
    if (pd.neg_result == ReplState::kWFBitMapT) target = true;
    if (pd.neg_result == ReplState::kEstablished &&
        nc.pd.at(d.volume).peer_disk == DiskState::kUpToDate &&
        NormUuid(pd.peer.current_uuid) == NormUuid(d.sb.current_uuid)) {
      up_to_date_neighbor = true;
    }
  }
  // Several peers would be the source: the one the data comes from is a
  // Primary, else the one whose data a peer exposed (exposed data UUID),
  // else the first. The others wait (Established; ReevaluateRepl starts
  // nothing beside a running source, and a source whose data this disk
  // then holds ends its exchange, FollowCancelledResync). Taking a stale
  // UpToDate Secondary first left writes of the Primary out (detsim
  // --nodes=3 --seed=0x3e).
  const Connection* source = nullptr;
  int best = -1;
  for (const auto& [peer, c] : r.connections) {
    auto pit = c.peer_devices.find(d.volume);
    if (pit == c.peer_devices.end() || pit->second.neg_result != ReplState::kWFBitMapT ||
        n.conns.at(peer).cstate != ConnState::kConnected) {
      continue;
    }
    const int rank = n.conns.at(peer).peer_role == Role::kPrimary                       ? 2
                     : d.exposed_uuid != 0 &&
                             NormUuid(pit->second.peer.current_uuid) == d.exposed_uuid ? 1
                                                                                       : 0;
    if (rank > best) best = rank, source = &c;
  }
  // sanitize_state: "negotiation finished": the disk the metadata gives,
  // UpToDate beside an UpToDate peer with the same data; a target's disk
  // goes through the bitmap exchange (BitmapPhaseDisks).
  DiskState& disk = n.disk[d.volume];
  disk = d.neg_disk;
  if (!target && up_to_date_neighbor && disk >= DiskState::kOutdated &&
      MayReturnToUpToDate(r, d, n)) {
    disk = DiskState::kUpToDate;
    d.sb.flags |= md::kMdfConsistent | md::kMdfWasUpToDate;
    WriteMetadata(d);
  }
  for (auto& [peer, c] : r.connections) {
    auto pit = c.peer_devices.find(d.volume);
    if (pit == c.peer_devices.end()) continue;
    PeerDevice& pd = pit->second;
    ResState::Conn& nc = n.conns.at(peer);
    ReplState result = std::exchange(pd.neg_result, ReplState::kOff);
    if (nc.cstate != ConnState::kConnected || result == ReplState::kOff) continue;
    pd.neg_demoted = result == ReplState::kWFBitMapT && &c != source;
    if (pd.neg_demoted) result = ReplState::kEstablished;
    ResState::Pd& npd = nc.pd.at(d.volume);
    npd.repl = result;
    if (result == ReplState::kWFBitMapS && npd.peer_disk > DiskState::kInconsistent) {
      npd.peer_disk = DiskState::kInconsistent;
    }
    BitmapPhaseDisks(npd.repl, &disk, &npd.peer_disk);
  }
  KeepExposedWhileInconsistent(r, d, disk);
}

void Engine::KeepExposedWhileInconsistent(const Resource& r, Device& d, DiskState disk) {
  if (r.role != Role::kPrimary || disk != DiskState::kInconsistent) d.exposed_uuid = 0;
}

void Engine::ReevaluateRepl(Resource& r) {
  ResState n = Capture(r);
  for (auto& [peer, nc] : n.conns) {
    if (nc.cstate != ConnState::kConnected) continue;
    for (auto& [vol, npd] : nc.pd) {
      // A source left waiting at an attach (ResolveNegotiation) whose data
      // this disk now holds: nothing is out of sync toward it.
      if (PeerDevice& wpd = r.connections.at(peer).peer_devices.at(vol);
          wpd.neg_demoted && npd.repl == ReplState::kEstablished &&
          n.disk.at(vol) == DiskState::kUpToDate && npd.peer_disk == DiskState::kUpToDate) {
        wpd.neg_demoted = false;
        Device& wd = r.devices.at(vol);
        if (wd.data && NormUuid(wpd.peer.current_uuid) == NormUuid(wd.sb.current_uuid)) {
          ClearOutOfSync(r, wd, wpd);
        }
      }
      if ((npd.repl == ReplState::kSyncSource || npd.repl == ReplState::kSyncTarget ||
           npd.repl == ReplState::kWFBitMapS || npd.repl == ReplState::kWFBitMapT ||
           npd.repl == ReplState::kPausedSyncS || npd.repl == ReplState::kPausedSyncT) &&
          n.disk.at(vol) == DiskState::kUpToDate && npd.peer_disk == DiskState::kUpToDate) {
        // Both ends came to the same UpToDate data another way (a third
        // node's skipped initial sync): the run has nothing left to do.
        // Not before the bitmap exchange: the kernel cancels a resync only
        // when one ends (__cancel_other_resyncs); a target that became
        // UpToDate through a third node's handshake still takes the
        // source's bits, which may be real, e.g. a crashed Primary's
        // activity log (detsim --nodes=3 --seed=0xd).
        if (npd.repl == ReplState::kWFBitMapS || npd.repl == ReplState::kWFBitMapT) continue;
        PeerDevice& pd = r.connections.at(peer).peer_devices.at(vol);
        const Device& d = r.devices.at(vol);
        if (d.data && NormUuid(pd.peer.current_uuid) == NormUuid(d.sb.current_uuid)) {
          npd.repl = ReplState::kEstablished;
          pd.oos_bits.clear();
          pd.oos_count = 0;
          DropFreshBitmapUuid(r, r.connections.at(peer), r.devices.at(vol), pd);
        }
        continue;
      }
      if (npd.repl != ReplState::kEstablished) continue;
      DiskState mine = n.disk.at(vol);
      // The module runs a sync handshake on the live connection (logged)
      // and starts with the bitmap exchange.
      Device& d = r.devices.at(vol);
      // Never from (or as) a source that is not stable: the kernel's
      // unstable resync would not make the target UpToDate anyway.
      const PeerDevice& lpd = r.connections.at(peer).peer_devices.at(vol);
      // A just-created peer we pass a skipped initial sync on to takes our
      // UUID instead (AdoptSkippedInitialSync).
      if (lpd.send_skip) continue;
      const bool peer_stable =
          (lpd.peer.uuid_flags & kUuidFlagStable) != 0 || r.role == Role::kPrimary;
      // Nor as a second source toward a device that already has one
      // (drbd_select_sync_target): the target says so in its STATE.
      bool other_source = false;
      for (const auto& [p2, nc2] : n.conns) {
        auto it2 = nc2.pd.find(vol);
        if (p2 != peer && it2 != nc2.pd.end() &&
            (it2->second.repl == ReplState::kWFBitMapT ||
             it2->second.repl == ReplState::kSyncTarget ||
             it2->second.repl == ReplState::kPausedSyncT)) {
          other_source = true;
        }
      }
      if (mine == DiskState::kInconsistent && npd.peer_disk == DiskState::kUpToDate &&
          (!peer_stable || other_source)) {
        continue;
      }
      if (mine == DiskState::kUpToDate && npd.peer_disk == DiskState::kInconsistent &&
          ((!DeviceStable(r) && nc.peer_role != Role::kPrimary) ||
           (lpd.peer.resync_susp & 4) != 0)) {
        continue;
      }
      if (mine == DiskState::kInconsistent && npd.peer_disk == DiskState::kUpToDate) {
        npd.repl = ReplState::kWFBitMapT;
        if (d.data) LogLiveHandshake(r, r.connections.at(peer), d, false);
      } else if (mine == DiskState::kUpToDate && npd.peer_disk == DiskState::kInconsistent) {
        npd.repl = ReplState::kWFBitMapS;
        r.connections.at(peer).peer_devices.at(vol).rs_use_bitmap = false;  // a full sync
        r.connections.at(peer).peer_devices.at(vol).rs_full = true;
        if (d.data) LogLiveHandshake(r, r.connections.at(peer), d, true);
      }
    }
  }
  if (!(n == Capture(r))) Change(r, n, true, "resync");
}

// ---------------------------------------------------------------------------
// Loss, retry, pings

void Engine::ConnectionLost(Resource& r, Connection& c, ConnState to, bool abort,
                            const std::string& tag) {
  uint32_t peer = c.peer_node_id;
  std::map<uint32_t, uint64_t> oos_before;  // by volume, before in-flight writes fail
  bool hold_connect = false;  // until a diskless Primary's new UUID is made
  for (const auto& [vol, pd] : c.peer_devices) oos_before[vol] = pd.oos_count;
  // drbd_notify_peers_lost_primary after the state change, below.
  const bool notify_lost_primary =
      c.cstate == ConnState::kConnected && c.peer_role == Role::kPrimary;
  c.pending_dagtags.clear();
  c.after_reconciliation.reset();
  ApplyUnackedPeerRequests(r, c);
  StopNetworking(r, c);
  ResState n = Capture(r);
  ResState::Conn& nc = n.conns.at(peer);
  // A Secondary that loses a Primary peer without a goodbye cannot know
  // what the peer wrote last: Consistent, and UpToDate again [lost-peer]
  // when nobody fences (captures 07-10, the link break).
  const bool lost_primary = !abort && to != ConnState::kTearDown &&
                            nc.peer_role == Role::kPrimary && n.role != Role::kPrimary &&
                            c.net.Int("fencing") == 0;
  std::vector<uint32_t> consistent;
  // (A disk already Consistent, as beside a diskless Primary on other data,
  // comes back too: twopc_after_lost_peer takes every Consistent disk.)
  if (lost_primary) {
    for (auto& [vol, ds] : n.disk) {
      if (ds != DiskState::kUpToDate && ds != DiskState::kConsistent) continue;
      ds = DiskState::kConsistent;
      consistent.push_back(vol);
    }
  }
  // A Primary that disconnects gracefully leaves this Secondary UpToDate
  // (capture 03), unless the Primary is still reachable through another
  // node: then the cluster-wide change makes it weak (engine_twopc.cc).
  const bool left_by_primary = !abort && to == ConnState::kTearDown &&
                               nc.peer_role == Role::kPrimary && n.role != Role::kPrimary;
  nc.cstate = abort ? ConnState::kDisconnecting : to;
  nc.peer_role = Role::kUnknown;
  for (auto& [vol, pd] : nc.pd) {
    pd.repl = ReplState::kOff;
    pd.peer_disk = DiskState::kDUnknown;
  }
  Change(r, n, true, tag);
  // twopc_after_lost_peer: with other peers connected, whether this node is
  // weak now (the Primary still reachable through them) decides at the
  // commit of a cluster-wide change (engine_twopc.cc); alone, it is not.
  bool others_connected = false;
  for (const auto& [p2, c2] : r.connections) {
    const Session* s2 = p2 == peer ? nullptr : SessionOf(c2);
    others_connected = others_connected || (s2 && s2->up);
  }
  if ((!consistent.empty() || left_by_primary) && others_connected) {
    StartTwoPc(r, TwoPcKind::kLostPeer, consistent);
  } else if (!consistent.empty()) {
    ResState up = Capture(r);
    for (uint32_t vol : consistent) {
      if (up.disk.at(vol) == DiskState::kConsistent &&
          MayReturnToUpToDate(r, r.devices.at(vol), up)) {
        up.disk[vol] = DiskState::kUpToDate;
      }
    }
    Change(r, up, true, "lost-peer");
  }
  for (Path& p : c.paths) {
    if (!p.established) continue;
    p.established = false;
    Emit(PathNote(r, c, p, NotifyType::kChange));
  }
  for (auto& [vol, pd] : c.peer_devices) {
    pd.have_peer = false;
    pd.comm_disk = DiskState::kDUnknown;
    pd.live_hs_no_sync = false;
  }
  // Writes whose acks the loss took were written while the peer was away:
  // their blocks are out of sync, and a Primary needs the new current UUID
  // that makes the next handshake resync them (found by tests/sim detsim).
  for (auto& [vol, d] : r.devices) {
    auto pit = c.peer_devices.find(vol);
    if (pit != c.peer_devices.end() && pit->second.oos_count > oos_before[vol]) {
      RotateUuidForAbsentPeers(r, d);
      // Without an UpToDate disk (none, or a replaced one not yet synced)
      // the peers store the new data generation once the other peers
      // answered a ping (conn_disconnect: requests in flight
      // and NEW_CUR_UUID set -> drbd_check_peers_new_current_uuid ->
      // drbd_uuid_new_current's diskless branch), not at the next write: a
      // peer back before that write would meet the exposed UUID it left on
      // and be taken as UpToDate without the writes it missed.
      // The lost peer connects again only after that (the kernel runs the
      // check in the lost connection's own receiver, in conn_disconnect).
      if (d.NewUuidWithoutDisk() && r.role == Role::kPrimary && d.new_cur_uuid) {
        d.diskless_bump_after_check = true;
        c.connect_after_check = !abort;
        hold_connect = !abort;
      }
    }
  }
  // The peer said goodbye or shut its socket down: not "connected" on disk
  // any more (captures 03, 11, 13b; 07-10 after a `disconnect --force` of
  // the peer); a lost link (network failure, timeout) keeps the flag.
  if ((to == ConnState::kTearDown || to == ConnState::kBrokenPipe) && peer < md::kPeersMax) {
    for (auto& [vol, d] : r.devices) {
      if (!d.data || !(d.sb.peers[peer].flags & md::kPeerConnected)) continue;
      d.sb.peers[peer].flags &= ~uint32_t{md::kPeerConnected};
      WriteMetadata(d);
    }
  }
  ResState n2 = Capture(r);
  n2.conns.at(peer).cstate = abort ? ConnState::kStandAlone : ConnState::kUnconnected;
  // A negotiating attach no longer waits for this peer.
  for (auto& [vol, pd] : c.peer_devices) {
    pd.neg_pending = false;
    pd.neg_result = ReplState::kOff;
    pd.neg_demoted = false;
    auto dit = r.devices.find(vol);
    if (dit != r.devices.end() && dit->second.disk == DiskState::kNegotiating) {
      ResolveNegotiation(r, dit->second, n2);
    }
  }
  Change(r, n2, true, tag);
  TwoPcPeerGone(r, peer);
  if (notify_lost_primary) NotifyPeersLostPrimary(r, c);
  if (hold_connect) {
    StartCheckPeers(r);
    if (!r.checking_peers) DisklessBumpAfterCheck(r);
    return;
  }
  if (!abort) StartConnecting(r, c);
}

void Engine::SchedulePing(Resource& r, Connection& c) {
  std::string res = r.name;
  uint32_t peer = c.peer_node_id;
  uint64_t interval = static_cast<uint64_t>(c.net.Int("ping-int")) * kNsPerSec;
  c.ping_timer = env_.clock->StartTimer(interval, [this, res, peer] {
    Resource* r2 = nullptr;
    Connection* found = FindConnection(res, peer, &r2);
    if (!found) return;
    Connection& c2 = *found;
    c2.ping_timer = 0;
    Session* s = SessionOf(c2);
    if (!s || !s->up) return;
    Send(*s, proto::Ping{});
    ArmPingTimeout(*r2, c2, "PingAck did not arrive in time.");
    SchedulePing(*r2, c2);
  });
}

void Engine::ArmPingTimeout(Resource& r, Connection& c, const char* line) {
  if (c.ping_timeout_timer != 0) return;
  const uint64_t timeout = static_cast<uint64_t>(c.net.Int("ping-timeout")) * (kNsPerSec / 10);
  c.ping_timeout_timer = env_.clock->StartTimer(
      timeout, [this, res = r.name, peer = c.peer_node_id, line = std::string(line)] {
        Resource* r3 = nullptr;
        Connection* c3 = FindConnection(res, peer, &r3);
        if (!c3) return;
        c3->ping_timeout_timer = 0;
        Log(fmt::format("{}: {}", Prefix(*r3, *c3), line));
        // Its StopNetworking answers for it in a running drbd_check_peers.
        ConnectionLost(*r3, *c3, ConnState::kNetworkFailure, false, "ping-timeout");
      });
}

void Engine::StartCheckPeers(Resource& r) {
  if (r.checking_peers) return;
  bool any = false;
  for (auto& [peer, c] : r.connections) {
    Session* s = SessionOf(c);
    if (!s || !s->up || c.cstate != ConnState::kConnected) continue;
    // Not a peer this node went Ahead of: its link is congested, not dead.
    // The kernel's ping travels on the control stream, past the queued
    // data; drbd-simd has one stream, where it would wait behind it.
    const bool ahead = std::any_of(c.peer_devices.begin(), c.peer_devices.end(),
                                   [](const auto& v) { return v.second.repl == ReplState::kAhead; });
    if (ahead) continue;
    c.checking = true;
    any = true;
    Send(*s, proto::Ping{});
    ArmPingTimeout(r, c, "peer failed to send PingAck in time");
  }
  r.checking_peers = any;
}

void Engine::MaybeFinishCheckPeers(Resource& r) {
  if (!r.checking_peers) return;
  for (auto& [peer, c] : r.connections) {
    if (!c.checking) continue;
    const Session* s = SessionOf(c);
    if (s && s->up && c.cstate == ConnState::kConnected && c.ping_timeout_timer != 0) return;
  }
  for (auto& [peer, c] : r.connections) c.checking = false;
  r.checking_peers = false;
  ScheduleUuidWaiters(r);
  DisklessBumpAfterCheck(r);
}

void Engine::DisklessBumpAfterCheck(Resource& r) {
  bool any = false;
  for (const auto& [vol, d] : r.devices) any = any || d.diskless_bump_after_check;
  for (const auto& [peer, c] : r.connections) any = any || c.connect_after_check;
  if (!any) return;
  // After the state change under way (the check may end inside a
  // connection loss): then the peers that answered are the ones left.
  env_.clock->StartTimer(0, [this, res = r.name] {
    Resource* r2 = FindResource(res);
    if (r2 == nullptr || r2->checking_peers) return;
    bool deferred = false;
    for (auto& entry : r2->devices) {
      const uint32_t vol = entry.first;
      Device& d = entry.second;
      // The writes the loss cut off: done (`err` 0) once the new UUID is
      // on an UpToDate peer or not needed; EIO when no UpToDate peer is
      // left to store it. Their data then belongs to no generation that
      // would tell a peer which missed them from one that did not (detsim
      // --nodes=3 --seed=0x78fdee36333abef2: such a peer, back on the
      // exposed UUID, became the full-sync source of the Primary's new
      // disk). drbd 9.2.19 holds them (confirm-before-complete). A failed
      // one may be on some peers and not on others: its blocks are marked
      // toward every peer.
      auto release = [this, r2, &d](int err) {
        for (Device::HeldWrite& w : std::exchange(d.bump_held, {})) {
          if (err) MarkFailedWrite(*r2, d, w.offset, w.len);
          w.done(err);
        }
      };
      if (!std::exchange(d.diskless_bump_after_check, false)) {
        release(0);
        continue;
      }
      // drbd_check_peers_new_current_uuid: only while the data is still
      // reachable through an UpToDate peer.
      bool accessible = false;
      for (auto& [peer, c] : r2->connections) {
        auto pit = c.peer_devices.find(vol);
        const Session* s = SessionOf(c);
        accessible = accessible || (pit != c.peer_devices.end() && s && s->up &&
                                    pit->second.repl >= ReplState::kEstablished &&
                                    pit->second.peer_disk == DiskState::kUpToDate);
      }
      const bool owed = d.NewUuidWithoutDisk() && r2->role == Role::kPrimary && d.new_cur_uuid;
      // A handshake holds the UUIDs (uuid_sem): the UUID, the writes and
      // the lost peer's reconnect wait for it, or the writes would be done
      // before the UUID that tells that peer it missed them exists.
      if (owed && accessible && UuidLocked(*r2)) {
        d.diskless_bump_after_check = true;
        deferred = true;
        continue;
      }
      if (!owed || !accessible || !DisklessNeedsNewCurrent(*r2, d)) {
        release(owed && !accessible ? EIO : 0);
        continue;
      }
      d.new_cur_uuid = false;
      DisklessNewCurrent(*r2, d);
      release(0);
    }
    if (deferred) {
      env_.clock->StartTimer(kNsPerSec / 100, [this, res] {
        if (Resource* r3 = FindResource(res)) DisklessBumpAfterCheck(*r3);
      });
      return;
    }
    for (auto& [peer, c] : r2->connections) {
      if (std::exchange(c.connect_after_check, false) && c.cstate == ConnState::kUnconnected) {
        StartConnecting(*r2, c);
      }
    }
  });
}

void Engine::ScheduleKoCheck(Resource& r, Connection& c) {
  if (c.ko_timer) env_.clock->CancelTimer(c.ko_timer);
  c.ko_timer = 0;
  const int64_t timeout = c.net.Int("timeout");  // 0.1 s
  if (timeout <= 0 || c.cstate != ConnState::kConnected) return;
  const std::string res = r.name;
  const uint32_t peer = c.peer_node_id;
  const uint64_t interval = static_cast<uint64_t>(timeout) * (kNsPerSec / 10);
  c.ko_timer = env_.clock->StartTimer(interval, [this, res, peer] {
    Resource* r2 = nullptr;
    Connection* c2 = FindConnection(res, peer, &r2);
    if (!c2) return;
    c2->ko_timer = 0;
    if (c2->cstate != ConnState::kConnected) return;
    const int64_t ko = c2->net.Int("ko-count");
    const int64_t t = c2->net.Int("timeout");
    const uint64_t limit = static_cast<uint64_t>(std::max<int64_t>(0, ko * t)) * (kNsPerSec / 10);
    const uint64_t now = env_.clock->NowNs();
    auto oldest = OldestPeerRequest(res, peer);
    if (ko > 0 && oldest && now > oldest->first + limit && r2->devices.count(oldest->second)) {
      const Device& d = r2->devices.at(oldest->second);
      const uint64_t ms = (now - oldest->first) / 1000000;
      Log(
          fmt::format("{}: Remote failed to finish a request within {}ms > ko-count ({}) * "
                      "timeout ({} * 0.1s)",
                      Prefix(*r2, d, *c2), ms, ko, t));
      ConnectionLost(*r2, *c2, ConnState::kTimeout, false, "timeout");
      return;
    }
    ScheduleKoCheck(*r2, *c2);
  });
}

}  // namespace drbd::engine
