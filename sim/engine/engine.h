// SPDX-License-Identifier: GPL-2.0-or-later
// The drbd-simd engine: one simulated DRBD node. It keeps the kernel's
// object model (resources with resource options; devices/minors with volume
// numbers; connections per peer node id with net options; paths; peer
// devices with peer-device options), answers every control request with the
// kernel's validation and return codes, attaches backing storage through the
// metadata library, and runs connections to peer engines over the peer
// protocol (docs/formats/peer-protocol.md).
//
// Single-threaded and deterministic: the engine reaches the world only
// through sim::Env (no syscalls, clock, threads, sockets or randomness of
// its own). All methods must be called on the loop that delivers the Env's
// callbacks. See docs/design/drbd-simd.md.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "lib/events/model.h"
#include "lib/md/format.h"
#include "sim/engine/codes.h"
#include "sim/engine/options.h"
#include "sim/env/env.h"
#include "sim/proto/wire.h"

namespace drbd::engine {

using events::ConnState;
using events::DiskState;
using events::ReplState;
using events::Role;
using sim::Address;

inline constexpr uint32_t kNoMinor = ~0u;               // drbd_genlmsghdr.minor "none"
inline constexpr uint32_t kNodeIdMax = 32;              // DRBD_NODE_ID_MAX
inline constexpr uint32_t kVolumeMax = 65534;           // DRBD_VOLUME_MAX
inline constexpr uint32_t kMinorMask = (1u << 20) - 1;  // MINORMASK
inline constexpr int32_t kMetaIdxInternal = -1;         // DRBD_MD_INDEX_INTERNAL
inline constexpr int32_t kMetaIdxFlexExt = -2;          // DRBD_MD_INDEX_FLEX_EXT
inline constexpr int32_t kMetaIdxFlexInt = -3;          // DRBD_MD_INDEX_FLEX_INT

struct DeviceMd;  // sim/engine/engine_md.h

// What a request addresses (drbd_genlmsghdr.minor plus DRBD_NLA_CFG_CONTEXT).
struct Ctx {
  std::string resource;                  // ctx_resource_name; "" = absent
  std::optional<uint32_t> volume;        // ctx_volume
  std::optional<uint32_t> peer_node_id;  // ctx_peer_node_id
  uint32_t minor = kNoMinor;             // header minor
};

// attach: disk_conf.
struct DiskConf {
  std::string backing_dev;                   // backing_dev (required)
  std::string meta_dev;                      // meta_dev (required)
  int32_t meta_dev_idx = kMetaIdxFlexInt;    // meta_dev_idx (required)
  OptionSet opts{cfg::OptContext::kAttach};  // the other disk options
};

// The kernel's prepare flags (DRBD_ADM_NEED_*).
enum PrepareFlags : unsigned {
  kNeedMinor = 1,
  kNeedResource = 2,
  kNeedConnection = 4,
  kNeedPeerDevice = 8,
  kNeedPeerNode = 16,
};

class Engine {
 public:
  // `node_name` names the node in logs; `env` must outlive the engine.
  Engine(std::string node_name, sim::Env env);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // ---- control requests; each returns the kernel's reply code --------------
  Reply NewResource(const Ctx& ctx, int64_t node_id, const OptionSet& res_opts);
  Reply DelResource(const Ctx& ctx);
  Reply ResourceOptions(const Ctx& ctx, const OptionSet& change, bool set_defaults);
  // ctx.minor = the new minor, ctx.volume = its volume number.
  // `intentional_diskless`: device_conf intentional_diskless (new-minor
  // --diskless, drbdadm's `disk none`): events2 client:yes, its peers see a
  // client, and it is a quorum tiebreaker of its own.
  Reply NewMinor(const Ctx& ctx, uint32_t block_size = 512, bool intentional_diskless = false);
  Reply DelMinor(const Ctx& ctx);
  // Completes after the metadata was read: `done` runs later on the loop.
  void Attach(const Ctx& ctx, const DiskConf& conf, std::function<void(Reply)> done);
  Reply Detach(const Ctx& ctx, bool force);
  Reply DiskOptions(const Ctx& ctx, const OptionSet& change, bool set_defaults);
  Reply NewPeer(const Ctx& ctx, const std::string& conn_name, const OptionSet& net);
  Reply DelPeer(const Ctx& ctx, bool force);
  Reply NewPath(const Ctx& ctx, const Address& local, const Address& peer);
  Reply DelPath(const Ctx& ctx, const Address& local, const Address& peer);
  Reply NetOptions(const Ctx& ctx, const OptionSet& change, bool set_defaults);
  Reply PeerDeviceOptions(const Ctx& ctx, const OptionSet& change, bool set_defaults);
  Reply Connect(const Ctx& ctx, bool tentative, bool discard_my_data);
  Reply Disconnect(const Ctx& ctx, bool force);
  Reply Primary(const Ctx& ctx, bool force);
  // primary as drbd_set_role runs it with fencing (engine_helpers.cc):
  // refused only because a peer's disk is unknown (SS_PRIMARY_NOP), it runs
  // fence-peer toward the unconnected peers with fencing enabled and tries
  // again with their answers. `done` runs later on the loop.
  void PrimaryFenced(const Ctx& ctx, bool force, const std::function<void(Reply)>& done);
  Reply Secondary(const Ctx& ctx, bool force);
  Reply Down(const Ctx& ctx);
  // Runs `fn` once no `disconnected` handler of resource `res` is running
  // (at once if none is). The kernel runs that handler in the receiver
  // thread, which disconnect, del-peer and down stop and wait for: their
  // replies come after the handler exits.
  void AfterDisconnectedHandlers(const std::string& res, std::function<void()> fn);
  // Runs `fn` once the metadata of every disk a detach or down let go of is
  // on stable storage (at once if nothing is in flight). The kernel's
  // detach waits for the disk to leave D_DETACHING, after its last
  // metadata IO: a `drbdmeta dump-md` right after `drbdadm down` reads the
  // final bitmap and superblock.
  void AfterReleasedDisksDurable(std::function<void()> fn);
  Reply NewCurrentUuid(const Ctx& ctx, bool clear_bitmap);
  Reply Outdate(const Ctx& ctx);
  // invalidate / invalidate-remote with their parameters: `reset_bitmap`
  // false (--reset-bitmap=no) resyncs only the blocks already marked out of
  // sync on either side (WFBitMapT / WFBitMapS, the bitmap exchange of a
  // handshake) instead of every block; `sync_from` (invalidate's
  // sync-from-peer-node-id) names the one peer to sync from.
  Reply Invalidate(const Ctx& ctx, bool reset_bitmap = true,
                   std::optional<uint32_t> sync_from = std::nullopt);
  Reply InvalidateRemote(const Ctx& ctx, bool reset_bitmap = true);
  Reply PauseSync(const Ctx& ctx);
  Reply ResumeSync(const Ctx& ctx);
  Reply SuspendIo(const Ctx& ctx);
  Reply ResumeIo(const Ctx& ctx);
  // resize: resize_parms. Sizes in sectors, al_stripe_size_kb in KiB;
  // nullopt = keep the current activity-log layout.
  struct ResizeParms {
    uint64_t size = 0;                   // resize_size; 0 = as large as possible
    bool assume_peer_has_space = false;  // resize_force
    bool assume_clean = false;           // no_resync
    std::optional<uint32_t> al_stripes;
    std::optional<uint32_t> al_stripe_size_kb;
  };
  Reply Resize(const Ctx& ctx, const ResizeParms& p);
  // verify (START_OV): `start`/`stop` sectors from start_ov_parms.
  Reply StartVerify(const Ctx& ctx, std::optional<uint64_t> start, std::optional<uint64_t> stop);
  // forget-peer: `node_id` is forget_peer_parms.forget_peer_node_id;
  // nullopt = the parameter set was missing.
  Reply ForgetPeer(const Ctx& ctx, std::optional<int32_t> node_id);
  // rename-resource: nullopt = the parameter set was missing.
  Reply RenameResource(const Ctx& ctx, const std::optional<std::string>& new_name);
  // get-timeout-type: on NO_ERROR, `*type` is timeout_parms.timeout_type
  // (UT_DEFAULT 0, UT_DEGRADED 1, UT_PEER_OUTDATED 2).
  Reply GetTimeoutType(const Ctx& ctx, uint32_t* type);

