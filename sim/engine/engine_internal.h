// SPDX-License-Identifier: GPL-2.0-or-later
// The engine's private object model, shared by engine.cc (control requests
// and state changes) and engine_net.cc (connections and the peer protocol).
// Not part of the engine's interface.
#pragma once

#include <algorithm>
#include <bit>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "lib/md/format.h"
#include "sim/engine/engine.h"
#include "sim/engine/engine_md.h"
#include "sim/engine/resync_controller.h"

namespace drbd::engine {

// UUID_FLAG_* bits (drbd_protocol.h) the engine sends in STATE.
inline constexpr uint64_t kUuidFlagDiscardMyData = 0x1;
inline constexpr uint64_t kUuidFlagCrashedPrimary = 0x2;
inline constexpr uint64_t kUuidFlagInconsistent = 0x4;
inline constexpr uint64_t kUuidFlagSkipInitialSync = 0x8;
inline constexpr uint64_t kUuidFlagStable = 0x20;
inline constexpr uint64_t kUuidFlagGotStable = 0x40;  // once, see Engine::AfterUnstable
inline constexpr uint64_t kUuidFlagResync = 0x80;     // once, the answer to it
inline constexpr uint64_t kUuidFlagReconnect = 0x100;

// Whether this node holds RESOLVE_CONFLICTS on a connection: the kernel's
// TCP transport gives it to the side that accepts the meta socket; both
// nodes keep the stream the lower node id dialed, so the higher id accepted.
inline bool HoldsResolveConflicts(int32_t node_id, uint32_t peer_node_id) {
  return node_id > static_cast<int32_t>(peer_node_id);
}

inline constexpr uint64_t kUuidPrimaryBit = 1;
inline constexpr uint64_t kNsPerSec = 1000000000ull;

// A resync in progress (running or paused), as its source or its target.
inline bool IsSyncSource(ReplState r) {
  return r == ReplState::kSyncSource || r == ReplState::kPausedSyncS;
}
inline bool IsSyncTarget(ReplState r) {
  return r == ReplState::kSyncTarget || r == ReplState::kPausedSyncT;
}

// Marks every 4 KiB block of device `d` out of sync toward peer device `pd`
// (a full sync), a word at a time. A template: it is used before the
// Device and PeerDevice definitions below and on Engine's private types.
template <typename DeviceT, typename PeerDeviceT>
void MarkAll(const DeviceT& d, PeerDeviceT& pd) {
  const uint64_t blocks = (d.size_sectors * 512 + 4095) / 4096;
  pd.oos_bits.assign(blocks / 64, ~uint64_t{0});
  if (blocks % 64) pd.oos_bits.push_back((uint64_t{1} << (blocks % 64)) - 1);
  pd.oos_count = blocks;
}

// Shifts the history down by one and puts `val` first, whatever it holds
// (the kernel's plain history rotations; PushHistory below skips known
// UUIDs).
inline void ShiftIntoHistory(md::Superblock& sb, uint64_t val) {
  std::copy_backward(sb.history_uuids.begin(), sb.history_uuids.end() - 1, sb.history_uuids.end());
  sb.history_uuids[0] = val;
}

// A node id's bit in a node mask (0 for ids outside the mask's 64, such
// as a resource's unset node id -1).
inline uint64_t NodeBit(int64_t node) { return node >= 0 && node < 64 ? uint64_t{1} << node : 0; }

// _drbd_uuid_push_history: `val` goes to the front of the history unless
// it is no UUID, the current UUID, a bitmap UUID or already there.
// A UUID as the comparison sees it: without the Primary bit, and 0 (none
// yet) as the just-created UUID.
inline uint64_t NormUuid(uint64_t u) {
  u &= ~kUuidPrimaryBit;
  return u == 0 ? md::kUuidJustCreated : u;
}

inline void PushHistory(md::Superblock& sb, int32_t self, uint64_t val) {
  val &= ~kUuidPrimaryBit;
  if (val == 0 || val == md::kUuidJustCreated) return;
  if (val == (sb.current_uuid & ~kUuidPrimaryBit)) return;
  for (int node = 0; node < static_cast<int>(sb.peers.size()); ++node) {
    if (node != self && val == (sb.peers[static_cast<size_t>(node)].bitmap_uuid & ~kUuidPrimaryBit))
      return;
  }
  for (uint64_t h : sb.history_uuids) {
    if (h == val) return;
  }
  ShiftIntoHistory(sb, val);
}

// Sets the out-of-sync bits of the 4 KiB blocks of bytes [offset, offset +
// len) in `bits`, counting the newly set ones in `count`.
inline void MarkOutOfSyncRange(std::vector<uint64_t>& bits, uint64_t& count, uint64_t offset,
                               uint64_t len) {
  if (len == 0) return;
  const uint64_t first = offset / 4096, last = (offset + len - 1) / 4096;
  if (bits.size() * 64 <= last) bits.resize(last / 64 + 1, 0);
  for (uint64_t b = first; b <= last; ++b) {
    const uint64_t mask = uint64_t{1} << (b % 64);
    if (!(bits[b / 64] & mask)) {
      bits[b / 64] |= mask;
      ++count;
    }
  }
}

// Sets in `bits` every bit set in `add`, counting the newly set ones in
// `count`.
inline void OrOutOfSync(std::vector<uint64_t>& bits, uint64_t& count,
                        const std::vector<uint64_t>& add) {
  if (bits.size() < add.size()) bits.resize(add.size(), 0);
  for (size_t w = 0; w < add.size(); ++w) {
    const uint64_t fresh = add[w] & ~bits[w];
    bits[w] |= fresh;
    count += static_cast<uint64_t>(std::popcount(fresh));
  }
}

// The bitmap UUID a source makes up for a just-created peer's initial
// (or skipped initial) sync, which ends in that peer's history: derived
// from the source's `current` UUID (never 0, just-created or `current`;
// bit 0 clear), so both ends know it without a message (engine_bitmap.cc).
uint64_t DerivedBitmapUuid(uint64_t current);

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
  // resync-after: the resync waits for a device it depends on
  // (resync_susp_dependency, engine_resync.cc).
  bool susp_dep = false;
  // resync_susp_other_c: another peer is this device's resync source
  // (SelectSyncTarget, engine_peer_ack.cc).
  bool susp_other_c = false;
  // As sync target: the source lacked UUID_FLAG_STABLE (it was connected
  // to a Primary that kept writing) during the run (UNSTABLE_RESYNC): its
  // end leaves this disk Inconsistent (engine_peer_ack.cc).
  bool rs_unstable = false;
  OptionSet opts{cfg::OptContext::kPeerDeviceOptions};
  proto::VolumeState peer;  // the peer's last STATE record for this volume
  bool have_peer = false;
  bool peer_disk_seen = false;  // the peer once reported a disk (MDF_PEER_DEVICE_SEEN)
  // The disk state this node last told the peer in a STATE (the kernel's
  // comm_state.disk); DUnknown when none went out on this connection. The
  // sync handshake's disk-state rules use it, not the disk of the moment:
  // both ends then decide on the same pair of states (Engine::Send).
  DiskState comm_disk = DiskState::kDUnknown;
  // The UUID flags that went with it (comm_uuid_flags): this side's
  // UUID_FLAG_STABLE as the peer weighs it; `comm_disk` DUnknown: none.
  uint64_t comm_uuid_flags = 0;
  bool comm_crash_marks = false;  // and its crash_marks (proto::VolumeState)
  // The last sync handshake ran on the live connection (after unstable) and
  // chose no resync: if the peer's next STATE shows it chose to be our
  // target in that exchange, this side follows as source (ApplyPeerState;
  // that next STATE uses the mark up either way).
  bool live_hs_no_sync = false;
  // new-current-uuid --clear-bitmap on a just-created pair: STATE carries
  // UUID_FLAG_SKIP_INITIAL_SYNC until the peer reports our current UUID.
  bool send_skip = false;
  // USE_DEGR_WFC_T: attached as a crashed degraded Primary (MDF_PRIMARY_IND
  // without MDF_PEER_CONNECTED); cleared once the peer is seen.
  bool degr_wfc = false;
  // An attach while connected (disk Negotiating): this peer's decision is
  // still due (`neg_pending`), or came and waits for the others' as the
  // replication state it implies here (the kernel's negotiation_result;
  // kOff = none).
  bool neg_pending = false;
  ReplState neg_result = ReplState::kOff;
  // That decision was a second source, left for the first one: once this
  // disk is UpToDate on the peer's current UUID the bits toward it (a
  // just-created disk's full bitmap) go (ReevaluateRepl).
  bool neg_demoted = false;
  // Online verify in progress (see engine_requests.cc), in 4 KiB blocks.
  uint64_t ov_gen = 0;       // identifies the run; stale completions are dropped
  uint64_t ov_next = 0;      // VerifyS: next block to read and send
  uint64_t ov_total = 0;     // VerifyS: end of the range
  uint64_t ov_answered = 0;  // VerifyS: blocks whose result came back
  uint64_t ov_oos = 0;       // blocks found to differ so far
  // The last verify toward this peer marked blocks (both sides set it, so
  // both handshakes agree): the next handshake with equal UUIDs resyncs
  // them (VerifyRepairRepl). `ov_source`: this side was VerifyS.
  bool ov_marks = false;
  bool ov_source = false;
  // Out-of-sync bitmap toward this peer, one bit per 4 KiB block of data,
  // kept by the data path (engine_io.cc); loaded from and written back to
  // this peer's metadata bitmap slot by engine_md.cc.
  std::vector<uint64_t> oos_bits;
  uint64_t oos_count = 0;  // bits set
  // The bits toward this peer at attach when they all came from the
  // activity log after a crash (none were set before it), else 0: they
  // stay "crash marks" while the count is unchanged (CrashMarksOnly).
  uint64_t crash_marks = 0;
  bool CrashMarksOnly() const { return crash_marks != 0 && crash_marks == oos_count; }
  // Resync toward this peer as SyncSource (engine_resync.cc), in 4 KiB
  // blocks. A run starts when the peer device becomes SyncSource and ends
  // when it leaves SyncSource / PausedSyncS.
  bool rs_use_bitmap = false;     // the handshake chose a bitmap-based (not full) sync
  bool rs_full = false;  // the run began as a full sync (set-bitmap), whatever the exchange adds
  // The bitmap exchange before a resync (engine_bitmap.cc). `bm_begun`:
  // this WFBitMapS/T or StartingSyncS phase took its first step (sent the
  // bitmap, marked the blocks); `bm_got`: the peer's last BITMAP came
  // before this side entered WFBitMapT.
  bool bm_begun = false;
  bool bm_got = false;
  // The source gave a just-created peer a bitmap UUID of its own for the
  // initial sync (engine_bitmap.cc); the run's end drops it without
  // keeping it as history.
  bool rs_fresh_bm_uuid = false;
  uint64_t rs_gen = 0;            // identifies the run; 0 = none
  bool rs_done = false;           // ResyncDone sent; waiting for the target's UpToDate
  uint64_t rs_cursor = 0;         // next block the scan looks at
  uint64_t rs_total = 0;          // blocks to sync (bits set at the start, plus later marks)
  uint64_t rs_tokens = 0;         // bytes the current turn still allows to read
  ResyncController rs_ctl;        // turn sizes (fixed or dynamic) and c-min-rate
  uint64_t rs_io_sectors = 0;     // backing sectors this peer device's resync read
  // Checksum-based resync (csums-alg): the run sends digests first (source),
  // or received some (target); blocks found equal; blocks whose digest
  // differed, to be sent as data.
  bool rs_csums = false;
  uint64_t rs_same_csum = 0;
  std::set<uint64_t> rs_csum_differs;
  uint64_t rs_start_ns = 0;       // Env clock at the start of the run
  uint64_t rs_secs = 1;           // the finished run's unpaused seconds (at least 1)
  // Time the run spent paused (PausedSyncS/T): since when (Env clock; 0 =
  // not paused) and the total of earlier pauses, in ns.
  uint64_t rs_paused_at = 0;
  uint64_t rs_paused_ns = 0;
  sim::TimerId rs_timer = 0;      // rate tick
  std::set<uint64_t> rs_reading;  // blocks whose resync read is in flight
  std::set<uint64_t> rs_stale;    // of those, rewritten by the application meanwhile
  std::set<uint64_t> rs_sent;     // blocks sent, waiting for their WriteAck
  // Of those, rewritten here by a third node's write meanwhile: the copy
  // sent may predate it, so the ack leaves them marked (ResyncSawPeerWrite).
  std::set<uint64_t> rs_sent_stale;
  // Reads and sends of several adjacent blocks at once: first block ->
  // number of blocks (single blocks have no entry).
  std::map<uint64_t, uint32_t> rs_runs;
  uint64_t rs_bytes_sent = 0;     // resync data bytes sent to this peer, all runs
  // As SyncTarget: the source announced a run of rs_total blocks
  // (RESYNC_START); rs_received of them arrived so far.
  bool rs_target = false;
  uint64_t rs_received = 0;
  // As SyncTarget: blocks the application wrote here since the run began.
  // Resync data for them that arrives later may have been read at the
  // source before the write reached it; it is refused (engine_io.cc). For
  // a write from a third node: that node and the write's DATA id there,
  // whose PEER_ACK the refusal waits for.
  struct AppWrite {
    std::optional<uint32_t> peer;
    uint64_t id = 0;
  };
  std::map<uint64_t, AppWrite> rs_app_written;
  // Data bytes sent to / received from this peer (writes and resync).
  uint64_t sent_bytes = 0;
  uint64_t received_bytes = 0;
  // MDF_PEER_OUTDATED as quorum reads it (engine_quorum.cc): the peer's
  // disk was last seen Inconsistent or Outdated; kept while it is unknown.
  bool quorum_outdated = false;
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
  // Lost while a diskless Primary's new current UUID waits for
  // drbd_check_peers: connecting again once it is made
  // (Engine::DisklessBumpAfterCheck).
  bool connect_after_check = false;
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
  // Pinged by drbd_check_peers after a new current UUID, no answer yet
  // (Engine::StartCheckPeers).
  bool checking = false;
  sim::TimerId ko_timer = 0;  // ko-count check (ScheduleKoCheck)
  std::vector<std::string> listening;  // AddressToString of local addrs held
  // susp_fen: IO frozen while fence-peer runs (fencing resource-and-stonith).
  bool susp_fen = false;
  // Bumped whenever the connection is established (last_reconnect_jif): a
  // fence-peer answer that arrives after a reconnect is ignored.
  uint64_t reconnects = 0;
  // The kernel's RECONNECT connection flag: this connection was Connected
  // once and lost it (sent as UUID_FLAG_RECONNECT). Lives as long as the
  // connection object: a restarted node has none.
  bool was_connected = false;
  // Application writes received from this peer and not peer-acked yet
  // (engine_peer_ack.cc): DATA id -> (volume, byte offset, length).
  struct PeerReq {
    uint32_t volume = 0;
    uint64_t offset = 0;
    uint64_t len = 0;
  };
  std::map<uint64_t, PeerReq> unacked;
  // Run once the write with that DATA id is peer-acked or the connection
  // is lost (a refusal of resync data that waits for a third node's write
  // to reach the resync source: Engine::RefuseStaleResyncData).
  std::multimap<uint64_t, std::function<void()>> after_peer_ack;
  // The dagtag of the last application write received from this peer
  // (last_dagtag_sector; kept across reconnects, as the kernel keeps it).
  uint64_t last_dagtag = 0;
  // PEER_DAGTAGs from this peer about a node this side was still connected
  // to: lost node id -> the peer's dagtag. The kernel pings the lost node
  // and waits (drbd_ping_peer); here the ping goes out, the loss of that
  // connection takes the dagtag up and its PingAck drops it.
  std::map<uint32_t, uint64_t> pending_dagtags;
  // As the target of a reconciliation resync from this peer: the lost
  // node and the source's dagtag from it, this side's own once the run
  // ends (after_reconciliation_resync).
  std::optional<std::pair<uint32_t, uint64_t>> after_reconciliation;
  // Write epochs toward this peer (engine_congestion.cc): the open epoch's
  // number and writes, protocol A writes sent per epoch and not yet
  // barrier-acked (part of ap_in_flight; marked out of sync if the
  // connection goes first), and whether a BARRIER is queued.
  uint32_t epoch = 0;
  uint32_t epoch_writes = 0;
  struct EpochWrites {
    uint64_t sectors = 0;
    struct Range {
      uint32_t volume = 0;
      uint64_t offset = 0;  // bytes
      uint64_t len = 0;
    };
    std::vector<Range> ranges;
  };
  std::map<uint32_t, EpochWrites> epoch_ap;
  bool barrier_armed = false;
  // on-congestion: HANDLE_CONGESTION is queued (HANDLING_CONGESTION), and
  // the Ahead -> SyncSource timer (start_resync_timer) is running.
  bool congestion_pending = false;
  sim::TimerId ahead_timer = 0;
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
  // While diskless: the current UUID (primary bit clear) of the UpToDate
  // data a peer exposes (the kernel's exposed data UUID); an attach of a
  // disk with another current UUID comes up Outdated. 0: none known.
  uint64_t exposed_uuid = 0;
  // The last exposed UUID this node made itself (DisklessNewCurrent) and
  // the nodes that were weak (WeakNodes) then: they did not take it.
  uint64_t own_exposed = 0;
  uint64_t own_exposed_weak = 0;
  // drbd_uuid_new_current's test (get_ldev_if_state with D_UP_TO_DATE):
  // without an UpToDate disk of its own (none, or one still Negotiating,
  // Inconsistent, ...) a node's new data generation is an exposed UUID
  // that its peers store (DisklessNewCurrent).
  bool NewUuidWithoutDisk() const { return !data || disk != DiskState::kUpToDate; }
  // Connected to a diskless Primary that exposes other data than this
  // disk holds (sanitize_state's TRY_TO_GET_RESYNC): once the state change
  // is done, look for an UpToDate peer to resync from (TryToGetResynced).
  bool try_to_get_resync = false;
  // Diskless Primary: a connection lost with writes in flight asks for a
  // new current UUID once drbd_check_peers is through (not at the next
  // write); see Engine::DisklessBumpAfterCheck.
  bool diskless_bump_after_check = false;
  // The completions of the writes that connection loss cut off, held until
  // the new UUID is made or found impossible (drbd 9.2.19's
  // confirm-before-complete; DisklessBumpAfterCheck), with their ranges.
  struct HeldWrite {
    uint64_t offset = 0;
    uint64_t len = 0;
    std::function<void(int)> done;
  };
  std::vector<HeldWrite> bump_held;
  // The blocks of such writes that failed (EIO): some peers may hold them
  // and others not, so the marks toward every peer stay when a peer says
  // another holds its data there (HandlePeersInSync), until a write over
  // the block succeeds.
  std::set<uint64_t> failed_blocks;
  // While Negotiating (an attach while connected, drbd_adm_attach): the
  // disk state the metadata gives (disk_state_from_md), taken when no
  // peer decides otherwise (ResolveNegotiation, engine_net.cc).
  DiskState neg_disk = DiskState::kDiskless;
  // device_statistics (engine_io.cc), kept as the kernel keeps them: data
  // moved to and from the local backing device in 512-byte sectors
  // (application I/O, writes replicated from peers, resync and verify),
  // and requests in flight. Never reset while the minor exists.
  uint64_t read_sectors = 0;     // dev_read
  uint64_t written_sectors = 0;  // dev_write
  uint32_t upper_pending = 0;    // dev_upper_pending: client requests not yet completed
  uint32_t lower_pending = 0;    // dev_lower_pending: backing-device requests in flight
  // Activity log and bitmap write-back (engine_md.cc); set while attached.
  std::shared_ptr<DeviceMd> md_state;
  // have_quorum (engine_quorum.cc); yes while quorum is off.
  bool have_quorum = true;
  bool intentional_diskless = false;  // device_conf.intentional_diskless
  // The kernel's NEW_CUR_UUID after a promotion: the first write of the
  // new Primary starts a new data generation for every peer not UpToDate
  // (RotateUuidForAbsentPeers, engine_io.cc IoWrite).
  bool new_cur_uuid = false;
  // A rotation asked for while a handshake held the UUIDs (UuidLocked):
  // made once the last handshake is through (RunUuidWaiters).
  bool rotate_after_handshake = false;
  // A loss-time UUID bump (RotateUuidForAbsentPeers) that no write has used
  // yet: the UUID it rotated from and the one it made. The kernel bumps at
  // the next write (NEW_CUR_UUID), so peers lost before it share one bump.
  uint64_t unused_bump_from = 0;
  uint64_t unused_bump_to = 0;
};