  // ---- data path (engine_io.cc) ---------------------------------------------
  // Block I/O on a device as the kernel's block layer sees /dev/drbdN (the
  // NBD exports of drbd-simd are its clients). Byte offsets into the
  // device's data; completions always run later on the loop, never inside
  // the call. Errors are errno values (EIO, EROFS, EMEDIUMTYPE, ...).
  using IoDone = std::function<void(int err)>;
  using ReadDone = std::function<void(int err, std::vector<uint8_t> data)>;
  // Opens `minor` read-only as drbd_open does: with auto-promote a
  // Secondary may be opened if no peer is Primary and some disk (local or
  // peer) is UpToDate; without auto-promote only a Primary may be opened.
  // Returns a handle > 0, or 0 and *err. `who` names the opener as the
  // kernel's "comm:pid" in the auto-promote / auto-demote state change tags.
  uint64_t OpenDevice(uint32_t minor, int* err, const std::string& who = "drbd-simd:0");
  // Turns the open into a write open (drbd_open with FMODE_WRITE): a
  // Secondary with auto-promote is promoted (and demoted again when its last
  // writer closes). 0, or EROFS when the device stays Secondary.
  int OpenDeviceForWrite(uint64_t handle);
  // drbd_release. Unknown handles are ignored.
  void CloseDevice(uint64_t handle);
  // The size clients see in bytes (local usable size, or an UpToDate peer's
  // when diskless); nullopt for an unknown minor.
  std::optional<uint64_t> DeviceBytes(uint32_t minor) const;
  // Whether a write open of `minor` would be attempted (Primary, or
  // auto-promote on).
  bool DeviceMayWrite(uint32_t minor) const;
  // Openers of `minor` (read and write).
  uint32_t OpenCount(uint32_t minor) const;
  void IoRead(uint64_t handle, uint64_t offset, uint32_t len, ReadDone done);
  // Writes on a Primary: local disk plus every replicating peer, completed
  // as the connection's protocol (A, B, C) says; peers not replicating get
  // the range marked out of sync. `fua`: durable before completion.
  void IoWrite(uint64_t handle, uint64_t offset, std::vector<uint8_t> data, bool fua, IoDone done);
  void IoFlush(uint64_t handle, IoDone done);
  // 4 KiB blocks marked out of sync toward `peer`.
  std::optional<uint64_t> OutOfSyncBlocks(const std::string& res, uint32_t peer,
                                          uint32_t vol) const;
  // Whether 4 KiB block `block` is marked out of sync toward `peer` (the
  // deterministic simulator's bitmap invariant); nullopt for an unknown
  // peer device.
  std::optional<bool> BlockOutOfSync(const std::string& res, uint32_t peer, uint32_t vol,
                                     uint64_t block) const;
  // Resync data bytes this node sent to `peer` as SyncSource (all runs).
  std::optional<uint64_t> ResyncBytesSent(const std::string& res, uint32_t peer,
                                          uint32_t vol) const;

  // ---- fault injection (engine_faults.cc) -------------------------------------
  // The module's fault injection parameters (CONFIG_DRBD_FAULT_INJECTION):
  // `enable` is enable_faults, a bit mask of FaultType; `rate` is
  // fault_rate, the percentage of eligible requests that fail; `devs` is
  // fault_devs, a bit mask of minors (0 = every minor).
  enum FaultType : uint32_t {
    kFaultMdWr = 0,     // DRBD_FAULT_MD_WR "Meta-data write"
    kFaultMdRd = 1,     // "Meta-data read"
    kFaultRsWr = 2,     // "Resync write"
    kFaultRsRd = 3,     // "Resync read"
    kFaultDtWr = 4,     // "Data write"
    kFaultDtRd = 5,     // "Data read"
    kFaultDtRa = 6,     // "Data read ahead"
    kFaultBmAlloc = 7,  // "BM allocation"
    kFaultAlEe = 8,     // "EE allocation"
    kFaultReceive = 9,  // "receive data corruption"
    kFaultMax = 10,
  };
  struct Faults {
    uint32_t enable = 0;
    uint32_t rate = 0;
    uint32_t devs = 0;
  };
  void SetFaults(const Faults& f) { faults_ = f; }
  const Faults& faults() const { return faults_; }
  // fault_count: faults injected so far.
  uint64_t FaultCount() const { return fault_count_; }

  // ---- views ----------------------------------------------------------------
  // Every object as a kExists notification, in the kernel's
  // GET_INITIAL_STATE order (per resource: resource, devices, connections,
  // peer devices, paths).
  // With `only` non-empty, just that resource's objects; with
  // `resources_only`, just the resources (what GET_RESOURCES lists).
  std::vector<events::Notification> InitialState(const std::string& only = "",
                                                 bool resources_only = false) const;

  // Current states, for tests and dumps. nullopt if the object is unknown.
  std::optional<Role> ResourceRole(const std::string& res) const;
  std::optional<DiskState> DiskStateOf(uint32_t minor) const;
  // have_quorum of `minor`; susp-io(quorum) of `res` (engine_quorum.cc).
  std::optional<bool> HasQuorum(uint32_t minor) const;
  std::optional<bool> SuspendedForQuorum(const std::string& res) const;
  std::optional<ConnState> ConnStateOf(const std::string& res, uint32_t peer) const;
  std::optional<Role> PeerRoleOf(const std::string& res, uint32_t peer) const;
  std::optional<ReplState> ReplStateOf(const std::string& res, uint32_t peer, uint32_t vol) const;
  std::optional<DiskState> PeerDiskOf(const std::string& res, uint32_t peer, uint32_t vol) const;
  std::optional<uint64_t> CurrentUuidOf(uint32_t minor) const;
  // Configuration, for the genl dump replies `drbdsetup show` reads.
  struct ResourceConfig {
    int32_t node_id = 0;
    OptionSet opts{cfg::OptContext::kResourceOptions};
  };
  struct DeviceConfig {
    bool attached = false;
    std::string backing_dev;
    std::string meta_dev;
    int32_t meta_dev_idx = kMetaIdxFlexInt;  // as requested at attach
    OptionSet opts{cfg::OptContext::kAttach};
  };
  struct ConnectionConfig {
    std::string name;
    OptionSet net{cfg::OptContext::kNewPeer};
    std::vector<std::pair<Address, Address>> paths;  // (local, peer)
  };
  std::optional<ResourceConfig> ResourceConfigOf(const std::string& res) const;
  std::optional<DeviceConfig> DeviceConfigOf(uint32_t minor) const;
  std::optional<ConnectionConfig> ConnectionConfigOf(const std::string& res, uint32_t peer) const;
  std::optional<OptionSet> PeerDeviceOptionsOf(const std::string& res, uint32_t peer,
                                               uint32_t vol) const;
  // The minor of volume `vol` of `res`.
  std::optional<uint32_t> MinorOf(const std::string& res, uint32_t vol) const;
  // Names of all resources, sorted.
  std::vector<std::string> ResourceNames() const;

 private:
  struct PeerDevice;
  struct Path;
  struct Connection;
  struct Device;
  struct Resource;
  struct Session;
  struct ResState;
  struct Resolved;

  // Request plumbing.
  Ret Prepare(const Ctx& ctx, unsigned flags, Reply& reply, Resolved& out);
  // Runs `body` on what `ctx` addresses once Prepare resolved it with
  // `flags`; otherwise the reply carries Prepare's error.
  Reply Serve(const Ctx& ctx, unsigned flags, const std::function<void(Reply&, Resolved&)>& body);
  Resource* FindResource(const std::string& name);
  const Resource* FindResource(const std::string& name) const;
  Device* FindMinor(uint32_t minor);
  const Device* FindMinor(uint32_t minor) const;
  Resource* ResourceOfMinor(uint32_t minor);
  // Connection `peer` of resource `res` (and the resource), nullptr if gone.
  Connection* FindConnection(const std::string& res, uint32_t peer, Resource** res_out = nullptr);
  const Connection* FindConnection(const std::string& res, uint32_t peer) const;
  const PeerDevice* FindPeerDevice(const std::string& res, uint32_t peer, uint32_t vol) const;

  // State changes: capture, validate, apply, notify.
  ResState Capture(const Resource& r) const;
  Ret ValidateSoft(const Resource& r, const ResState& o, const ResState& n) const;
  Ret ValidateHard(const Resource& r, const ResState& o, const ResState& n) const;
  // Validates (soft unless `hard`), then applies `n` and emits the
  // notifications and log lines tagged `tag`. Returns SS_* codes.
  Ret Change(Resource& r, const ResState& n, bool hard, const std::string& tag);
  void Apply(Resource& r, const ResState& n);
  void Notify(const Resource& r, const ResState& o, const ResState& n, const std::string& tag);

  // Notifications.
  events::Notification ResourceNote(const Resource& r, events::NotifyType t) const;
  events::Notification DeviceNote(const Resource& r, const Device& d, events::NotifyType t) const;
  events::Notification ConnectionNote(const Resource& r, const Connection& c,
                                      events::NotifyType t) const;
  events::Notification PeerDeviceNote(const Resource& r, const Connection& c, const PeerDevice& pd,
                                      events::NotifyType t) const;
  events::Notification PathNote(const Resource& r, const Connection& c, const Path& p,
                                events::NotifyType t) const;
  void Emit(const events::Notification& n);
  // Emits `notes` as one event chain: all but the last marked continuing.
  void EmitChain(std::vector<events::Notification> notes);
  void Log(const std::string& line);
  std::string Prefix(const Resource& r) const;
  std::string Prefix(const Resource& r, const Device& d) const;
  std::string Prefix(const Resource& r, const Connection& c) const;
  std::string Prefix(const Resource& r, const Device& d, const Connection& c) const;

  // Devices and metadata.
  // The device of an attach still in progress (generation GEN), or nullptr
  // after answering DONE "attach interrupted".
  Device* AttachingDevice(const std::string& res, uint32_t minor, uint64_t gen,
                          const std::function<void(Reply)>& done, Resource** r);
  // An attach failed with RET: TEXT logged and returned, the disk Diskless.
  void AttachFailed(Resource& r, Device& d, Ret ret, const std::string& text,
                    const std::function<void(Reply)>& done);
  void FinishAttach(const std::string& res, uint32_t minor, uint64_t gen, const DiskConf& conf,
                    bool ok, std::vector<uint8_t> bytes, std::function<void(Reply)> done);
  DiskState DiskStateFromMd(const Device& d) const;
  // Writes the superblock (preceded and followed by a flush); `on_durable`
  // runs once it is on stable storage, or failed, or was not written.
  void WriteMetadata(Device& d, std::function<void()> on_durable = {});
  uint64_t NewUuid();
  // Gives `c` its peer device of `d`; returns that peer device's create event.
  events::Notification AddPeerDevice(Resource& r, Connection& c, Device& d);
  Ret TryDisconnect(Resource& r, Connection& c, bool force, const std::string& tag);
  void DeleteConnection(Resource& r, uint32_t peer_node_id);
  Ret DetachDevice(Resource& r, Device& d, bool force, const std::string& tag);
  Ret DeleteMinor(Resource& r, uint32_t volume);
  Ret DeleteResource(const std::string& name);
  // suspend-io / resume-io: the resource's user suspension set to `on`.
  Reply SetSuspUser(const Ctx& ctx, bool on, const std::string& tag);
  // Gives `d` the data size `size` (sectors) and the metadata layout of
  // `sb` (moved metadata: fresh activity log and bitmap written first).
  void SetDeviceSize(Resource& r, Device& d, const md::Superblock& sb, uint64_t size,
                     bool md_moved);
  // A connected peer announced `size` sectors: grow `d` to it if the
  // backing device has room (the receiving side of a resize).
  void FollowPeerSize(Resource& r, Device& d, uint64_t size);
  // The most data `d`'s backing device can hold with the layout of `sb`
  // on a metadata device of `meta_bytes` (drbd_local_max_size).
  uint64_t LocalMaxSize(const Device& d, const md::Superblock& sb, uint64_t meta_bytes) const;
  // Online verify messages of the peer protocol.
  void HandleVerify(Resource& r, Connection& c, const proto::Verify& v);
  // Ends the verify of `vol` toward `c` (VerifyS/T -> Established).
  void FinishVerify(Resource& r, Connection& c, uint32_t vol, uint64_t out_of_sync);
  // VerifyS: reads the next run of blocks and sends their digests.
  void SendVerifyBlocks(Resource& r, Connection& c, uint32_t vol);
  // The handshake's answer to blocks an online verify marked toward `c`
  // while the generation UUIDs stayed equal. `decided` is DecideRepl's
  // outcome; when it is no-sync (Established) with both disks at least
  // Outdated and equal UUIDs, and the last verify left marks, returns
  // SyncSource (bitmap-based) or SyncTarget: the source is the Primary,
  // else the side that ran the verify. Otherwise returns `decided`. The
  // marks' flag is consumed either way. See docs/compat.md.
  ReplState VerifyRepairRepl(Resource& r, Connection& c, Device& d, PeerDevice& pd, Role peer_role,
                             ReplState decided);
  // Keys every runtime reference to resource `from` to `to` (rename).
  void RekeyResource(const std::string& from, const std::string& to);

  // Data path (engine_io.cc): the peer's data messages (true if `m` was
  // one), and completing every request still waiting on `c` when it goes.
  struct IoState;
  IoState& Io();
  // May move block data out of `m`.
  bool HandleDataMessage(Session& s, Resource& r, Connection& c, proto::Message& m);
  void AbortPeerIo(Resource& r, Connection& c);
  // Counts one part of request `id` done; the last part completes it.
  void FinishIo(uint64_t id);
  // The peer's disk is UpToDate: its acknowledgement completes a write.
  bool PeerHoldsGoodCopy(const Connection& c, uint32_t volume) const;
  // Message `mid` sent to `peer` of `res` was answered (or its connection
  // went: ok false).
  void ResolveWait(const std::string& res, uint32_t peer, uint64_t mid, bool ok,
                   const std::vector<uint8_t>* read_data);