struct Engine::Resource {
  std::string name;
  int32_t node_id = 0;
  OptionSet opts{cfg::OptContext::kResourceOptions};
  Role role = Role::kSecondary;
  bool susp_user = false;
  // EXPLICIT_PRIMARY: promoted by a primary request (not by an opener);
  // cleared whenever the resource is no longer Primary.
  bool explicit_primary = false;
  // susp_quorum: IO suspended after quorum was lost (on-no-quorum suspend-io).
  bool susp_quorum = false;
  std::map<uint32_t, Device> devices;          // by volume
  std::map<uint32_t, Connection> connections;  // by peer node id
  // dagtag_sector: 512-byte sectors of application writes submitted here,
  // carried by each DATA (the receiver's last_dagtag).
  uint64_t dagtag = 0;
  // Requests that arrived while IO was frozen for fencing (IoFrozen), run
  // again in order once it thaws (SetFencingSuspend).
  std::vector<std::function<void()>> frozen_io;
  // Writes that need a new current UUID while a handshake holds the UUIDs
  // (Engine::UuidLocked), run again in order once it is through.
  std::vector<std::function<void()>> uuid_waiters;
  // drbd_check_peers after a new current UUID: every connected peer was
  // pinged, and writes wait in uuid_waiters until each answered or was
  // dropped after ping-timeout (Engine::StartCheckPeers).
  bool checking_peers = false;
  // Cluster-wide state changes (engine_twopc.cc). A run this node takes
  // part in, by initiator node id: the peer its PREPARE came from (none:
  // this node started it), the peers whose replies are missing, and the
  // masks collected so far.
  struct TwoPc {
    uint64_t tid = 0;
    std::optional<uint32_t> parent;
    std::set<uint32_t> pending;
    uint64_t reachable_nodes = 0;
    uint64_t primary_nodes = 0;
    uint64_t weak_nodes = 0;
    std::string tag;                   // the change's name (initiator only)
    bool lost_peer = false;            // twopc_after_lost_peer (initiator only)
    std::vector<uint32_t> consistent;  // volumes waiting for it in Consistent
  };
  std::map<uint32_t, TwoPc> twopc;
  // The last change id prepared / committed here, by initiator: repeats
  // (the same change reaching a node on two ways) are not run again.
  std::map<uint32_t, uint64_t> twopc_prepared;
  std::map<uint32_t, uint64_t> twopc_committed;
  uint64_t twopc_last_tid = 0;
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
  // Our STATE went out and the handshake is not through: the UUIDs it
  // carried must not change (Engine::UuidLocked).
  bool uuid_lock = false;
  uint64_t sent_uuid_digest = 0;  // of the UUIDs in that STATE
  // The disk states that STATE carried, by volume: the handshake starts
  // over if one changed before the connection is up (MaybeEstablish).
  std::map<uint32_t, uint8_t> sent_disks;
  // Whether it carried bits toward the peer, by volume: the same, for a
  // first bit set (or the last cleared) meanwhile.
  std::map<uint32_t, bool> sent_marked;
  // The handshake's receive timeout (Bind); cancelled with the engine.
  sim::TimerId handshake_timer = 0;
  proto::State peer_state;
  // Receiving side of the write epochs (engine_congestion.cc): peer writes
  // numbered in arrival order, those not written yet, the writes of the
  // open epoch, and BARRIERs waiting for their writes: (number, first write
  // after the barrier, set size).
  uint64_t rx_seq = 0;
  std::set<uint64_t> rx_writing;
  uint32_t rx_epoch_writes = 0;
  struct RxBarrier {
    uint32_t number = 0;
    uint64_t boundary = 0;
    uint32_t set_size = 0;
    bool flushing = false;
  };
  std::vector<RxBarrier> rx_barriers;
  // The receiver's pauses (engine_congestion.cc), as the kernel's
  // receiver thread blocks: while waiting, messages the kernel sends on
  // the data socket queue in `rx_held` in order; those of its meta socket
  // (pings, acks) are still handled. rx_pages: 4 KiB pages of peer writes
  // not done yet (pp_in_use), rx_wait_pages: waiting because they reached
  // max-buffers, rx_slept: the next peer write allocates after that wait;
  // rx_wait_barrier: a BARRIER waits for its epoch's writes (and flush)
  // under the drain and flush write ordering.
  uint64_t rx_pages = 0;
  bool rx_wait_pages = false;
  bool rx_slept = false;
  bool rx_wait_barrier = false;
  sim::TimerId rx_pages_timer = 0;
  std::deque<proto::Message> rx_held;
  bool rx_resuming = false;  // ResumeReceive is handling rx_held
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
    bool susp_dep = false;
    bool susp_other_c = false;
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
  std::map<uint32_t, bool> quorum;     // have_quorum by volume
  bool susp_quorum = false;
  bool operator==(const ResState&) const = default;
};

struct Engine::Resolved {
  Resource* res = nullptr;
  Device* dev = nullptr;
  Connection* conn = nullptr;
  PeerDevice* pd = nullptr;
};

}  // namespace drbd::engine