  // A backing-device request of `minor` failed in `where` (the kernel's
  // function name): the on-io-error policy. detach (and
  // call-local-io-error): the disk goes Failed, then Diskless
  // (engine_io.cc); pass_on: nothing, the error goes up. A metadata
  // error (`meta`, DRBD_META_IO_ERROR) detaches under pass_on too.
  void LocalIoError(uint32_t minor, const std::string& where, bool meta = false);
  // Whether some device of `r` is open for writing (engine_io.cc).
  bool HasWriter(const Resource& r) const;
  // Device statistics (engine_io.cc): a backing-device request of `bytes`
  // on `d` is issued (counted in read or written, lower-pending + 1) /
  // completes (lower-pending - 1 on `minor`, if it still exists).
  void LowerIssued(Device& d, uint64_t bytes, bool write);
  void LowerDone(uint32_t minor);
  // The open: field changed with the opener count of `minor`: a device
  // change notification, as the kernel sends one.
  void NotifyOpenChange(uint32_t minor);
  // resource_statistics.write_ordering as the kernel picks it from the disk
  // options of the attached devices (flush > drain > none).
  events::WriteOrdering WriteOrderingOf(const Resource& r) const;
  // connection_statistics: application and resync data sent to `c` and
  // not yet answered, in sectors.
  events::ConnectionStatistics ConnectionStatsOf(const Resource& r, const Connection& c) const;
  // Resync (engine_resync.cc). Starts a run for every peer device that
  // became SyncSource / PausedSyncS, stops runs of those that left it, and
  // lets running ones send; called after every state change.
  void SyncResyncRuns(Resource& r);
  // resync-after (engine_resync.cc), as the kernel's drbd_resync_after_valid,
  // __drbd_may_sync_now, drbd_pause_after and drbd_resume_next.
  // NO_ERROR, ERR_RESYNC_AFTER (below -1) or ERR_RESYNC_AFTER_CYCLE for
  // minor `minor` depending on `resync_after`.
  Ret CheckResyncAfter(uint32_t minor, int64_t resync_after) const;
  // Whether a resync of device `d` may run: no device up its resync-after
  // chain resyncs, verifies or has a suspended resync.
  bool MaySyncNow(const Device& d) const;
  // Part of every state change: a peer device that starts resyncing gets
  // its dependency flag, and a suspended resync is Paused (and back).
  void SanitizeResyncSusp(const Resource& r, const ResState& o, ResState& n) const;
  // Re-evaluates every dependency flag as a later loop event (when some
  // device has a resync-after dependency or a flag is set).
  void ArmResyncAfter();
  // "Resync suspended" / "Syncer continues." and the paused time of a run.
  void TrackResyncPause(Resource& r, Connection& c, PeerDevice& pd);
  void UpdateResyncAfter();
  // The rate turn of run `gen`: refills the bucket (fixed rate) or asks
  // the dynamic controller for this turn's size (unless `refill` is false,
  // the first arming of a fixed-rate run), re-arms itself and sends.
  void ResyncTick(const std::string& res, uint32_t peer, uint32_t vol, uint64_t gen, bool refill);
  // Sends the out-of-sync blocks of `vol` toward `peer` the rate allows.
  void PumpResync(const std::string& res, uint32_t peer, uint32_t vol);
  // A resync block's WriteAck (or its loss: ok false).
  void ResyncAcked(const std::string& res, uint32_t peer, uint32_t vol, uint64_t gen,
                   uint64_t block, bool ok);
  // `blocks` resync blocks of run `gen` came back (acknowledged or
  // dropped): counted for the controller, which may want an early turn.
  void ResyncCameIn(const std::string& res, uint32_t peer, uint32_t vol, uint64_t gen,
                    uint64_t blocks);
  // A message id for resync data at `offset` whose WriteAck goes to
  // ResyncAcked (engine_io.cc keeps the waits).
  uint64_t AddResyncWait(const std::string& res, uint32_t peer, uint32_t vol, uint64_t gen,
                         uint64_t offset, uint32_t len);
  // The SyncTarget side: a run starts.
  void HandleResyncStart(Resource& r, Connection& c, const proto::ResyncStart& m);

  // Bitmap exchange (engine_bitmap.cc): a handshake's SyncSource /
  // SyncTarget first passes WFBitMapS / WFBitMapT, a live full resync
  // (invalidate, invalidate-remote) StartingSyncS / StartingSyncT, as the
  // module does. ExchangeFirst maps a decided SyncSource/SyncTarget to the
  // WFBitMap state; BitmapPhaseDisks applies that state's disk views (the
  // target Outdated, its peer Consistent at the source).
  static ReplState ExchangeFirst(ReplState decided);
  static void BitmapPhaseDisks(ReplState repl, DiskState* disk, DiskState* peer_disk);
  // From SyncResyncRuns: peer devices that entered a phase take its first
  // step as a later loop event (the source sends its BITMAP; StartingSyncS
  // marks every block), and leave it when the run starts.
  void SyncBitmapPhases(Resource& r);
  // Whether a BITMAP for `vol` belongs to an exchange this side is in (or
  // is about to enter, as a not UpToDate Established side); others are
  // dropped (an exchange both ends left, the same data reached another way).
  bool BitmapWanted(Resource& r, Connection& c, uint32_t vol) const;
  // The peer's last BITMAP for `vol` arrived (after HandleBitmap merged it).
  void BitmapReceived(Resource& r, Connection& c, uint32_t vol);
  // RESYNC_REQUEST (invalidate / invalidate-remote on the peer).
  void HandleResyncRequest(Resource& r, Connection& c, const proto::ResyncRequest& m);
  // The handshake a resync decided on a live connection logs (the kernel's
  // second drbd_sync_handshake): just-created-peer / -self, or both-off.
  void LogLiveHandshake(Resource& r, Connection& c, Device& d, bool source);
  // The metadata flags show-gi reports (device statistics): the on-disk
  // ones, plus what the module shows around a peer's Primary role and a
  // running resync (captures 01, 03, 12a, 13): a Secondary connected to a
  // Primary shows "primary" and "AL disabled"; a SyncTarget "consistent"
  // and "was up-to-date". The superblock keeps MdOnDiskFlags.
  uint32_t GiFlags(const Resource& r, const Device& d) const;
  // Checksum-based resync: a block digest (target) or the answer (source).
  void HandleResyncCsum(Resource& r, Connection& c, const proto::ResyncCsum& m);
  // The SyncTarget side: every block arrived.
  void HandleResyncDone(Resource& r, Connection& c, const proto::ResyncDone& m);
  // An application write of [offset, offset+len) replicated to `pd` while
  // it resyncs: covered blocks are clean, blocks being read are stale.
  void ResyncSawWrite(PeerDevice& pd, uint64_t offset, uint64_t len);
  // A write of [offset, offset+len) on `d` from peer `from` (another node's
  // application write) reached this node, or its disk: each resync this
  // node runs as source toward another peer treats the blocks it is reading
  // or has sent as stale. Their copy may predate the write, which the
  // target only gets from the writer if it was connected there when the
  // write began; acked, they stay marked here and no PEERS_IN_SYNC names
  // them, so the run sends them again.
  void ResyncSawPeerWrite(Resource& r, Device& d, uint32_t from, uint64_t offset, uint64_t len);
  // As SyncTarget (engine_io.cc): an application write of [offset,
  // offset+len) reached the local disk; resync data for those blocks that
  // arrives later is refused (RefuseStaleResyncData, true: do not write it).
  // `from_peer`: a peer's write, not noted toward that peer (its own
  // resync source side sees its writes: ResyncSawWrite).
  void NoteSyncTargetWrite(Resource& r, Device& d, uint64_t offset, uint64_t len,
                           std::optional<uint32_t> from_peer = std::nullopt, uint64_t id = 0);
  // `send_refusal` sends the refusing WRITE_ACK: at once, or, where a third
  // node's write made the block stale, once that write is peer-acked (it
  // has then reached the source too, which reads the block again on the
  // refusal).
  bool RefuseStaleResyncData(Resource& r, PeerDevice& pd, uint64_t offset, uint64_t len,
                             const std::function<void()>& send_refusal);
  // A Primary with UpToDate data writes while peers are away: the current
  // UUID moves into their bitmap UUIDs and a new one is made (once).
  void RotateUuidForAbsentPeers(Resource& r, Device& d);
  // Whether RotateUuidForAbsentPeers would make a new current UUID now,
  // and whether peer `c` counts as absent for it.
  static bool RotationAbsent(const Connection& c, const Device& d);
  bool RotationDue(const Resource& r, const Device& d) const;
  // A diskless Primary's new data generation (drbd_uuid_new_current
  // without a disk): when a connected UpToDate peer shows no earlier bump,
  // or a lost peer may still be on the exposed UUID, it makes a new current
  // UUID and sends it to its established peers, which take it over
  // (engine_io.cc).
  bool DisklessNeedsNewCurrent(const Resource& r, const Device& d) const;
  // A write that failed (EIO) after it went to peers: some may hold it and
  // others not. Its blocks are marked toward every peer and kept so
  // (Device::failed_blocks) until a write over them succeeds.
  void MarkFailedWrite(Resource& r, Device& d, uint64_t offset, uint64_t len);
  // may_return_to_up_to_date: no diskless Primary among the peers (in `n`)
  // exposes other data than this disk's current UUID.
  bool MayReturnToUpToDate(const Resource& r, const Device& d, const ResState& n) const;
  // drbd_try_to_get_resynced: a disk that a diskless Primary's exposed UUID
  // made Consistent resyncs from an UpToDate peer (engine_net.cc).
  void TryToGetResynced(Resource& r, Device& d);
  void DisklessNewCurrent(Resource& r, Device& d);
  // The kernel's uuid_sem read side during a handshake (conn_connect2
  // takes it before sending UUIDs and STATE; the state change that
  // establishes or aborts the connection drops it): while a session holds
  // it, no new current UUID is made, so both ends decide on the UUIDs they
  // exchanged. Writes that need one wait in Resource::uuid_waiters.
  bool UuidLocked(const Resource& r) const;
  void SendHandshakeState(Session& s, Resource& r, Connection& c);
  void DropUuidLock(Session& s);
  void RunUuidWaiters();
  // RunUuidWaiters on a later event, once nothing holds the UUIDs.
  void ScheduleUuidWaiters(Resource& r);
  // drbd_check_peers (drbd_sender.c) after a new current UUID: pings every
  // connected peer; writes wait (Resource::checking_peers) until each has
  // answered or, after ping-timeout, was dropped (NetworkFailure), so the
  // rotation covers a peer that died unnoticed. Nothing to wait for when
  // no peer is connected.
  void StartCheckPeers(Resource& r);
  void MaybeFinishCheckPeers(Resource& r);
  // A diskless Primary that lost a peer with writes in flight makes its new
  // current UUID once the check of the peers is through (engine_net.cc).
  void DisklessBumpAfterCheck(Resource& r);
  // This node's own cluster-wide change still owes volume `vol` its
  // UpToDate (twopc_after_lost_peer left it Consistent).
  bool TwoPcOwesUpToDate(const Resource& r, const Device& d) const;

  // Persisted bitmap and activity log (engine_md.cc). Attach, once the
  // superblock is accepted: gives every peer device a bitmap slot, applies
  // an unclean activity log, writes a fresh one and loads the bitmap into
  // the peer devices; `next` gets NO_ERROR or the failure and its text.
  void MdAttach(Resource& r, Device& d, const std::function<void(Ret, std::string)>& next);
  // Graceful detach: dirty bitmap pages written, the activity log clean.
  void MdDetach(Resource& r, Device& d);
  // A peer device created while `d` is attached gets a bitmap slot.
  void MdAssignSlot(Resource& r, Connection& c, Device& d);
  // The superblock flags as written while attached (AL_CLEAN cleared,
  // PRIMARY_IND / CRASHED_PRIMARY while Primary, AL_DISABLED).
  uint32_t MdOnDiskFlags(const Device& d) const;
  // After every state change: crashed-Primary bookkeeping, bitmap flush.
  // Writes the bitmap once the superblock writes in flight are durable, and
  // holds the peer writes behind it until the pages are: a SyncTarget's
  // exchanged bitmap never reaches the disk ahead of the state that says
  // Inconsistent, and the run's data never ahead of the bitmap.
  void MdFlushBitmapAfterSuperblock(Device& d);
  void MdStateChanged(Resource& r);
  // Writes the changed bitmap pages within bitmap bytes [from, to).
  void MdFlushBitmap(Resource& r, Device& d, uint64_t from, uint64_t to);
  // Nothing out of sync toward `pd` any more: its bits cleared and, with a
  // disk, the bitmap written back.
  void ClearOutOfSync(Resource& r, Device& d, PeerDevice& pd);
  // Writes the changed bitmap pages of `minor` a little later.
  void MdArmFlush(uint32_t minor);
  // Before a local write of [offset, offset + len): true if its extents
  // are in the activity log (and now pinned); false if `retry` will run
  // once an AL transaction brought them in.
  bool AlBeginWrite(Device& d, uint64_t offset, uint64_t len, std::function<void()> retry);
  // A replicated write of [offset, offset + len) on `minor`: `write` runs
  // once its extents are in the activity log (pinned until AlEndWrite).
  void PeerWriteThroughAl(uint32_t minor, uint64_t offset, uint64_t len,
                          std::function<void()> write);
  // Replicated writes to `d` take AL transactions (not with one peer slot).
  static bool PeerWritesUseAl(const Device& d);
  // The local write of [offset, offset + len) that AlBeginWrite admitted
  // on `md` completed.
  void AlEndWrite(const std::shared_ptr<DeviceMd>& md, uint32_t minor, uint64_t offset,
                  uint64_t len);
  // Writes the next AL transaction for waiting writes, if none is in flight.
  void AlPump(uint32_t minor);

  // Usermode helpers and fencing (engine_helpers.cc).
  // The handler's exit code as the kernel's callers read it ((wait status
  // >> 8) & 0xff; 0 when the helper could not run), or kHelperDisabled when
  // the env has no helper runner (DRBD_UMH_DISABLED).
  static constexpr int kHelperDisabled = -1;
  using HelperDone = std::function<void(int exit_code)>;
  // Runs handler `name` for `r` as drbd_maybe_khelper(device, connection,
  // name): argv {helper, name, r.name}, the kernel's environment for `d`
  // and/or `c` (either may be null, not both), a "helper command:" log line
  // and an events2 call notification now, the response notification and log
  // line when it exits. `done` (optional) runs later on the loop, also when
  // helpers are disabled; it must look its objects up again by name, since
  // they may be gone by then.
  void CallHelper(Resource& r, Connection* c, Device* d, const std::string& name,
                  const HelperDone& done = {});
  // Called by Change() after every applied state change: the helpers and
  // fencing steps the kernel's after-state-change work takes (IO frozen for
  // fencing, fence-peer after a lost connection, unfence-peer,
  // disconnected, before/after-resync-*).
  void HelpersStateChanged(Resource& r, const ResState& o, const ResState& n,
                           const std::string& tag);
  // conn_try_outdate_peer: runs fence-peer for `c` and applies its answer;
  // `done(true)` if every peer disk of `c` is now Outdated or worse.
  void TryOutdatePeer(Resource& r, Connection& c, const std::string& tag,
                      const std::function<void(bool outdated)>& done = {});
  // A resync handler of (`res`, `peer`, `vol`) failed: logs `why` on the
  // device and, with `drop`, takes the connection down (Disconnecting).
  void DropAfterHelper(const std::string& res, uint32_t peer, uint32_t vol, const std::string& why,
                       bool drop = true);
  // Sets or clears susp-io(fencing) on `c`, with the resource change
  // notification and log line; clearing releases the frozen IO.
  void SetFencingSuspend(Resource& r, Connection& c, bool on, const std::string& tag);
  // True if IO of `r` is frozen (some connection is susp-fen); a request
  // that finds it so parks itself in Resource::frozen_io.
  bool IoFrozen(const Resource& r) const;

  // Quorum (engine_quorum.cc), as the 9.x kernel's calc_quorum: voters
  // are this node and the peers with a bitmap slot, a seen disk or a node
  // record; absent peers count as unknown, or outdated (not voting when no
  // peer is unknown); intentional diskless peers only break ties.
  struct QuorumInfo {
    int up_to_date = 0;
    int present = 0;
    int voters = 0;
    int quorum_at = 0;
    int min_redundancy_at = 0;
  };
  // Whether volume `vol` of `r` has quorum in state `s` (`was`: it had
  // it before, for the tiebreaker); `qi` (optional) gets the counts.
  bool CalcQuorum(const Resource& r, uint32_t vol, const ResState& s, bool was,
                  QuorumInfo* qi) const;
  // sanitize_state's part: every volume's quorum and susp-io(quorum) of
  // the state `n` being built from the rest of it.
  void SanitizeQuorum(const Resource& r, ResState& n) const;
  // The state error text of a promotion refused with SS_NO_QUORUM.
  std::string NoQuorumText(const Resource& r, const ResState& n) const;
  // After an applied change: quorum-lost on a Primary, parked IO released
  // when susp-io(quorum) ends.
  void QuorumStateChanged(Resource& r, const ResState& o, const ResState& n);
  // on-no-quorum io-error and volume `d` has no quorum: new IO fails (the
  // kernel's cached_err_io).
  bool QuorumFailsIo(const Resource& r, const Device& d) const;
  // The resource option `quorum` is not off.
  bool QuorumEnabled(const Resource& r) const;

  // Networking and the peer protocol.
  void StartConnecting(Resource& r, Connection& c);
  void StopNetworking(Resource& r, Connection& c);
  void Dial(const std::string& res, uint32_t peer);
  void ArmConnectRetry(const std::string& res, uint32_t peer);
  void ListenOn(const Address& a);
  void UnlistenOn(const Address& a);
  void OnAccept(std::unique_ptr<sim::Stream> s, const Address& local);
  // Makes `s` the stream of `c`, resolving a collision with another stream
  // (both nodes keep the one dialed by the lower node id). False if `s`
  // lost and was closed.
  bool Bind(Session& s, Resource& r, Connection& c);
  // Established peer devices whose disks now differ start the resync the
  // disk states call for (UpToDate -> Inconsistent peer).
  void ReevaluateRepl(Resource& r);
  uint64_t AddSession(std::unique_ptr<sim::Stream> s, bool dialed_by_me, const std::string& res,
                      std::optional<uint32_t> peer);
  void OnSessionData(uint64_t id, std::span<const uint8_t> data);
  void OnSessionClosed(uint64_t id, sim::NetError err);
  void HandleMessage(Session& s, proto::Message m);
  void Send(Session& s, const proto::Message& m);
  // The stream that owns `c`, nullptr if none.
  Session* SessionOf(const Connection& c);
  void CloseSession(uint64_t id);
  Connection* ConnectionOf(const Session& s, Resource** res_out = nullptr);
  void SendHandshakeAfterHello(Session& s, Resource& r, Connection& c);
  void MaybeEstablish(Session& s, Resource& r, Connection& c);
  proto::State LocalState(const Resource& r, uint32_t peer) const;
  proto::Protocol LocalProtocol(const Connection& c) const;
  // This side's STATE to every connected peer but `except_peer` (none by
  // default).
  void BroadcastState(Resource& r, std::optional<uint32_t> except_peer = std::nullopt);
  void ApplyPeerState(Resource& r, Connection& c, const proto::State& st, bool initial);
  // An attach while connected (engine_net.cc): the attaching device `d`
  // is Negotiating. The peer decides the resync with its sync handshake
  // and answers with a STATE showing a disk for `d`; `d` follows that
  // answer (FollowNegotiation, into `n`), and once every connected peer
  // with a disk answered (or went away) ResolveNegotiation sets `d`'s disk
  // and replication states in `n` (the kernel's D_NEGOTIATING and
  // negotiation_result, sanitize_state). True: the connection is to be
  // tried again (a Primary refuses a stale sync source, DecideRepl).
  bool FollowNegotiation(Resource& r, Connection& c, Device& d, PeerDevice& pd,
                         const proto::VolumeState& vs, bool initial, ResState& n);
  void ResolveNegotiation(Resource& r, Device& d, ResState& n);
  // A disk attached to a device that had none holds its own data: the UUID
  // the device exposed without it is dropped, except on a Primary whose new
  // disk is Inconsistent. Until that disk is UpToDate the Primary's data
  // is still the exposed generation, and a peer that missed it is no sync
  // source (DecideRepl; beyond 9.2.18, which keeps exposed_data_uuid for
  // diskless devices only; detsim --nodes=3 --seed=0x1cff0ca17e43916f).
  static void KeepExposedWhileInconsistent(const Resource& r, Device& d, DiskState disk);
  // `d` took over the UUID of `from`, which skipped the initial sync
  // (new-current-uuid --clear-bitmap there): bitmaps cleared, the skip
  // passed on to other just-created peers (engine_net.cc).
  void AdoptSkippedInitialSync(Resource& r, Connection& from, Device& d);
  // What a sync handshake decided for one peer device besides its
  // replication state.
  struct HandshakeOut {
    bool drop = false;         // drop the connection: StandAlone (split brain, rr-conflict, ...)
    bool retry = false;        // drop and reconnect (rr-conflict retry-connect)
    bool use_bitmap = false;   // SyncSource of a bitmap-based (not full) sync
    bool send_bitmap = false;  // SyncTarget of a bitmap-based sync: send our bitmap
    // Rule bitmap-self-other (source-copy-other-bitmap): this SyncSource's
    // bits toward the peer start as a copy of its bits toward node
    // `copy_from`. Rule bitmap-peer-other (target-clear-bitmap): this
    // SyncTarget clears its own bits; the source brings the bitmap.
    int copy_from = -1;
    bool clear_bitmap = false;
  };
  // bitmap_mod_after_handshake: carries out `hs`'s copy_from /
  // clear_bitmap on `pd` once the handshake decided `repl`.
  void BitmapAfterHandshake(Resource& r, Connection& c, Device& d, PeerDevice& pd,
                            const HandshakeOut& hs, ReplState repl);
  // drbd_sync_handshake for `pd` with the peer's role `peer_role`; `n` is
  // the state being built (its role changes if call-pri-lost-after-sb
  // demotes this node).
  ReplState DecideRepl(Resource& r, Connection& c, Device& d, PeerDevice& pd, Role peer_role,
                       ResState& n, HandshakeOut* out);
  static int PeerBitmapFor(const PeerDevice& pd, uint64_t uuid);
  static int OwnBitmapFor(const Resource& r, const Device& d, uint64_t uuid);
  // drbd_uuid_detect_finished_resyncs for equal current UUIDs: which side
  // missed the end of the last resync between us (rules
  // sync-source-missed-finish / sync-target-peer-missed-finish); `my_bm` is
  // our bitmap UUID toward the peer, `peer_bm` the peer's toward us.
  enum class Missed { kNone, kSourceMissedEnd, kPeerMissedEnd };
  Missed MissedEndOfResync(Resource& r, Connection& c, Device& d, const PeerDevice& pd,
                           uint64_t my_bm, uint64_t peer_bm);
  // Split brain (engine_sb.cc). The UUID comparison found one
  // (`auto_recover`: rule bitmap-both, else history-both): initial-split-brain,
  // the after-sb policies, --discard-my-data; SyncSource / SyncTarget, or
  // Off with out->drop (unresolved: split-brain handler).
  ReplState ResolveSplitBrain(Resource& r, Connection& c, Device& d, PeerDevice& pd,
                              Role peer_role, ResState& n, bool auto_recover, HandshakeOut* out);
  // A decided direction's last checks: --discard-my-data reversal and
  // rr-conflict (Off with out->drop / out->retry when it refuses).
  ReplState CheckDecidedRepl(Resource& r, Connection& c, Device& d, PeerDevice& pd,
                             const ResState& n, ReplState decided, bool crashed_primary_rule,
                             HandshakeOut* out);
  // The split-brain handlers' call site (initial-split-brain, split-brain,
  // pri-lost-after-sb, pri-lost).
  void SbHelper(Resource& r, Connection& c, Device& d, const char* name);
  // SyncTarget of a bitmap-based sync: our bitmap toward `c` goes to the
  // source (BITMAP messages); the source ORs it in and starts its run.
  void SendBitmap(Resource& r, Connection& c, uint32_t vol);
  void HandleBitmap(Resource& r, Connection& c, const proto::Bitmap& m);
  // Connection loss: `to` is NetworkFailure, BrokenPipe, Timeout,
  // ProtocolError or TearDown; the connection then retries (Unconnected,
  // Connecting). `abort` = go Disconnecting -> StandAlone instead.
  void ConnectionLost(Resource& r, Connection& c, ConnState to, bool abort, const std::string& tag);
  void SchedulePing(Resource& r, Connection& c);
  // The PingAck deadline of a ping just sent on `c` (unless one runs):
  // ping-timeout, then `line` is logged and the connection is lost.
  void ArmPingTimeout(Resource& r, Connection& c, const char* line);
  // ko-count (engine_net.cc): every `timeout` while Connected, the oldest
  // request the peer has not answered; older than ko-count x timeout, the
  // connection goes Timeout, as the kernel's request timer does.
  void ScheduleKoCheck(Resource& r, Connection& c);
  // (Env clock when sent, volume) of the oldest application request (write,
  // flush, read) sent to `peer` of `res` and not answered yet (engine_io.cc).
  std::optional<std::pair<uint64_t, uint32_t>> OldestPeerRequest(const std::string& res,
                                                                 uint32_t peer) const;

  // Write epochs and on-congestion (engine_congestion.cc). A write of
  // `sectors` was sent to `c` (protocol A: in flight until its epoch's
  // BARRIER_ACK): counts toward the epoch, which closes after
  // max-epoch-size writes or once the loop is idle.
  void EpochWrite(Resource& r, Connection& c, uint32_t vol, uint64_t offset, uint64_t len,
                  bool protocol_a);
  // The stream to `c` went: protocol A writes not barrier-acked are marked
  // out of sync (tl_clear), and the epochs start over.
  void EpochsLost(Connection& c);
  void CloseEpoch(const std::string& res, uint32_t peer);
  // maybe_pull_ahead before a write of `d`: congestion-fill /
  // congestion-extents reached toward a connection with on-congestion
  // pull-ahead or disconnect queues HandleCongestion.
  void MaybePullAhead(Resource& r, Device& d);
  void HandleCongestion(const std::string& res, uint32_t peer, uint32_t vol);
  // Ahead -> SyncSource once nothing is in flight (start_resync_timer).
  void ArmAheadResync(Resource& r, Connection& c);
  void StartAheadResync(const std::string& res, uint32_t peer);
  // The peer's replication state toward this node in its STATE: Ahead
  // makes this side Behind; SyncSource after Behind makes it SyncTarget.
  void FollowPeerRepl(Resource& r, Connection& c, const proto::State& st);
  // Receiving side: a peer write begins (its sequence number) / is done.
  uint64_t PeerWriteBegin(Session& s);
  void PeerWriteDone(uint64_t sid, uint64_t seq);
  void AnswerBarriers(uint64_t sid);
  // Peer-write pages (max-buffers): true if the receiver must wait before
  // a write of `pages` (the caller queues the message again); PeerPagesDone
  // returns them once the write is done. ResumeReceive handles what was
  // queued once the receiver no longer waits.
  bool ThrottleReceive(Session& s, const Connection& c, uint64_t pages);
  void PeerPagesDone(uint64_t sid, uint64_t pages);
  void ResumeReceive(uint64_t sid);
  // The kernel sends `m` on the data socket (held while the receiver waits).
  static bool OnDataSocket(const proto::Message& m);
  // OUT_OF_SYNC, BARRIER and BARRIER_ACK (true if `m` was one of them).
  bool HandleEpochMessage(Session& s, Resource& r, Connection& c, const proto::Message& m);
  // Protocol A sectors toward `c` not yet barrier-acked.
  uint64_t EpochApSectors(const Connection& c) const;

  // Cluster-wide state changes (engine_twopc.cc): the kernel's nested
  // two-phase commit (change_cluster_wide_state), reduced to what decides
  // weak nodes. A change this node made locally (a promotion while not
  // connected to every peer; the loss of a Primary peer, or its goodbye,
  // while other peers are connected) is followed by a
  // PREPARE to every connected peer, forwarded node by node; the replies
  // collect the reachable nodes and Primaries, and the COMMIT brings them
  // to every node, which outdates itself when a Primary is among them that
  // it is not directly connected to.
  enum class TwoPcKind : uint8_t { kPromote, kLostPeer };
  // Starts one from this node; `consistent`: volumes a lost Primary left
  // Consistent, UpToDate again at the commit unless this node is weak.
  void StartTwoPc(Resource& r, TwoPcKind kind, const std::vector<uint32_t>& consistent = {});
  // TWOPC_PREPARE / TWOPC_REPLY / TWOPC_COMMIT from `c` (true if `m` was one).
  bool HandleTwoPcMessage(Resource& r, Connection& c, const proto::Message& m);
  // The connection to `peer` went: replies awaited from it will not come,
  // changes it forwarded to this node are dropped.
  void TwoPcPeerGone(Resource& r, uint32_t peer);
  // A run whose replies are all in: reply to the node it came from, or
  // commit it when this node started it.
  void TwoPcMaybeDone(Resource& r, uint32_t initiator);
  // The commit's effect on this node (far_away_change, do_twopc_after_lost_peer).
  // `tag`: the state change's name ("far-away" on the other nodes).
  void TwoPcApply(Resource& r, uint64_t primary_nodes, uint64_t weak_nodes, const std::string& tag,
                  bool lost_peer, const std::vector<uint32_t>& consistent);
  // Node id bits of this node and the peers it is connected to
  // (directly_connected_nodes).
  uint64_t DirectlyReachable(const Resource& r) const;
  // drbd_device_stable in state `s`: Primary, or no connected peer is.
  static bool StableIn(const ResState& s);
  // After a change from `o` to `n`: when this node became stable (its
  // Primary peer went) or stopped being a sync target while stable, it
  // offers its peers a resync (finish_state_change: UUIDs with
  // UUID_FLAG_GOT_STABLE), except the peer that was Primary and the one
  // it synced from.
  void AfterUnstable(Resource& r, const ResState& o, const ResState& n);

  // Three or more nodes (engine_peer_ack.cc).
  // drbd_weak_nodes_device: node id bits of the nodes not known to hold
  // this node's current data of `d` (all but itself when UpToDate and the
  // peers whose disk is Inconsistent, Consistent or UpToDate).
  uint64_t WeakNodes(const Resource& r, const Device& d) const;
  // receive_current_uuid: a connected Primary peer's STATE carries a new
  // current UUID; an UpToDate Secondary takes it over.
  void MaybeTakeNewCurrent(Resource& r, Connection& c, const proto::State& st);
  // drbd_uuid_received_new_current: `val` becomes the current UUID of `d`
  // (unless some peer device is SyncTarget, PausedSyncT or Behind); the old
  // one goes into the bitmap UUIDs of the absent and `weak_nodes` peers and
  // into the history.
  void ReceivedNewCurrent(Resource& r, Connection& from, Device& d, uint64_t val,
                          uint64_t weak_nodes);
  // The Primary's application write of [offset, offset + len) on `d`
  // completed: PEER_ACK to each peer in `acked` (node id -> (first DATA
  // id, chunks)) naming the nodes in `mask` that have it.
  void SendPeerAcks(Resource& r, Device& d,
                    const std::map<uint32_t, std::pair<uint64_t, uint32_t>>& acked, uint64_t mask);
  // The peers outside `reached` toward which every block of [offset,
  // offset + len) on volume `vol` is in sync here, on a connection whose
  // bits track them (InSyncPeers): they took the blocks by resync after the
  // write began without them (FinishIo).
  uint64_t HoldersByResync(Resource& r, uint32_t vol, uint64_t offset, uint64_t len,
                           uint64_t reached);
  // PEERS_IN_SYNC naming `mask` over the whole blocks of [offset, offset +
  // len) to each of `holders`, unless another write is in flight there.
  void TellHoldersInSync(Resource& r, Device& d, uint64_t offset, uint64_t len, uint64_t mask,
                         uint64_t holders);
  // The receiving side: an application write (DATA id `id`) from `c`,
  // kept until its PEER_ACK.
  void NotePeerRequest(Connection& c, uint32_t vol, uint64_t id, uint64_t offset, uint64_t len);
  void HandlePeerAck(Resource& r, Connection& c, const proto::PeerAck& m);
  // apply_unacked_peer_requests: the connection to `c` is lost; its writes
  // without PEER_ACK are out of sync toward every other peer.
  void ApplyUnackedPeerRequests(Resource& r, Connection& c);
  // Runs what waited for the PEER_ACK of DATA `id` from `c`.
  void RunAfterPeerAck(Connection& c, uint64_t id);
  // drbd_notify_peers_lost_primary: the connection to the Primary `lost`
  // went; PEER_DAGTAG to every other connected peer with a disk on both
  // sides, then the PEER_DAGTAGs other peers sent about it meanwhile.
  void NotifyPeersLostPrimary(Resource& r, Connection& lost);
  // receive_peer_dagtag: the reconciliation resync (engine_peer_ack.cc).
  void HandlePeerDagtag(Resource& r, Connection& c, const proto::PeerDagtag& m);
  void Reconcile(Resource& r, Connection& c, Connection& lost, uint64_t peer_dagtag);
  // The volumes a reconciliation toward `c` takes (none: no reconciliation).
  std::vector<uint32_t> ReconcileVolumes(Resource& r, Connection& c);
  bool ApplyReconcile(Resource& r, Connection& c, Connection& lost,
                      const std::vector<uint32_t>& vols, ReplState to, int64_t o,
                      uint64_t peer_dagtag);
  // A PEER_DAGTAG that carries the peer's decision.
  void FollowReconcile(Resource& r, Connection& c, Connection& lost, const proto::PeerDagtag& m);
  // drbd_select_sync_target, from sanitize_state: one resync source at a
  // time per device; the other sync-target peer devices wait in
  // PausedSyncT and every other peer device is suspended
  // (resync_susp_other_c, shown as resync-suspended:dependency).
  // A peer whose data is ahead of this node's current UUID `mine`: a
  // Primary, or one holding `mine` as its bitmap UUID toward this node or
  // in its history.
  static bool PeerIsAhead(const Resource& r, uint32_t peer, const PeerDevice& pd, uint64_t mine);
  void SelectSyncTarget(const Resource& r, const ResState& o, ResState& n) const;
  // A run toward `pd` ended because both sides reached the same UpToDate
  // data another way: the bitmap UUID made up for a just-created peer's
  // initial sync is dropped, as the run's own end drops it.
  void DropFreshBitmapUuid(Resource& r, Connection& c, Device& d, PeerDevice& pd);
  // drbd_uuid_detect_finished_resyncs, on a live connection: with equal
  // current UUIDs, a bitmap UUID this node keeps toward the peer while the
  // peer keeps none toward it is history (the bits stay).
  void DetectFinishedResyncs(Resource& r, Connection& c);
  // drbd_device_stable: this node is Primary or no connected peer is; a
  // resync from an unstable source leaves the target Inconsistent.
  bool DeviceStable(const Resource& r) const;
  // After a STATE from `c`: a sync target notes a source that is not
  // stable (UNSTABLE_RESYNC); other peer devices forget the note.
  void NoteSourceStability(Resource& r, Connection& c);
  // drbd_stable_sync_source_present, without the peer's authoritative-node
  // mask: this node is a Primary (the source's authority), or it is itself
  // connected to a Primary through another connection than `except`.
  bool StableSourcePresent(const Resource& r, const Connection& except) const;
  // HandleResyncDone's target side for an unstable run: true if it ended
  // the run (Established, disk left Inconsistent, UUIDs kept).
  bool FinishUnstableResync(Resource& r, Connection& c, Device& d, PeerDevice& pd);
  // The bitmap UUID toward `peer` goes to history (_drbd_uuid_push_history)
  // and the slot clears, written at once; nothing if there is none.
  void RetireBitmapUuid(Resource& r, Device& d, uint32_t peer);
  // P_PEERS_IN_SYNC received: the nodes of `m.mask` hold the sender's data
  // over its range; the bits toward them there clear, except over blocks
  // under this node's own writes in flight (beyond the kernel: compat.md).
  void HandlePeersInSync(Resource& r, const proto::PeersInSync& m);
  // The connected peers but `target` this node has no bit toward over
  // blocks [first, first + count) of `vol`: node id bits.
  uint64_t InSyncPeers(const Resource& r, uint32_t target, uint32_t vol, uint64_t first,
                       uint64_t count) const;
  // Marks bytes [offset, offset + len) of volume `vol` out of sync toward
  // every peer but `except` and the nodes of `spared` (node id bits): a
  // peer ack's or resync data's marks (drbd_set_sync,
  // drbd_set_all_out_of_sync). True if it marked toward any.
  bool MarkTowardPeers(Resource& r, uint32_t vol, uint32_t except, uint64_t spared,
                       uint64_t offset, uint64_t len);
  // A Primary's resync toward `target` on `d` finished: every other peer
  // whose bits track it (InSyncPeers) with no bits here over a run of
  // blocks that no application write is in flight to holds the same data
  // there as the target and this node; PEERS_IN_SYNC for each such run goes
  // to both, so that the marks between them (left by a relay the kernel
  // only sends for the blocks a resync moved) clear. Beyond the kernel
  // (compat.md).
  void SweepPeersInSync(Resource& r, Device& d, uint32_t target);
  // The blocks of `minor` under application writes still in flight here,
  // among those that bytes [offset, offset + len) touch.
  std::set<uint64_t> BlocksUnderWrites(uint32_t minor, uint64_t offset = 0,
                                       uint64_t len = UINT64_MAX);
  // The in-sync half of drbd_set_sync: the whole blocks of the range are in
  // sync toward every peer in `reached` but `except`; true if a bit cleared.
  // Blocks in `keep` stay as they are.
  bool ClearTowardPeers(Resource& r, uint32_t vol, uint32_t except, uint64_t reached,
                        uint64_t offset, uint64_t len, const std::set<uint64_t>* keep = nullptr);
  // drbd_uuid_resync_finished, the part beyond two nodes: a stable sync
  // target takes over its source's history and bitmap UUIDs; toward each
  // third node the source keeps a bitmap UUID for (and that is not known
  // to be on the source's current UUID) this node's bitmap UUID becomes its
  // own current UUID of the run's start, toward the others it clears.
  // Returns the node bits whose bitmap UUID was set (the kernel outdates
  // those peers' disks, __outdate_peer_disk_by_mask; here a connected
  // peer's own STATE keeps its disk state). Called before the target takes
  // the source's current UUID.
  uint64_t TakeOverSourceUuids(Resource& r, Connection& c, Device& d, const PeerDevice& pd);
  // A source whose target reports Established with UpToDate data (it
  // became UpToDate from another source and cancelled this run,
  // __cancel_other_resyncs) ends its run too.
  void FollowCancelledResync(Resource& r, Connection& c, const proto::State& st,
                             const std::map<uint32_t, uint8_t>& prev_repl);

  // drbd_insert_fault: whether this request of `d` of type `t` fails (and
  // logs "***Simulating <name> failure").
  bool InsertFault(const Resource& r, const Device& d, FaultType t);
  // Reads `len` bytes of `d`'s backing device for a request of type `t`
  // (RS_RD: the resync source), or fails them by InsertFault.
  void FaultingRead(Device& d, FaultType t, uint64_t offset, uint32_t len,
                    std::function<void(bool, std::vector<uint8_t>)> done);
  // MD_WR before a metadata write of `d` in `where` (drbd_md_write,
  // __al_write_transaction): true if it fails; the disk then detaches
  // (a metadata error) once the caller unwound.
  bool MetaWriteFault(Device& d, const std::string& where);
  // AL_EE and RECEIVE for peer data `dm` arriving for `d`: true if the
  // connection went (the receive failed); `dm` may come back corrupted.
  bool ReceiveFaults(Resource& r, Connection& c, const Device& d, proto::Data& dm);

  std::string node_name_;
  sim::Env env_;
  Faults faults_;
  uint64_t fault_count_ = 0;
  std::map<std::string, std::unique_ptr<Resource>> resources_;   // by name
  std::map<uint32_t, std::pair<std::string, uint32_t>> minors_;  // minor -> (resource, volume)
  std::map<uint64_t, std::unique_ptr<Session>> sessions_;
  struct Listener {
    sim::ListenerId id = 0;
    int refs = 0;
  };
  std::map<std::string, Listener> listeners_;        // by AddressToString
  std::vector<std::unique_ptr<Session>> graveyard_;  // closed, freed on a later event
  sim::TimerId graveyard_timer_ = 0;
  sim::TimerId uuid_waiters_timer_ = 0;  // RunUuidWaiters is scheduled
  uint64_t next_session_id_ = 1;
  uint64_t next_attach_gen_ = 1;
  uint64_t next_rs_gen_ = 1;
  bool resync_after_armed_ = false;  // UpdateResyncAfter is scheduled
  // While set, Primary/Secondary run for an opener (auto-promote /
  // auto-demote) and tag their state changes with it.
  std::string role_tag_;
  std::shared_ptr<IoState> io_;  // data path state, created on first use
  // Running `disconnected` handlers by resource, and who waits for them to
  // finish (AfterDisconnectedHandlers).
  std::map<std::string, int> disconnected_running_;
  std::map<std::string, std::vector<std::function<void()>>> disconnected_waiters_;
  // Metadata writes of released disks in flight, and who waits for none
  // (AfterReleasedDisksDurable). Shared with the disks' completions.
  struct ReleasedIo {
    uint64_t in_flight = 0;
    std::vector<std::function<void()>> waiters;
  };
  std::shared_ptr<ReleasedIo> released_io_ = std::make_shared<ReleasedIo>();
};

}  // namespace drbd::engine
