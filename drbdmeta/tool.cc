// SPDX-License-Identifier: GPL-2.0-or-later
// drbdmeta command line and commands. Output text, exit codes and the order
// of disk writes follow drbd-utils 9.22's drbdmeta; the on-disk formats live
// in lib/md (see docs/formats/metadata-*.md).
#include "drbdmeta/tool.h"

#include <fcntl.h>
#include <getopt.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <climits>
#include <cstdarg>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <utility>

#include "lib/md/al.h"
#include "lib/md/bitmap.h"
#include "lib/md/device.h"
#include "lib/md/dump_scanner.h"
#include "lib/md/format.h"
#include "lib/md/fs_detect.h"
#include "lib/md/gi.h"
#include "lib/md/lkbd.h"
#include "lib/md/metadata.h"
#include "lib/md/endian.h"
#include "lib/md/superblock.h"

namespace drbd::meta {

namespace {

using md::Format;
using md::Layout;
using md::Superblock;

constexpr int kDrbdMajor = 147;
constexpr uint64_t kBufferSize = 32ull << 20;  // drbdmeta's I/O buffer

// Thrown to end the program with an exit code (drbdmeta calls exit()).
struct ExitNow {
  int code;
};

std::string Fmt(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
std::string Fmt(const char* fmt, ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  // The analyzer does not see va_start above (clang 14 false positive).
  int n = std::vsnprintf(buf, sizeof buf, fmt, ap);  // NOLINT(clang-analyzer-valist.Uninitialized)
  va_end(ap);
  if (n < 0) return {};
  if (static_cast<size_t>(n) < sizeof buf) return std::string(buf, static_cast<size_t>(n));
  std::string big(static_cast<size_t>(n) + 1, '\0');
  va_start(ap, fmt);
  std::vsnprintf(big.data(), big.size(), fmt, ap);
  va_end(ap);
  big.resize(static_cast<size_t>(n));
  return big;
}

// drbd-utils' human-readable size of `kb` KiB ("8 KB", "100 MB").
std::string PpSize(unsigned long long kb) {
  static const char kUnits[] = {'K', 'M', 'G', 'T', 'P', 'E'};
  int base = 0;
  while (kb >= 10000 && base < 5) {
    kb = (kb >> 10) + !!(kb & (1 << 9));
    ++base;
  }
  return Fmt("%u %cB", static_cast<unsigned>(kb), kUnits[base]);
}

enum class StrtollErr { kOk, kMissing, kInvalid, kOutOfRange };

// drbd-utils' number parser: "N[kKmMgGs]", default unit 1 or 'k'.
StrtollErr ParseNumber(const std::string& s, char def_unit, unsigned long long* rv) {
  int shift = def_unit == 'k' ? -10 : 0;
  if (s.empty()) return StrtollErr::kMissing;
  char unit = 0, dummy = 0;
  int c = std::sscanf(s.c_str(), "%llu%c%c", rv, &unit, &dummy);
  if (c != 1 && c != 2) return StrtollErr::kInvalid;
  switch (unit) {
    case 0: return StrtollErr::kOk;
    case 'K': case 'k': shift += 10; break;
    case 'M': case 'm': shift += 20; break;
    case 'G': case 'g': shift += 30; break;
    case 's': shift += 9; break;
    default: return StrtollErr::kInvalid;
  }
  if (shift < 0) {
    shift = -shift;
    *rv = (*rv + (1ull << shift) - 1) >> shift;
    return StrtollErr::kOk;
  }
  if (*rv > (~0ull >> shift)) return StrtollErr::kOutOfRange;
  *rv <<= shift;
  return StrtollErr::kOk;
}

struct Tool;
using CommandFn = int (*)(Tool&, const std::vector<std::string>&);

struct Command {
  const char* name;
  const char* args;  // usage text, may be null
  CommandFn fn;
  bool show_in_usage;
  bool node_id_required;
  bool modifies_md;
};

// kValidAtLastKnown: no metadata at the expected place, but valid internal
// metadata where the last-known device size puts it (offline grow).
enum class OpenState { kValid, kNone, kValidAtLastKnown };
enum class DumpFormat { kAuto, kBinary, kHex, kJson };
enum class BitmapInit { kAutomatic, kZeroout, kPwrite, kSkip };

// DRBD 0.7 ("v07") superblock magic, at byte 28 (after la_kb and five
// generation counters). We do not read v07 metadata; drbdmeta's messages
// about its absence are reproduced.
constexpr size_t kV07MagicOffset = 28;
constexpr uint32_t kV07Magic = 0x8374026a;

std::string HexDump(uint64_t file_offset, const uint8_t* c, size_t len);

// The device as drbdmeta's pread_or_die/pwrite_or_die see it: every read
// and write carries a tag (drbdmeta's function name) for the -vv trace on
// stderr, and under --dry-run writes are skipped with a note. Errors are
// returned; the caller prints drbdmeta's message and exits.
class TraceDevice : public md::Device {
 public:
  TraceDevice(md::FileDevice& inner, const int& verbose, const int& dry_run,
              std::function<void(const std::string&)> err, std::function<void()> flush_out,
              long long fail_writes_from)
      : inner_(inner),
        verbose_(verbose),
        dry_run_(dry_run),
        err_(std::move(err)),
        flush_out_(std::move(flush_out)),
        fail_writes_from_(fail_writes_from) {}
  // Tag of the following I/O.
  void set_tag(const char* tag) { tag_ = tag; }
  const char* tag() const { return tag_; }
  uint64_t Size() const override { return inner_.Size(); }
  md::Status Read(uint64_t off, std::span<uint8_t> dst) override {
    md::Status s = inner_.Read(off, dst);
    if (verbose_ >= 2) Trace("pread", dst.size(), off);
    if (verbose_ > 10 && s.ok()) err_(HexDump(off, dst.data(), dst.size()));
    return s;
  }
  md::Status Write(uint64_t off, std::span<const uint8_t> src) override {
    if (dry_run_) {
      err_(Fmt(" %-26s: pwrite(%u, ...,%6lu,%12llu) SKIPPED DUE TO DRY-RUN\n", tag_, static_cast<unsigned>(inner_.fd()),
               static_cast<unsigned long>(src.size()), static_cast<unsigned long long>(off)));
      if (verbose_ > 10) err_(HexDump(off, src.data(), src.size()));
      return md::Status();
    }
    if (fail_writes_from_ >= 0 && writes_++ >= fail_writes_from_) return md::Status::Error("Input/output error");
    md::Status s = inner_.Write(off, src);
    if (verbose_ >= 2) Trace("pwrite", src.size(), off);
    return s;
  }
  md::Status Flush() override { return inner_.Flush(); }
  md::Status ZeroOut(uint64_t off, uint64_t len) override {
    if (fail_writes_from_ >= 0 && writes_++ >= fail_writes_from_) return md::Status::Error("Input/output error");
    return inner_.ZeroOut(off, len);
  }

 private:
  void Trace(const char* op, size_t count, uint64_t off) {
    flush_out_();
    std::string t = Fmt(" %-26s: %s(%u, ...,%6lu,%12llu)\n", tag_, op, static_cast<unsigned>(inner_.fd()),
                        static_cast<unsigned long>(count), static_cast<unsigned long long>(off));
    if (count & 4095) t += "\tcount will cause EINVAL on hard sect size != 512\n";
    if (off & 4095) t += "\toffset will cause EINVAL on hard sect size != 512\n";
    err_(t);
  }

  md::FileDevice& inner_;
  const int& verbose_;
  const int& dry_run_;
  std::function<void(const std::string&)> err_;
  std::function<void()> flush_out_;
  const long long fail_writes_from_;
  long long writes_ = 0;
  const char* tag_ = "";
};

struct Tool {
  explicit Tool(Io& io_in) : io(io_in) {}
  Io& io;

  // Options.
  bool force = false;
  int ignore_sanity_checks = 0;
  int dry_run = 0;
  int verbose = 0;
  long long peer_max_bio_size = 0;
  long long node_id = -1;
  long long al_stripes = 1;
  long long al_stripe_size_4k = 8;
  bool al_stripes_used = false;
  BitmapInit bitmap_init = BitmapInit::kAutomatic;
  DumpFormat output_format = DumpFormat::kAuto;
  bool output_format_used = false;
  std::optional<std::string> initial_current_uuid;
  bool opt_consistent = false, opt_uptodate = false, opt_peers_outdated = false, opt_rotate_uuids = false;
  std::vector<std::string> argv;
  const Command* command = nullptr;

  // Target.
  std::string drbd_dev_name;
  int minor = -1;
  md::Placement place;
  std::string md_device_name;
  std::unique_ptr<md::FileDevice> dev;
  std::unique_ptr<TraceDevice> disk;  // dev with drbdmeta's tags, traces and --dry-run
  uint64_t bd_size = 0;
  int hard_sect = 512;
  uint64_t md_offset = 0;

  // State of the metadata as read (valid when md.magic != 0).
  Superblock md{};
  Layout layout;
  uint64_t bm_bytes = 0;
  bool update_lk_bdev = false;
  uint64_t lk_size = 0;  // last-known device size, when metadata was found there
  uint64_t lk_uuid = 0;
  std::string lk_name;
  int lock_fd = -1;

  ~Tool() {
    if (lock_fd >= 0) ::close(lock_fd);
  }

  void Out(const std::string& s) { io.out += s; }
  // drbdmeta flushes stdout before some stderr messages (parse errors).
  void FlushOut() {
    if (io.flush_out) io.flush_out(io.out);
  }
  void Err(const std::string& s) { io.err(s); }
  [[noreturn]] void Exit(int code) { throw ExitNow{code}; }

  bool IsV09() const { return place.format == Format::kV09; }
  bool Internal() const { return place.index == md::kIndexFlexInternal; }

  // The value of an enumerated option: the entry of `choices` named `v`,
  // else drbdmeta's "invalid WHAT" message listing the names, exit 10.
  template <typename E>
  E Choice(const char* what, const std::string& v,
           std::initializer_list<std::pair<const char*, E>> choices) {
    std::string names;
    for (const auto& [name, value] : choices) {
      if (v == name) return value;
      names += names.empty() ? name : std::string("|") + name;
    }
    Err("invalid " + std::string(what) + " \"" + v + "\", should be one of " + names + "\n");
    Exit(10);
  }

  long long StrToll(const std::string& s, char def_unit) {
    unsigned long long r = 0;
    switch (ParseNumber(s, def_unit, &r)) {
      case StrtollErr::kOk: return static_cast<long long>(r);
      case StrtollErr::kMissing: Err("missing number argument\n"); Exit(100);
      case StrtollErr::kInvalid: Err(s + " is not a valid number\n"); Exit(20);
      case StrtollErr::kOutOfRange: Err(s + ": out of range\n"); Exit(20);
    }
    Exit(20);
  }

  bool Confirmed(const std::string& text) {
    Err("\n" + text + "\n");
    if (force) {
      Err("*** confirmation forced via --force option ***\n");
      return true;
    }
    if (!io.stdin_is_tty || !io.stdin_is_tty()) {
      Err("stdin not a TTY, not waiting for confirmation\n");
      return false;
    }
    Err("[need to type 'yes' to confirm] ");
    std::optional<std::string> answer = io.read_line ? io.read_line() : std::nullopt;
    Err("\n");
    return answer && *answer == "yes";
  }

  // ---- device access ----

  void OpenDevice() {
    if (dev) return;
    bool exclusive = place.index < 0;
    for (;;) {
      md::Status st;
      int saved = 0;
      dev = md::FileDevice::Open(md_device_name, false, exclusive, &st, &saved);
      if (dev) break;
      Err(Fmt("open(%s) failed: %s\n", md_device_name.c_str(), std::strerror(saved)));
      if (saved == EBUSY && exclusive) {
        if ((!force && command->fn == CommandApplyAlFn()) ||
            !Confirmed("Exclusive open failed. Do it anyways?")) {
          Out("Operation canceled.\n");
          Exit(20);
        }
        exclusive = false;
        continue;
      }
      Exit(20);
    }
    // drbd-simd's devices are regular files: with DRBD_SIM_SOCKET set they
    // need no --force (docs/compat.md).
    const char* sim = std::getenv("DRBD_SIM_SOCKET");
    const bool simulated = sim != nullptr && *sim != '\0';
    if (!dev->is_block_device() && !force && !simulated) {
      Err("'" + md_device_name + "' is not a block device!\n");
      Exit(20);
    }
    if (dev->hard_sector_size() <= 0) {
      Err("ioctl(md_fd, BLKSSZGET) returned -1, assuming hard_sect_size is 512 Byte\n");
      hard_sect = 512;
    } else {
      hard_sect = dev->hard_sector_size();
      if (verbose >= 2) Err(Fmt("hard_sect_size is %d Byte\n", hard_sect));
    }
    disk = std::make_unique<TraceDevice>(
        *dev, verbose, dry_run, [this](const std::string& s) { Err(s); }, [this] { FlushOut(); },
        io.fail_writes_from);
    bd_size = dev->Size();
    if (bd_size == 0 && !dev->is_block_device()) {
      // drbdmeta takes a size of 0 as "unknown" and asks the block layer.
      Err("ioctl(,BLKGETSIZE64,) failed: Inappropriate ioctl for device\n");
      Exit(20);
    }
  }

  static CommandFn CommandApplyAlFn();

  void Read(uint64_t off, std::span<uint8_t> dst, const char* tag) {
    disk->set_tag(tag);
    md::Status s = disk->Read(off, dst);
    if (!s.ok()) {
      Err(Fmt("pread(%u,...,%zu,%" PRIu64 ") in %s failed: %s\n", static_cast<unsigned>(dev->fd()), dst.size(), off,
              tag, s.message().c_str()));
      Exit(10);
    }
  }

  // drbdmeta refuses any write outside the metadata area of the current
  // superblock (validate_offsets_or_die) unless --ignore-sanity-checks.
  void CheckWriteRange(uint64_t off, uint64_t len, const char* tag) {
    const int64_t base = static_cast<int64_t>(md_offset);
    const int64_t al = base + int64_t{md.al_offset} * 512;
    const int64_t bm = base + int64_t{md.bm_offset} * 512;
    const int64_t lo = std::min({base, al, bm});
    const int64_t hi = lo + int64_t{md.md_size_sect} * 512;
    if (lo < 0) Err(Fmt("%s: negative minimum offset: %lld\n", tag, static_cast<long long>(lo)));
    if (static_cast<int64_t>(off) < lo || static_cast<int64_t>(off + len) > hi) {
      Err(Fmt("%s: offset+count (%llu+%llu) not in meta data area range [%lld; %lld], aborted\n", tag,
              static_cast<unsigned long long>(off), static_cast<unsigned long long>(len), static_cast<long long>(lo),
              static_cast<long long>(hi)));
      if (ignore_sanity_checks) {
        Err("Ignored due to --ignore-sanity-checks\n");
      } else {
        Err("If you want to force this, tell me to --ignore-sanity-checks\n");
        Exit(10);
      }
    }
  }

  void Write(uint64_t off, std::span<const uint8_t> src, const char* tag) {
    CheckWriteRange(off, src.size(), tag);
    disk->set_tag(tag);
    md::Status s = disk->Write(off, src);
    if (!s.ok()) {
      Err(Fmt("pwrite(%u,...,%zu,%" PRIu64 ") in %s failed: %s\n", static_cast<unsigned>(dev->fd()), src.size(), off,
              tag, s.message().c_str()));
      Exit(10);
    }
  }

  // Tags: drbdmeta's v08_/v09_ function names.
  const char* FmtTag(const char* v08, const char* v09) const { return IsV09() ? v09 : v08; }

  // drbdmeta's is_valid_md(): validation with its messages on stderr (a
  // missing magic only with -v; a tolerated oddity is printed, then accepted).
  md::Validation Check(Format f, const Superblock& sb, int index, uint64_t dev_bytes) {
    md::Validation v = md::Validate(f, sb, index, dev_bytes);
    if (!v.ok && (v.magic_ok || verbose >= 1)) Err(v.message + "\n");
    if (v.ok && !v.warning.empty()) Err(v.warning + "\n");
    return v;
  }

  // -vv: the layout drbdmeta's re_initialize_md_offsets() computed.
  void VerboseOffsets(const char* prefix) {
    if (verbose < 2) return;
    Err(Fmt("%smd_offset: %llu\n", prefix, static_cast<unsigned long long>(layout.md_offset)));
    Err(Fmt("%sal_offset: %llu (%d)\n", prefix, static_cast<unsigned long long>(layout.al_offset), md.al_offset));
    Err(Fmt("%sbm_offset: %llu (%d)\n", prefix, static_cast<unsigned long long>(layout.bm_offset), md.bm_offset));
    if (!*prefix) {
      Err(Fmt("md_size_sect: %u\nmax_usable_sect: %llu\n", md.md_size_sect,
              static_cast<unsigned long long>(layout.max_usable_sect)));
    }
  }

  // ---- open / close ----

  OpenState Open() {
    OpenDevice();
    if (bd_size < md::kMinDeviceBytes) {
      Err(Fmt("%s is only %llu bytes. That's not enough.\n", md_device_name.c_str(),
              static_cast<unsigned long long>(bd_size)));
      Exit(10);
    }
    md_offset = md::SuperblockOffset(place.index, bd_size);
    if (md_offset > bd_size - 4096) {
      Err(Fmt("Device too small: expecting meta data block at\nbyte offset %lld, but %s is only %llu bytes.\n",
              static_cast<long long>(md_offset), md_device_name.c_str(),
              static_cast<unsigned long long>(bd_size)));
      Exit(10);
    }
    md::SuperblockBytes raw{};
    Read(md_offset, raw, FmtTag("v08_md_disk_to_cpu", "v09_md_disk_to_cpu"));
    Superblock sb = md::Decode(place.format, raw);
    const bool ok = Check(place.format, sb, place.index, bd_size).ok;
    if (verbose >= 3 + ok && verbose <= 10) Err(HexDump(md_offset, raw.data(), raw.size()));
    if (!ok) return CheckForResize() ? OpenState::kValidAtLastKnown : OpenState::kNone;
    md = sb;
    layout = md::ComputeLayout(md, place.index, bd_size);
    if (md.effective_size > layout.max_usable_sect) {
      Out(Fmt("# la-size-sect was too big (%llu), truncated (%llu)!\n",
              static_cast<unsigned long long>(md.effective_size),
              static_cast<unsigned long long>(layout.max_usable_sect)));
      md.effective_size = layout.max_usable_sect;
    }
    bm_bytes = md::BmBytes(md.max_peers, md.bm_bytes_per_bit, md.effective_size);
    return OpenState::kValid;
  }

  // Writes the superblock (drbdmeta's md_cpu_to_disk). Returns -1 if the
  // in-memory superblock is not valid for this placement.
  int WriteMd() {
    if (!Check(place.format, md, place.index, bd_size).ok) return -1;
    const md::SuperblockBytes raw = md::Encode(place.format, md);
    Write(md_offset, raw, FmtTag("v08_md_cpu_to_disk", "v09_md_cpu_to_disk"));
    update_lk_bdev = true;
    return 0;
  }

  std::string LkPath() const { return md::LkBdevPath(io.var_lib_drbd, minor); }

  void LkDelete() {
    const std::string path = LkPath();
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
      Err(Fmt("lk_bdev_delete(%s) failed: %s\n", path.c_str(), std::strerror(errno)));
    }
  }

  void LkSave() {
    const std::string path = LkPath();
    std::string err;
    if (!md::SaveLkBdev(path, {bd_size, md_device_name, md.device_uuid}, &err)) {
      Err(Fmt("lk_bdev_save(%s) failed: %s\n", path.c_str(), err.c_str()));
    }
  }

  // Reads the last-known-bdev file: size, device name, optional uuid.
  bool LkLoad(uint64_t* size, std::string* name, uint64_t* uuid) {
    const std::string path = LkPath();
    md::LastKnownBdev lk;
    std::string err;
    switch (md::LoadLkBdev(path, &lk, &err)) {
      case md::LkLoadResult::kMissing:
        return false;
      case md::LkLoadResult::kUnreadable:
        Err(Fmt("lk_bdev_load(%s) failed: %s\n", path.c_str(), err.c_str()));
        return false;
      case md::LkLoadResult::kParseError:
        Err(Fmt("lk_bdev_load(%s): parse error\n", path.c_str()));
        return false;
      case md::LkLoadResult::kOk:
        break;
    }
    *size = lk.size_bytes;
    *name = lk.device;
    *uuid = lk.uuid;
    return true;
  }

  // v08_check_for_resize(): internal metadata at the position the
  // last-known device size gives. On success md holds it.
  bool CheckForResize() {
    if (!Internal()) return false;
    uint64_t size = 0, uuid = 0;
    std::string name;
    if (!LkLoad(&size, &name, &uuid)) {
      if (verbose) Err("no last-known offset information available.\n");
      return false;
    }
    if (verbose) {
      Err(Fmt(" last known info: %llu %s\n", static_cast<unsigned long long>(size),
              name.empty() ? "-unknown device name-" : name.c_str()));
      if (uuid) Err(Fmt(" last known uuid: %016" PRIX64 "\n", uuid));
    }
    if (size == bd_size) return false;
    const uint64_t off = md::SuperblockOffset(md::kIndexFlexInternal, size);
    bool found = false;
    Superblock sb{};
    if (size >= md::kMinDeviceBytes && off < bd_size && off + 4096 > bd_size) {
      // drbdmeta's pread of the old superblock comes back short.
      Err(Fmt("confused in v08_check_for_resize: expected to read 4096 bytes, actually read %d\n",
              static_cast<int>(bd_size - off)));
      Exit(10);
    }
    if (size >= md::kMinDeviceBytes && off + 4096 <= bd_size) {
      md::SuperblockBytes raw{};
      Read(off, raw, "v08_check_for_resize");
      sb = md::Decode(place.format, raw);
      found = Check(place.format, sb, md::kIndexFlexInternal, size).ok;
    }
    if (verbose) {
      std::string msg = Fmt("While checking for internal meta data for drbd%u on %s,\n"
                            "it appears that it may have been relocated.\nIt used to be ",
                            static_cast<unsigned>(minor), md_device_name.c_str());
      if (!name.empty() && name != md_device_name) msg += "on " + name + " ";
      msg += Fmt("at byte offset %llu", static_cast<unsigned long long>(off));
      if (!found) {
        msg += ", but I cannot find it now.\n";
        if (off >= bd_size) msg += "Device is too small now!\n";
      } else {
        msg += ", and seems to still be valid.\n";
      }
      Err(msg);
    }
    if (!found) return false;
    if (uuid && sb.device_uuid != uuid) {
      Err(Fmt("Last known and found uuid differ!?\n%016" PRIX64 " != %016" PRIX64 "\n", uuid, md.device_uuid));
      if (!force) {
        Err("You may --force me to ignore that.\n");
        return false;
      }
      Err("You --force'ed me to ignore that.\n");
    }
    md = sb;
    lk_size = size;
    lk_uuid = uuid;
    lk_name = name;
    return true;
  }

  // Moves internal metadata found at the last-known position to the end of
  // the grown device: AL, then the bitmap (copied from its end, so the
  // overlapping areas are safe), the new superblock, and only then the old
  // area is zeroed. Bit 0 of the old bitmap stays bit 0 of the new one.
  int MoveAfterResize() {
    const Superblock old = md;
    const uint64_t old_off = md::SuperblockOffset(md::kIndexFlexInternal, lk_size);
    md::Status st = md::InitOffsets(md, md::kIndexFlexInternal, bd_size);
    if (!st.ok()) {
      Err(st.message() + "\n");
      Exit(10);
    }
    layout = md::ComputeLayout(md, md::kIndexFlexInternal, bd_size);
    VerboseOffsets("");
    Err("Moving the internal meta data to its proper location\n");
    if (verbose >= 2) {
      Err(Fmt("old md_offset: %llu\n", static_cast<unsigned long long>(old_off)));
      const unsigned long long old_al = old_off + int64_t{old.al_offset} * 512;
      const unsigned long long old_bm = old_off + int64_t{old.bm_offset} * 512;
      Err(Fmt("old al_offset: %llu (%d)\n", old_al, old.al_offset));
      Err(Fmt("old bm_offset: %llu (%d)\n", old_bm, old.bm_offset));
      VerboseOffsets("new ");
      Err(Fmt("md_size_sect: %u\nmax_usable_sect: %llu\n", md.md_size_sect,
              static_cast<unsigned long long>(layout.max_usable_sect)));
    }
    const uint64_t old_al = old_off + static_cast<int64_t>(old.al_offset) * 512;
    const uint64_t old_bm = old_off + static_cast<int64_t>(old.bm_offset) * 512;
    std::vector<uint8_t> buf(old_off - old_al);
    const char* kMove = "v08_move_internal_md_after_resize";
    Read(old_al, buf, kMove);
    Write(layout.al_offset, buf, kMove);
    const uint64_t old_bm_bytes = old_al - old_bm;
    for (uint64_t end = old_bm_bytes; end > 0;) {
      const uint64_t n = std::min(end, kBufferSize);
      buf.assign(n, 0);
      Read(old_bm + end - n, buf, kMove);
      Write(layout.bm_offset + end - n, buf, kMove);
      end -= n;
    }
    if (bitmap_init != BitmapInit::kSkip) {
      const uint64_t new_bm_bytes = layout.al_offset - layout.bm_offset;
      for (uint64_t off = old_bm_bytes; off < new_bm_bytes;) {
        const uint64_t n = std::min(new_bm_bytes - off, kBufferSize);
        buf.assign(n, 0);
        Write(layout.bm_offset + off, buf, kMove);
        off += n;
      }
    }
    VerboseOffsets("");  // drbdmeta recomputes the offsets once more
    int err = WriteMd();
    if (!err) {
      Out("Internal drbd meta data successfully moved.\n");
      if (!dry_run) (void)dev->Flush();
    }
    if (!err && old_off < layout.bm_offset) {
      const uint64_t wipe_end = std::min(old_off + 4096, layout.bm_offset);
      for (uint64_t off = old_bm; off < wipe_end;) {
        const uint64_t n = std::min(wipe_end - off, kBufferSize);
        buf.assign(n, 0);
        disk->set_tag(kMove);
        if (!disk->Write(off, buf).ok()) {
          Err("pwrite while zeroing the old meta data region failed\n");
          Exit(10);
        }
        off += n;
      }
      Out("Old meta data region zeroed.\n");
    }
    err = Close() || err;
    if (err) Err("operation failed\n");
    return err;
  }

  // drbdmeta's close: update the last-known-bdev file, then sync.
  int Close() {
    if (update_lk_bdev && !dry_run) {
      if (!Internal()) {
        LkDelete();
      } else {
        LkSave();
      }
    }
    if (dev && !dry_run) {
      md::Status s = dev->Flush();
      if (!s.ok()) {
        Err(Fmt("fsync() failed: %s\n", s.message().c_str()));
        return -1;
      }
    }
    return 0;
  }

  // ---- create-md helpers ----

  // check_for_existing_data(): look at the first 68 KiB of the device.
  void CheckForExistingData() {
    std::vector<uint8_t> buf(md::kProbeBytes);
    Read(0, buf, "check_for_existing_data");
    const md::Probe f = md::ProbeData(buf);
    if (f.all_zero) return;
    Out(Fmt("md_offset %llu\n", static_cast<unsigned long long>(layout.md_offset)));
    Out(Fmt("al_offset %llu\n", static_cast<unsigned long long>(layout.al_offset)));
    Out(Fmt("bm_offset %llu\n", static_cast<unsigned long long>(layout.bm_offset)));
    Out("\nFound " + f.type + "\n");
    const uint64_t fs_kb = (f.block_size * f.blocks + 1023) >> 10;
    const uint64_t max_usable_kb = layout.max_usable_sect >> 1;
    if (f.blocks) {
      const char* refuse =
          "If you want me to do this, you need to zero out the first part\n"
          "of the device (destroy the content).\n"
          "You should be very sure that you mean it.\n"
          "Operation refused.\n\n";
      if (place.index >= 0 || place.index == md::kIndexFlexExternal) {
        Out("\nThis would corrupt existing data.\n");
        if (ignore_sanity_checks) {
          Out("\nIgnoring sanity check on user request.\n\n");
          return;
        }
        Out(refuse);
        Exit(40);
      }
      if (f.block_size < md::kRefuseBlockSize) {
        Out(Fmt("%12llu kB data area apparently used\n", static_cast<unsigned long long>(fs_kb)));
      }
      Out(Fmt("%12llu kB left usable by current configuration\n", static_cast<unsigned long long>(max_usable_kb)));
      if (f.block_size == md::kUnknownSizeBlockSize) {
        Out("Could not determine the size of the actually used data area.\n\n");
      }
      if (f.block_size >= md::kRefuseBlockSize) {
        Out("Device size would be truncated, which\n"
            "would corrupt data and result in\n"
            "'access beyond end of device' errors.\n");
        if (ignore_sanity_checks) {
          Out("\nIgnoring sanity check on user request.\n\n");
          return;
        }
        Out(refuse);
        Exit(40);
      }
      if (fs_kb > max_usable_kb) {
        Out("\nDevice size would be truncated, which\n"
            "would corrupt data and result in\n"
            "'access beyond end of device' errors.\n"
            "You need to either\n"
            "   * use external meta data (recommended)\n"
            "   * shrink that filesystem first\n"
            "   * zero out the device (destroy the filesystem)\n"
            "Operation refused.\n\n");
        Exit(40);
      }
      Out("\nEven though it looks like this would place the new meta data into\n"
          "unused space, you still need to confirm, as this is only a guess.\n");
    } else {
      Out("\n ==> This might destroy existing data! <==\n");
    }
    if (!Confirmed("Do you want to proceed?")) {
      Out("Operation canceled.\n");
      Exit(1);
    }
  }

  // Which format (if any) has a valid superblock in `raw` for `index`.
  std::optional<Format> DetectMd(const md::SuperblockBytes& raw, int index, Superblock* found) {
    std::optional<Format> have;
    // drbdmeta looks for v07 metadata first (we only report its absence).
    if (verbose >= 1 && md::LoadBe32(raw.data() + kV07MagicOffset) != kV07Magic) Err("v07 Magic number not found\n");
    for (Format f : {Format::kV08, Format::kV09}) {
      Superblock sb = md::Decode(f, raw);
      if (Check(f, sb, index, bd_size).ok) {
        have = f;
        *found = sb;
      }
    }
    return have;
  }

  void Convert(Format from) {
    if (from == place.format) return;
    if (place.format == Format::kV09) {
      md::ConvertV08ToV09(md, place.index, bd_size);
    } else {
      md::ConvertV09ToV08(md, place.index, bd_size);
    }
    layout = md::ComputeLayout(md, place.index, bd_size);
    VerboseOffsets("");
    if (!Check(place.format, md, place.index, bd_size).ok) {
      Err("Conversion failed.\nThis is a bug :(\n");
      Exit(111);
    }
  }

  void CheckInternalMdFlavours() {
    const uint64_t flex_offset = md::SuperblockOffset(md::kIndexFlexInternal, bd_size);
    md::SuperblockBytes raw{};
    Read(flex_offset, raw, "check_internal_md_flavours");
    Superblock now{};
    std::optional<Format> have = DetectMd(raw, md::kIndexFlexInternal, &now);
    if (!have) return;
    Err(Fmt("You want me to create a %s style %s internal meta data block.\n", md::FormatName(place.format),
            "flexible-size"));
    Err(Fmt("There appears to be a %s %s internal meta data block\nalready in place on %s at byte offset %llu\n",
            md::FormatName(*have), "flexible-size", md_device_name.c_str(),
            static_cast<unsigned long long>(flex_offset)));
    if (*have == place.format) {
      if (md.al_stripes != al_stripes || md.al_stripe_size_4k != al_stripe_size_4k) {
        if (Confirmed("Do you want to change the activity log stripe settings *only*?")) {
          Err("Sorry, not yet fully implemented\nTry dump-md > dump.txt; restore-md -s x -z y dump.txt\n");
          Exit(30);
        }
      }
      if (!Confirmed("Do you really want to overwrite the existing meta-data?")) {
        Out("Operation cancelled.\n");
        Exit(1);
      }
      md.magic = 0;
    } else {
      if (Confirmed(Fmt("Valid %s meta-data found, convert to %s?", md::FormatName(*have),
                        md::FormatName(place.format)))) {
        md = now;
        Convert(*have);
      } else {
        if (!Confirmed(Fmt("So you want me to replace the %s meta-data\nwith newly initialized %s meta-data?",
                           md::FormatName(*have), md::FormatName(place.format)))) {
          Out("Operation cancelled.\n");
          Exit(1);
        }
        md.magic = 0;
      }
    }
  }

  void CheckExternalMdFlavours() {
    if (md.magic) {
      if (!Confirmed("Valid meta data seems to be in place.\nDo you really want to overwrite?")) {
        Out("Operation cancelled.\n");
        Exit(1);
      }
      md.magic = 0;
      return;
    }
    md::SuperblockBytes raw{};
    Read(md_offset, raw, "check_external_md_flavours");
    Superblock now{};
    std::optional<Format> have = DetectMd(raw, md::kIndexFlexExternal, &now);
    if (!have) return;
    if (Confirmed(Fmt("Valid %s meta-data found, convert to %s?", md::FormatName(*have),
                      md::FormatName(place.format)))) {
      md = now;
      Convert(*have);
      return;
    }
    if (Confirmed(Fmt("So you want me to replace the %s meta-data\nwith newly initialized %s meta-data?",
                      md::FormatName(*have), md::FormatName(place.format)))) {
      md.magic = 0;
      return;
    }
    Out("Operation cancelled.\n");
    Exit(1);
  }

  // Zeroes the bitmap area in `step`-sized pieces, with drbdmeta's
  // percentage progress on stderr. `fast` uses BLKZEROOUT.
  bool ZeroBitmapArea(uint64_t bytes, uint64_t step, bool fast) {
    uint64_t left = bytes, off = layout.bm_offset;
    unsigned last = 0;
    // 4 KiB-aligned, so that the device may write it with O_DIRECT.
    const size_t zero_len = fast ? 0 : (std::min(step, bytes) + 4095) / 4096 * 4096;
    std::unique_ptr<uint8_t, decltype(&std::free)> zero(
        zero_len ? static_cast<uint8_t*>(std::aligned_alloc(4096, zero_len)) : nullptr, &std::free);
    if (zero_len) {
      if (!zero) {
        Err("out of memory\n");
        Exit(20);
      }
      std::memset(zero.get(), 0, zero_len);
    }
    for (;;) {
      const uint64_t chunk = std::min(step, left);
      if (fast) {
        CheckWriteRange(off, chunk, "zeroout_bitmap_fast");
        if (!disk->ZeroOut(off, chunk).ok()) {
          Err(Fmt("ioctl(%s, BLKZEROOUT, [%llu, %llu]) failed: %s\n", md_device_name.c_str(),
                  static_cast<unsigned long long>(off), static_cast<unsigned long long>(chunk),
                  std::strerror(dev->zeroout_errno())));
          return false;
        }
      } else {
        Write(off, std::span<const uint8_t>(zero.get(), chunk), "md_initialize_common:BM");
      }
      off += chunk;
      left -= chunk;
      if (left == 0) break;
      const unsigned pct = static_cast<unsigned>(100 * (bytes - left) / bytes);
      if (pct != last) {
        Err(Fmt("\r%u%%", pct));
        last = pct;
      }
    }
    if (last) Err("\r100%\n");
    return true;
  }

  void InitializeBitmap() {
    const uint64_t bytes = (md::BmBytes(md.max_peers, md.bm_bytes_per_bit, bd_size >> 9) + hard_sect - 1) /
                           hard_sect * hard_sect;
    const std::string pp = PpSize(bytes >> 10);
    if (bitmap_init == BitmapInit::kSkip) {
      Err("SKIPPED initializing bitmap area\n");
      return;
    }
    if (bitmap_init != BitmapInit::kPwrite) {
      Err("initializing bitmap (" + pp + ") to all zero\n");
      // drbdmeta issues BLKZEROOUT even under --dry-run; we do not on block
      // devices (on files it fails and falls back to the skipped pwrites).
      if (dry_run && dev->is_block_device()) return;
      if (ZeroBitmapArea(bytes, 1ull << 30, true)) return;
      if (bitmap_init == BitmapInit::kZeroout) {
        Err("fast zero-out failed, fallback disabled\n");
        Exit(10);
      }
    }
    Err("initializing bitmap (" + pp + ") to all zero using pwrite\n");
    ZeroBitmapArea(bytes, kBufferSize, false);
  }

  // md_initialize(): fresh superblock, AL and bitmap.
  void InitializeMd(uint32_t max_peers) {
    md = md::NewSuperblock(place.format, max_peers, static_cast<uint32_t>(al_stripes),
                           static_cast<uint32_t>(al_stripe_size_4k));
    md::Status s = md::InitOffsets(md, place.index, bd_size);
    if (!s.ok()) {
      Err(s.message() + "\n");
      Exit(10);
    }
    layout = md::ComputeLayout(md, place.index, bd_size);
    VerboseOffsets("");
    CheckForExistingData();
    Out("initializing activity log\n");
    CheckWriteRange(layout.al_offset, uint64_t{md.al_stripes} * md.al_stripe_size_4k * 4096, "md_initialize_common:AL");
    disk->set_tag("md_initialize_common:AL");
    md::Status st = md::InitializeAl(*disk, layout, md);
    if (!st.ok()) {
      Err("pwrite in md_initialize_common:AL failed: " + st.message() + "\n");
      Exit(10);
    }
    InitializeBitmap();
  }
};

// ---- output helpers ----

std::string Hex64(uint64_t v) { return Fmt("%016" PRIX64, v); }

// The get-gi line for peer slot `node` (v09) or of the v08 superblock.
std::string GetGiLine(const Tool& t, const Superblock& sb, int node) {
  if (t.IsV09()) {
    return md::GiLineV09(sb.current_uuid, sb.peers[node].bitmap_uuid, sb.history_uuids[0],
                         sb.history_uuids[1], sb.flags, sb.peers[node].flags);
  }
  return md::GiLineV08(sb.current_uuid, sb.peers[node].bitmap_uuid, sb.history_uuids[0],
                       sb.history_uuids[1], sb.flags);
}

std::string PeerFlagNames(uint32_t flags) {
  static const char* kNames[32] = {"connected", "<=outdated", "fencing", "full-sync", "seen", nullptr, nullptr,
                                   nullptr,     nullptr,      nullptr,   nullptr,     nullptr, nullptr, nullptr,
                                   nullptr,     nullptr,      "exists"};
  std::string s;
  const char* sep = " # ";
  for (int i = 0; i < 32; ++i) {
    const uint32_t f = 1u << i;
    if (!(flags & f)) continue;
    s += sep;
    s += kNames[i] ? std::string(kNames[i]) : Fmt("0x%x=?", f);
    sep = " | ";
  }
  // drbdmeta formats into an 80-byte buffer: the text is cut at 79 bytes,
  // even in the middle of a name.
  if (s.size() > 79) s.resize(79);
  return s;
}

// ---- commands ----

void IgnoreExtra(Tool& t, const std::vector<std::string>& a, size_t allowed = 0) {
  if (a.size() > allowed) t.Err("Ignoring additional arguments\n");
}

int CmdGetGi(Tool& t, const std::vector<std::string>& a) {
  IgnoreExtra(t, a);
  if (t.Open() != OpenState::kValid) return -1;
  t.Out(GetGiLine(t, t.md, static_cast<int>(t.node_id)));
  return t.Close();
}

int CmdShowGi(Tool& t, const std::vector<std::string>& a) {
  IgnoreExtra(t, a);
  if (t.Open() != OpenState::kValid) return -1;
  const Superblock& m = t.md;
  t.Out(std::string(md::kShowGiHeader));
  t.Out(GetGiLine(t, m, static_cast<int>(t.node_id)));
  if (t.IsV09()) {
    t.Out(std::string(md::kShowGiV09Legend));
  } else {
    const uint32_t f = m.flags;
    t.Out(std::string(md::kShowGiV08Legend));
    t.Out(Fmt("flags:%s %s, %s, %s%s%s\n", (f & md::kMdfCrashedPrimary) ? " crashed" : "",
              (f & md::kMdfPrimaryInd) ? "Primary" : "Secondary",
              (f & md::kMdfConnectedInd) ? "Connected" : "StandAlone",
              (f & md::kMdfConsistent) ? ((f & md::kMdfWasUpToDate) ? "UpToDate" : "Outdated") : "Inconsistent",
              (f & md::kMdfFullSync) ? ", need full sync" : "", (f & md::kMdfPeerOutDated) ? ", peer Outdated" : ""));
    t.Out(Fmt("meta-data: %s\n", (f & md::kMdfAlClean) ? "clean" : "need apply-al"));
  }
  if (m.effective_size) {
    t.Out(Fmt("last agreed size: %s (%llu sectors)\n", PpSize(m.effective_size >> 1).c_str(),
              static_cast<unsigned long long>(m.effective_size)));
    t.Out(Fmt("last agreed max bio size: %u Byte\n", m.la_peer_max_bio_size));
  } else {
    t.Out("zero size device -- never seen peer yet?\n");
  }
  return t.Close();
}

int CmdDstate(Tool& t, const std::vector<std::string>& a) {
  IgnoreExtra(t, a);
  if (t.Open() != OpenState::kValid) {
    t.Err("No valid meta data found\n");
    return -1;
  }
  const uint32_t f = t.md.flags;
  if (f & md::kMdfConsistent) {
    if (f & md::kMdfWasUpToDate) {
      t.Out((f & md::kMdfPeerOutDated) ? "UpToDate\n" : "Consistent\n");
    } else {
      t.Out("Outdated\n");
    }
  } else {
    t.Out("Inconsistent\n");
  }
  return t.Close();
}

// Parses one ':'-separated field of set-gi. Returns false when the input is
// exhausted (drbdmeta's strsep loop).
struct FieldReader {
  Tool& t;
  std::string rest;
  bool more = true;

  std::optional<std::string> Next() {
    if (!more) return std::nullopt;
    const size_t p = rest.find(':');
    std::string field = rest.substr(0, p);
    if (p == std::string::npos) {
      more = false;
      rest.clear();
    } else {
      rest = rest.substr(p + 1);
    }
    return field;
  }
  // drbdmeta prints the remainder of the string (or "(null)") in errors.
  std::string Remainder() const { return more ? rest : "(null)"; }

  bool U64(uint64_t* v) {
    std::optional<std::string> f = Next();
    if (!f) return false;
    if (f->empty()) return true;
    char* end = nullptr;
    errno = 0;
    uint64_t x = std::strtoull(f->c_str(), &end, 16);
    if (*end != 0) {
      t.Err("'" + Remainder() + "' is not a number.\n");
      t.Exit(10);
    }
    if (errno) {
      t.Err("'" + Remainder() + "': " + std::strerror(errno) + "\n");
      t.Exit(10);
    }
    *v = x;
    return true;
  }
  bool Bit(uint32_t* v, uint32_t mask) {
    std::optional<std::string> f = Next();
    if (!f) return false;
    unsigned long d = (*v & mask) ? 1 : 0;
    if (!f->empty()) {
      char* end = nullptr;
      errno = 0;
      d = std::strtoul(f->c_str(), &end, 0);
      if (*end != 0) {
        t.Err("'" + Remainder() + "' is not a number.\n");
        t.Exit(10);
      }
      if (errno) {
        t.Err("'" + Remainder() + "': " + std::strerror(errno) + "\n");
        t.Exit(10);
      }
      if (d > 0xFFffFFffUL) {
        t.Err("'" + Remainder() + "' is out of range (max 0xFFffFFff).\n");
        t.Exit(10);
      }
    }
    if (d > 1) {
      t.Err(Fmt("'%d' is not 0 or 1.\n", static_cast<int>(d)));
      t.Exit(10);
    }
    *v = d ? (*v | mask) : (*v & ~mask);
    return true;
  }
};

void SetGi(Tool& t, Superblock& m, int node, const std::string& arg) {
  FieldReader r{t, arg};
  if (!r.U64(&m.current_uuid)) return;
  if (!r.U64(&m.peers[node].bitmap_uuid)) return;
  for (int i = 0; i < md::kHistoryUuidsV08; ++i) {
    if (!r.U64(&m.history_uuids[i])) return;
  }
  uint32_t& f = m.flags;
  if (t.IsV09()) {
    uint32_t& p = m.peers[node].flags;
    for (uint32_t mask : {md::kMdfConsistent, md::kMdfWasUpToDate, md::kMdfPrimaryInd, md::kMdfCrashedPrimary,
                          md::kMdfAlClean, md::kMdfAlDisabled, md::kMdfPrimaryLostQuorum}) {
      if (!r.Bit(&f, mask)) return;
    }
    for (uint32_t mask : {md::kPeerConnected, md::kPeerOutdated, md::kPeerFencing, md::kPeerFullSync,
                          md::kPeerDeviceSeen}) {
      if (!r.Bit(&p, mask)) return;
    }
  } else {
    for (uint32_t mask : {md::kMdfConsistent, md::kMdfWasUpToDate, md::kMdfPrimaryInd, md::kMdfConnectedInd,
                          md::kMdfFullSync, md::kMdfPeerOutDated, md::kMdfCrashedPrimary}) {
      if (!r.Bit(&f, mask)) return;
    }
  }
}

int CmdSetGi(Tool& t, const std::vector<std::string>& a) {
  if (a.size() > 1) t.Err("Ignoring additional arguments\n");
  if (a.empty()) {
    t.Err("Required Argument missing\n");
    t.Exit(10);
  }
  if (t.Open() != OpenState::kValid) return -1;
  Superblock tmp = t.md;
  const int node = static_cast<int>(t.node_id);
  SetGi(t, tmp, node, a[0]);
  t.Out("previously ");
  t.Out(GetGiLine(t, t.md, node));
  t.Out("set GI to  ");
  t.Out(GetGiLine(t, tmp, node));
  if (!t.Confirmed("Write new GI to disk?")) {
    t.Out("Operation canceled.\n");
    t.Exit(0);
  }
  t.md = tmp;
  int err = t.WriteMd();
  err = t.Close() || err;
  if (err) t.Err("update failed\n");
  return err;
}

int CmdOutdate(Tool& t, const std::vector<std::string>& a) {
  IgnoreExtra(t, a);
  if (t.Open() != OpenState::kValid) return -1;
  if (!(t.md.flags & md::kMdfConsistent)) {
    t.Err("Device is inconsistent.\n");
    t.Exit(5);
  }
  t.md.flags &= ~md::kMdfWasUpToDate;
  int err = t.WriteMd();
  err = t.Close() || err;
  if (err) t.Err("update failed\n");
  return err;
}

int CmdInvalidate(Tool& t, const std::vector<std::string>& a) {
  IgnoreExtra(t, a);
  if (t.Open() != OpenState::kValid) return -1;
  t.md.flags &= ~(md::kMdfConsistent | md::kMdfWasUpToDate);
  if (t.IsV09()) {
    for (auto& p : t.md.peers) p.flags |= md::kPeerFullSync;
  } else {
    t.md.flags |= md::kMdfFullSync;
  }
  int err = t.WriteMd();
  err = t.Close() || err;
  if (err) t.Err("update failed\n");
  return err;
}

int CmdReadDevUuid(Tool& t, const std::vector<std::string>& a) {
  IgnoreExtra(t, a);
  if (t.Open() != OpenState::kValid) return -1;
  t.Out(Hex64(t.md.device_uuid) + "\n");
  return t.Close();
}

int CmdWriteDevUuid(Tool& t, const std::vector<std::string>& a) {
  if (a.size() > 1) t.Err("Ignoring additional arguments\n");
  if (a.empty()) {
    t.Err("Required Argument missing\n");
    t.Exit(10);
  }
  if (t.Open() != OpenState::kValid) return -1;
  t.md.device_uuid = std::strtoull(a[0].c_str(), nullptr, 16);
  int err = t.WriteMd();
  err = t.Close() || err;
  if (err) t.Err("update failed\n");
  return err;
}

int CmdWipeMd(Tool& t, const std::vector<std::string>& a) {
  IgnoreExtra(t, a);
  if (t.Open() != OpenState::kValid) {
    t.Err("There appears to be no drbd meta data to wipe out?\n");
    return 0;
  }
  if (!t.Confirmed("Do you really want to wipe out the DRBD meta data?")) {
    t.Out("Operation cancelled.\n");
    t.Exit(1);
  }
  t.Out("Wiping meta data...\n");
  const md::SuperblockBytes zero{};
  t.Write(t.md_offset, zero, "meta_wipe_md");
  int err = t.Close();
  if (err) {
    t.Err("operation failed\n");
  } else {
    t.Out("DRBD meta data block successfully wiped out.\n");
  }
  t.LkDelete();
  return err;
}

int CmdForgetPeer(Tool& t, const std::vector<std::string>&) {
  if (t.Open() != OpenState::kValid) return -1;
  Superblock& m = t.md;
  int day0 = -1;
  for (int p = 0; p < md::kPeersMax; ++p) {
    if (p == m.node_id) continue;
    if (m.peers[p].bitmap_index == -1) {
      day0 = p;
      break;
    }
  }
  md::PeerRecord& peer = m.peers[t.node_id];
  const int to_index = peer.bitmap_index;
  peer.bitmap_index = -1;
  peer.flags = 0;
  if (day0 > -1) {
    peer.bitmap_uuid = m.peers[day0].bitmap_uuid;
    peer.bitmap_dagtag = m.peers[day0].bitmap_dagtag;
    t.Err(Fmt("Copying bitmap slot %d to %d not implemented.\nDo it with dump-md, edit, restore-md\n",
              m.peers[day0].bitmap_index, to_index));
  } else {
    peer.bitmap_uuid = 0;
    peer.bitmap_dagtag = 0;
    t.Err(Fmt("Setting all bits in slot %d not implemented.\nDo it with dump-md, edit, restore-md\n", to_index));
  }
  t.WriteMd();
  int err = t.Close();
  if (err) t.Err("update failed\n");
  return err;
}

// repair-md (drbd-utils >= 9.28): a "day0" peer slot (not this node, no
// bitmap, no flags) must carry the same bitmap UUID as the other day0 slots;
// older DRBD could damage some. The reference is the highest-numbered such
// slot. With --tentative/--dry-run only reports, and exits 1 if a repair is
// due.
int CmdRepairMd(Tool& t, const std::vector<std::string>& a) {
  IgnoreExtra(t, a);
  OpenState state = t.Open();
  if (state == OpenState::kValidAtLastKnown && t.MoveAfterResize() == 0) state = t.Open();
  if (state != OpenState::kValid) {
    t.Err("No valid meta data found\n");
    return -1;
  }
  Superblock& m = t.md;
  auto is_day0 = [&m](int p) { return p != m.node_id && m.peers[p].bitmap_index == -1 && m.peers[p].flags == 0; };
  int day0 = -1;
  for (int p = md::kPeersMax - 1; p >= 0 && day0 < 0; --p) {
    if (is_day0(p)) day0 = p;
  }
  if (day0 < 0) return 0;
  const uint64_t want = m.peers[day0].bitmap_uuid;
  bool dirty = false;
  for (int p = 0; p < md::kPeersMax; ++p) {
    if (!is_day0(p) || m.peers[p].bitmap_uuid == want) continue;
    t.Err(Fmt("Peer slot %d has \"day0\" UUID 0x%016" PRIX64 ", expected 0x%016" PRIX64 "\n", p,
              m.peers[p].bitmap_uuid, want));
    m.peers[p].bitmap_uuid = want;
    dirty = true;
  }
  if (!t.dry_run && dirty) {
    t.Err("Repairing metadata\n");
    t.WriteMd();
  }
  if (t.Close() != 0) {
    t.Err("update failed\n");
    return -1;
  }
  return t.dry_run && dirty ? -1 : 0;
}

std::string Hostname(const Io& io) {
  if (!io.hostname.empty()) return io.hostname;
  char buf[HOST_NAME_MAX + 1] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return "";
  return buf;
}

// Prints one bitmap slot; its opening brace goes out before the first
// read, as drbdmeta's does (visible in -vv traces, which flush stdout).
void PrintBitmapSlot(Tool& t, const md::BitmapReader& reader, uint64_t n_words, uint32_t peers, uint32_t slot,
                     uint64_t* bits) {
  t.Out("{");
  std::string text = md::FormatBitmapSlot(reader, n_words, peers, slot, bits);
  if (!text.empty() && text[0] == '{') text.erase(0, 1);
  t.Out(text);
}

int CmdDumpMd(Tool& t, const std::vector<std::string>& a) {
  IgnoreExtra(t, a);
  const OpenState state = t.Open();
  if (state == OpenState::kNone) {
    t.Err("No valid meta data found\n");
    return -1;
  }
  Superblock& m = t.md;
  const bool al_clean = m.magic != md::kMagic84Unclean && (m.flags & md::kMdfAlClean);
  if (!al_clean) {
    t.Err("Found meta data is \"unclean\", please apply-al first\n");
    if (!t.force) return -1;
  }
  const std::time_t now = t.io.now();
  struct tm tm_local;
  localtime_r(&now, &tm_local);
  char tbuf[80];
  std::strftime(tbuf, sizeof tbuf, "%F %T %z [%s]", &tm_local);
  std::string args;
  for (const std::string& s : t.argv) args += " " + s;
  t.Out(std::string("# DRBD meta data dump\n# ") + tbuf + "\n# " + Hostname(t.io) + ">" + args + "\n#\n\n");
  t.Out(Fmt("version \"%s\";\n\n", md::FormatName(t.place.format)));
  if (!al_clean) {
    t.Out("This_is_an_unclean_meta_data_dump._Don't_trust_the_bitmap.\n"
          "# You should \"apply-al\" first, if you plan to restore this.\n\n");
  }
  if (t.IsV09()) t.Out(Fmt("max-peers %d;\n", static_cast<int>(m.max_peers)));
  t.Out(Fmt("# md_size_sect %llu\n", static_cast<unsigned long long>(m.md_size_sect)));
  if (state == OpenState::kValidAtLastKnown) {
    // The expected-position AL/bitmap offsets were never computed on this
    // path in drbdmeta, which prints them as 0.
    t.Out(Fmt("#\n### Device seems to have been resized!\n### dumping meta data from the last known position\n"
              "### current size of %s: %llu byte\n### expected position of meta data:\n",
              t.md_device_name.c_str(), static_cast<unsigned long long>(t.bd_size)));
    t.Out(Fmt("## md_offset %llu\n## al_offset 0\n## bm_offset 0\n", static_cast<unsigned long long>(t.md_offset)));
    t.Out(Fmt("### last known size of %s: %llu byte\n### adjusted position of meta data:\n",
              t.lk_name.empty() ? "-?-" : t.lk_name.c_str(), static_cast<unsigned long long>(t.lk_size)));
    t.layout = md::ComputeLayout(m, md::kIndexFlexInternal, t.lk_size);
    t.bm_bytes = md::BmBytes(m.max_peers, m.bm_bytes_per_bit, m.effective_size);
  }
  t.Out(Fmt("# md_offset %llu\n", static_cast<unsigned long long>(t.layout.md_offset)));
  t.Out(Fmt("# al_offset %llu\n", static_cast<unsigned long long>(t.layout.al_offset)));
  t.Out(Fmt("# bm_offset %llu\n", static_cast<unsigned long long>(t.layout.bm_offset)));
  t.Out("\n");
  if (t.IsV09()) {
    t.Out(Fmt("node-id %d;\ncurrent-uuid 0x%016" PRIX64 ";\nflags 0x%08X;\n", m.node_id, m.current_uuid, m.flags));
    for (int i = 0; i < md::kPeersMax; ++i) {
      const md::PeerRecord& p = m.peers[i];
      t.Out(Fmt("peer[%d] {\n    bitmap-index %d;\n", i, p.bitmap_index));
      t.Out(Fmt("    bitmap-uuid 0x%016" PRIX64 ";\n    bitmap-dagtag 0x%016" PRIX64 ";\n    flags 0x%08X;%s\n}\n",
                p.bitmap_uuid, p.bitmap_dagtag, p.flags, PeerFlagNames(p.flags).c_str()));
    }
    t.Out("history-uuids {");
    for (int i = 0; i < md::kHistoryUuids; ++i) {
      t.Out(Fmt("%s0x%016" PRIX64 ";", i % 4 ? " " : "\n        ", m.history_uuids[i]));
    }
    t.Out("\n}\n");
  } else {
    t.Out(Fmt("uuid {\n    0x%016" PRIX64 "; 0x%016" PRIX64 "; 0x%016" PRIX64 "; 0x%016" PRIX64 ";\n",
              m.current_uuid, m.peers[0].bitmap_uuid, m.history_uuids[0], m.history_uuids[1]));
    // drbd-utils 9.22 prints peers[0].flags here, which is always 0 for v08.
    t.Out(Fmt("    flags 0x%08X;\n}\n", m.peers[0].flags));
  }
  t.Out(Fmt("# al-extents %u;\n", m.al_nr_extents));
  t.Out(Fmt("la-size-sect %" PRIu64 ";\n", m.effective_size));
  t.Out(Fmt("bm-byte-per-bit %u;\n", m.bm_bytes_per_bit));
  t.Out(Fmt("device-uuid 0x%016" PRIX64 ";\n", m.device_uuid));
  t.Out(Fmt("la-peer-max-bio-size %d;\n", static_cast<int>(m.la_peer_max_bio_size)));
  t.Out(Fmt("al-stripes %u;\n", m.al_stripes));
  t.Out(Fmt("al-stripe-size-4k %u;\n", m.al_stripe_size_4k));
  t.Out(Fmt("# bm-bytes %" PRIu64 ";\n", t.bm_bytes));
  const uint64_t bm_start = t.layout.bm_offset;
  md::BitmapReader reader = [&t, bm_start](uint64_t off, size_t len, uint8_t* dst) {
    t.Read(bm_start + off, std::span<uint8_t>(dst, len), "fprintf_bm");
  };
  uint64_t bits = 0;
  const uint64_t n_words = t.bm_bytes / 4;
  if (t.IsV09()) {
    for (uint32_t i = 0; i < m.max_peers; ++i) {
      t.Out(Fmt("bitmap[%u] ", i));
      PrintBitmapSlot(t, reader, n_words, m.max_peers, i, &bits);
    }
  } else {
    t.Out("bm ");
    PrintBitmapSlot(t, reader, n_words, 1, 0, &bits);
  }
  t.Out(Fmt("# bits-set %" PRIu64 ";\n", static_cast<uint64_t>(static_cast<uint32_t>(bits))));
  return t.Close();
}

// drbd-utils' hexdump layout (offset, 16 bytes, printable characters;
// repeated lines collapse to "*"; the offset after the end closes it).
std::string HexDump(uint64_t file_offset, const uint8_t* c, size_t len) {
  std::string out;
  size_t o = 0;
  bool skipped = false;
  auto pr = [](uint8_t x) { return static_cast<char>(x >= 0x20 && x < 0x7f ? x : '.'); };
  for (; o + 16 < len; o += 16) {
    const uint8_t* l = c + o;
    if (o && std::memcmp(l - 16, l, 16) == 0) {
      skipped = true;
      continue;
    }
    if (skipped) {
      skipped = false;
      out += "*\n";
    }
    out += Fmt("%08llx", static_cast<unsigned long long>(o) + file_offset);
    for (int i = 0; i < 16; ++i) out += Fmt("%s %02x", i % 8 == 0 ? " " : "", l[i]);
    out += "  |";
    for (int i = 0; i < 16; ++i) out += pr(l[i]);
    out += "|\n";
  }
  if (skipped) out += "*\n";
  if (o < len) {
    const size_t rem = len - o;
    out += Fmt("%08llx ", static_cast<unsigned long long>(o) + file_offset);
    size_t i = 0;
    for (; i < rem; ++i) out += Fmt("%s %02x", i == 8 ? " " : "", c[o + i]);
    out += std::string((16 - i) * 3 + (i < 8), ' ') + "  |";
    for (i = 0; i < rem; ++i) out += pr(c[o + i]);
    out += "|\n";
  }
  out += Fmt("%08llx\n", static_cast<unsigned long long>(len) + file_offset);
  return out;
}

// dump-superblock (drbd-utils >= 9.30): the raw superblock as binary, hex or
// a JSON interpretation. Exit 2 when found only at the last-known position,
// 3 when not valid.
int CmdDumpSuperblock(Tool& t, const std::vector<std::string>& a) {
  IgnoreExtra(t, a);
  t.force = true;
  const OpenState state = t.Open();
  uint64_t offset = t.md_offset;
  if (state == OpenState::kValidAtLastKnown) offset = md::SuperblockOffset(md::kIndexFlexInternal, t.lk_size);
  md::SuperblockBytes raw{};
  t.Read(offset, raw, t.FmtTag("v08_md_disk_to_cpu", "v09_md_disk_to_cpu"));
  DumpFormat f = t.output_format;
  if (f == DumpFormat::kAuto) f = isatty(STDOUT_FILENO) == 1 ? DumpFormat::kHex : DumpFormat::kBinary;
  if (f == DumpFormat::kBinary) {
    t.Out(std::string(reinterpret_cast<const char*>(raw.data()), raw.size()));
  } else if (f == DumpFormat::kHex) {
    t.Out(HexDump(offset, raw.data(), raw.size()));
  } else {
    const Superblock m = md::Decode(t.place.format, raw);
    const Format other = t.IsV09() ? Format::kV08 : Format::kV09;
    std::string looks_like;
    if (state == OpenState::kNone) {
      looks_like = md::Validate(other, md::Decode(other, raw), t.place.index, t.bd_size).ok
                       ? md::FormatName(other) : "UNKNOWN";
    } else {
      looks_like = md::FormatName(t.place.format);
    }
    std::string j = "{\n";
    j += Fmt("  \"effective_size\": %" PRIu64 ",\n  \"current_uuid\": \"0x%016" PRIX64 "\",\n", m.effective_size,
             m.current_uuid);
    j += Fmt("  \"device_uuid\": \"0x%016" PRIX64 "\",\n  \"flags\": \"0x%08X\",\n  \"magic\": \"0x%08X\",\n",
             m.device_uuid, m.flags, m.magic);
    j += Fmt("  \"md_size_sect\": %u,\n  \"al_offset\": %d,\n  \"al_nr_extents\": %u,\n  \"bm_offset\": %d,\n",
             m.md_size_sect, m.al_offset, m.al_nr_extents, m.bm_offset);
    j += Fmt("  \"bm_bytes_per_bit\": %u,\n  \"la_peer_max_bio_size\": %u,\n  \"al_stripes\": %u,\n"
             "  \"al_stripe_size_4k\": %u,\n",
             m.bm_bytes_per_bit, m.la_peer_max_bio_size, m.al_stripes, m.al_stripe_size_4k);
    if (!t.IsV09()) {
      j += Fmt("  \"peers\": [ { \"bitmap_uuid\": \"0x%016" PRIX64 "\" } ],\n", m.peers[0].bitmap_uuid);
      j += Fmt("  \"history_uuids\": [\n    \"0x%016" PRIX64 "\", \"0x%016" PRIX64 "\"\n  ],\n", m.history_uuids[0],
               m.history_uuids[1]);
    } else {
      j += "  \"peers\": [";
      for (int i = 0; i < md::kPeersMax; ++i) {
        const uint8_t* r = raw.data() + 0x70 + 32 * i;
        j += Fmt("%s\n    { \"bitmap_uuid\": \"0x%016" PRIX64 "\",  \"bitmap_dagtag\": %" PRIu64
                 ",  \"flags\": \"0x%08X\",  \"bitmap_index\": %d,  \"reserved_u32\": [ \"0x%08X\", \"0x%08X\" ] }",
                 i ? "," : "", m.peers[i].bitmap_uuid, m.peers[i].bitmap_dagtag, m.peers[i].flags,
                 m.peers[i].bitmap_index, md::LoadBe32(r + 24), md::LoadBe32(r + 28));
      }
      j += "\n  ],\n";
      j += Fmt("  \"bm_max_peers\": %u,\n  \"node_id\": %d,\n  \"members\": \"0x%016" PRIX64 "\",\n", m.max_peers,
               m.node_id, md::LoadBe64(raw.data() + 0x10));
      j += Fmt("  \"reserved_u64\": [ \"0x%016" PRIX64 "\", \"0x%016" PRIX64 "\", \"0x%016" PRIX64 "\" ],\n",
               md::LoadBe64(raw.data() + 0x18), md::LoadBe64(raw.data() + 0x20), md::LoadBe64(raw.data() + 0x28));
      j += Fmt("  \"reserved_u32\": [ \"0x%08X\", \"0x%08X\" ],\n", md::LoadBe32(raw.data() + 0x68),
               md::LoadBe32(raw.data() + 0x6c));
      j += "  \"history_uuids\": [\n";
      for (int i = 0; i < md::kHistoryUuids; ++i) {
        j += Fmt("%s\"0x%016" PRIX64 "\"%s", i % 4 == 0 ? "    " : " ", m.history_uuids[i],
                 i == md::kHistoryUuids - 1 ? "\n" : (i % 4 == 3 ? ",\n" : ","));
      }
      j += "  ],\n";
    }
    const size_t start = t.IsV09() ? 0x570 : 0x60;
    const size_t end = t.IsV09() ? 4096 : 4096;
    std::string nz;
    for (size_t i = start; i < end; ++i) {
      if (raw[i]) nz += Fmt("%s\n      \"%zu\": \"0x%02x\"", nz.empty() ? "" : ",", i, raw[i]);
    }
    if (nz.empty()) {
      j += Fmt("  \"padding\": { \"start\": %zu, \"end\": %zu, \"non-zero\": { } },\n", start, end);
    } else {
      j += Fmt("  \"padding\": {\n    \"start\": %zu,\n    \"end\": %zu,\n    \"non-zero\": {", start, end) + nz +
           "\n    }\n  },\n";
    }
    const std::time_t now = t.io.now();
    struct tm tm_utc;
    gmtime_r(&now, &tm_utc);
    char tbuf[32];
    std::strftime(tbuf, sizeof tbuf, "%F %T", &tm_utc);
    const char* valid = state == OpenState::kValid ? "VALID_MD_FOUND"
                        : state == OpenState::kValidAtLastKnown ? "VALID_MD_FOUND_AT_LAST_KNOWN_LOCATION"
                                                                 : "NO_VALID_MD_FOUND";
    j += Fmt("  \"#meta\": {\n    \"dump_time_utc\": \"%sZ\",\n    \"dump_host\": \"%s\",\n", tbuf,
             Hostname(t.io).c_str());
    j += Fmt("    \"md_device_name\": \"%s\",\n    \"dump_offset\": %" PRIu64 ",\n    \"bd_size\": %" PRIu64 ",\n",
             t.md_device_name.c_str(), offset, t.bd_size);
    j += Fmt("    \"dumped_as\": \"%s\",\n    \"looks_like\": \"%s\",\n    \"valid\": \"%s\"\n  }\n}\n",
             md::FormatName(t.place.format), looks_like.c_str(), valid);
    t.Out(j);
  }
  (void)t.Close();
  if (state != OpenState::kValid) t.Exit(state == OpenState::kValidAtLastKnown ? 2 : 3);
  return 0;
}

// hexdump-superblock (drbd-utils >= 9.30): dump-superblock as a hex dump.
int CmdHexDumpSuperblock(Tool& t, const std::vector<std::string>& a) {
  t.output_format = DumpFormat::kHex;
  return CmdDumpSuperblock(t, a);
}

int CmdApplyAl(Tool& t, const std::vector<std::string>& a) {
  IgnoreExtra(t, a);
  OpenState state = t.Open();
  if (state == OpenState::kValidAtLastKnown && t.MoveAfterResize() == 0) {
    t.update_lk_bdev = false;
    state = t.Open();
  }
  if (state != OpenState::kValid) {
    t.Err("No valid meta data found\n");
    return -1;
  }
  Superblock& m = t.md;
  const uint64_t al_blocks = uint64_t{m.al_stripes} * m.al_stripe_size_4k;
  if (al_blocks > md::kAlMaxBlocks) {
    t.Err(Fmt("activity log of %" PRIu64 " blocks is larger than the supported %u blocks\n", al_blocks,
              md::kAlMaxBlocks));
    return -1;
  }
  std::vector<uint8_t> area(al_blocks * md::kAlBlockBytes);
  t.Read(t.layout.al_offset, area, "apply_al");
  md::AlReplay replay = md::ReplayAl(area, m.al_stripes, m.al_stripe_size_4k);
  for (const std::string& msg : replay.messages) t.Err(msg + "\n");
  const bool need = (m.flags & md::kMdfPrimaryInd) != 0;
  bool reinit = false;
  bool update_flags = false;
  if (replay.result < 0) {
    if (need) return replay.result == md::AlReplay::kNoData ? 1 : 2;
    t.Err("Error ignored, no need to apply the AL\n");
    reinit = true;
  }
  if (replay.result > 0 && need) {
    const uint64_t bm = (t.bm_bytes + t.hard_sect - 1) / t.hard_sect * t.hard_sect;
    std::vector<std::string> msgs;
    uint64_t added = 0;
    t.CheckWriteRange(t.layout.bm_offset, bm, "apply_al");
    t.disk->set_tag("apply_al");
    md::Status s = md::ApplyHotExtentsOnDisk(*t.disk, t.layout, m.max_peers, bm, replay.hot_extents, &added, &msgs);
    for (const std::string& msg : msgs) t.Err(msg + "\n");
    if (!s.ok()) {
      t.Err("pwrite in apply_al failed: " + s.message() + "\n");
      t.Exit(10);
    }
    if (!replay.hot_extents.empty()) {
      t.Err("Marked additional " + PpSize(static_cast<uint32_t>(added * 4)) + " as out-of-sync based on AL.\n");
    } else {
      t.Err("Nothing to do.\n");
    }
    update_flags = true;
  }
  if (reinit || replay.result > 0) {
    t.CheckWriteRange(t.layout.al_offset, al_blocks * md::kAlBlockBytes, "md_initialize_common:AL");
    t.disk->set_tag("md_initialize_common:AL");
    md::Status s = md::InitializeAl(*t.disk, t.layout, m);
    if (!s.ok()) {
      t.Err("pwrite in initialize_al failed: " + s.message() + "\n");
      t.Exit(10);
    }
  }
  if (!(m.flags & md::kMdfAlClean) || m.magic != md::kMagic08) update_flags = true;
  int err = 0;
  if (update_flags) {
    m.flags |= md::kMdfAlClean;
    if (!t.IsV09()) m.magic = md::kMagic08;
    err = t.WriteMd();
    err = t.Close() || err;
    if (err) t.Err("update of super block flags failed\n");
  }
  return err;
}

// A random UUID with bit 0 (the Primary marker) clear, never 0 or 4.
uint64_t RandomUuid(Tool& t) {
  for (int i = 0; i < 4; ++i) {
    uint64_t v = 0;
    FILE* f = std::fopen("/dev/urandom", "rb");
    if (f) {
      if (std::fread(&v, sizeof v, 1, f) != 1) v = 0;
      std::fclose(f);
    }
    v &= ~uint64_t{1};
    if (v != 0 && v != md::kUuidJustCreated) return v;
  }
  t.Err("Failed to generate a valid random UUID\n");
  t.Exit(20);
}

// create-md's UUID pre-provisioning options (drbd-utils >= 9.33).
void ApplyCreateMdUuidOptions(Tool& t) {
  Superblock& m = t.md;
  if (t.initial_current_uuid) {
    if (*t.initial_current_uuid == "generate") {
      m.current_uuid = RandomUuid(t);
    } else {
      char* end = nullptr;
      m.current_uuid = std::strtoull(t.initial_current_uuid->c_str(), &end, 16);
      if (*end != '\0') {
        t.Err("--initial-current-uuid: expected 'generate' or a hex value, got '" + *t.initial_current_uuid + "'\n");
        t.Exit(10);
      }
      m.current_uuid &= ~uint64_t{1};
      if (m.current_uuid == 0) {
        t.Err("--initial-current-uuid: value must not be zero\n");
        t.Exit(10);
      }
    }
  }
  if ((t.opt_consistent || t.opt_uptodate) && m.current_uuid == md::kUuidJustCreated) m.current_uuid = RandomUuid(t);
  if (t.opt_consistent) m.flags |= md::kMdfConsistent;
  if (t.opt_uptodate) m.flags |= md::kMdfConsistent | md::kMdfWasUpToDate;
  if (t.opt_peers_outdated) {
    for (auto& p : m.peers) p.flags |= md::kPeerOutdated;
  }
  if (t.opt_rotate_uuids) {
    if (m.current_uuid == md::kUuidJustCreated) m.current_uuid = RandomUuid(t);
    const uint64_t v = m.current_uuid;
    for (auto& p : m.peers) p.bitmap_uuid = v;
    m.history_uuids[0] = v;
    m.current_uuid = RandomUuid(t);
  }
}

int CmdCreateMd(Tool& t, const std::vector<std::string>& a) {
  long long max_peers = 1;
  if (t.IsV09()) {
    if (a.empty()) {
      t.Err("USAGE: drbdmeta MINOR v09 ... create-md MAX_PEERS\n\n  MAX_PEERS argument missing\n");
      t.Exit(20);
    }
    if (a.size() > 1) t.Err("Ignoring additional arguments\n");
    max_peers = static_cast<int>(t.StrToll(a[0], 1));
  } else if (!a.empty()) {
    t.Err("Ignoring additional arguments\n");
  }
  if (max_peers < 1 || max_peers > md::kMaxPeersLimit) {
    t.Err(Fmt("MAX_PEERS argument not in allowed range 1 .. %d.\n", md::kMaxPeersLimit));
    t.Exit(20);
  }
  const OpenState state = t.Open();
  if (state == OpenState::kValidAtLastKnown) {
    if (t.al_stripes_used && (static_cast<uint32_t>(t.al_stripes) != t.md.al_stripes ||
                              static_cast<uint32_t>(t.al_stripe_size_4k) != t.md.al_stripe_size_4k)) {
      t.Err("Cannot move after offline resize and change AL-striping at the same time, yet.\n");
      t.Exit(20);
    }
    if (!t.force && t.Confirmed("Move internal meta data from last-known position?\n")) {
      t.layout = md::ComputeLayout(t.md, md::kIndexFlexInternal, t.bd_size);
      t.CheckForExistingData();
      return t.MoveAfterResize();
    }
  }
  if (state != OpenState::kValid) t.md = Superblock{};
  if (t.Internal()) {
    t.CheckInternalMdFlavours();
  } else {
    t.CheckExternalMdFlavours();
  }
  if (!t.md.magic) {
    t.InitializeMd(static_cast<uint32_t>(max_peers));
  } else {
    if (t.IsV09() && max_peers != 1) t.Out(Fmt("Warning: setting max_peers to 1 instead of %d\n\n", static_cast<int>(max_peers)));
    t.CheckForExistingData();
  }
  t.md.la_peer_max_bio_size = static_cast<uint32_t>(t.peer_max_bio_size);
  ApplyCreateMdUuidOptions(t);
  t.Out("Writing meta data...\n");
  int err = t.WriteMd();
  err = t.Close() || err;
  if (err) {
    t.Err("operation failed\n");
  } else {
    t.Out("New drbd meta data block successfully created.\n");
  }
  return err;
}

int CmdCheckResize(Tool& t, const std::vector<std::string>&) {
  const OpenState state = t.Open();
  if (state == OpenState::kValidAtLastKnown) return t.MoveAfterResize();
  if (state == OpenState::kValid) {
    uint64_t size = 0, uuid = 0;
    std::string name;
    if (!t.LkLoad(&size, &name, &uuid)) return -1;
    if (!t.Internal()) {
      t.LkDelete();
    } else if (size != t.bd_size || uuid != t.md.device_uuid) {
      t.update_lk_bdev = true;
    }
    return t.Close();
  }
  if (!t.Internal()) {
    t.Err("Operation only supported for >= v8 internal meta data\n");
    return -1;
  }
  t.Err("no suitable meta data found :(\n");
  return -1;
}

// ---- restore-md / verify-dump ----

class DumpParser {
 public:
  DumpParser(Tool& t, std::string text) : t_(t), text_(std::move(text)), sc_(text_) {}

  int Lex() {
    std::string diag;
    const int tok = sc_.Next(&diag);
    if (!diag.empty()) {
      t_.FlushOut();
      t_.io.err(diag);
    }
    return tok;
  }
  void Exp(int expected) {
    const int tok = Lex();
    if (tok != expected) Fail(expected, tok, nullptr);
  }
  [[noreturn]] void Fail(int expected, int seen, const char* etext) {
    t_.FlushOut();
    t_.Err(sc_.ParseError(expected, seen, etext));
    t_.Exit(10);
  }
  uint64_t Value() const { return sc_.value(); }
  const std::string& Text() const { return sc_.text(); }
  unsigned Line() const { return sc_.line(); }
  size_t Pos() const { return sc_.pos(); }
  void Seek(size_t p) { sc_.Seek(p); }

 private:
  Tool& t_;
  std::string text_;
  md::DumpScanner sc_;
};

constexpr int64_t kWindowWords = static_cast<int64_t>(kBufferSize / 4);

// One slot's bitmap block of one window; returns the index reached minus
// the slot (drbdmeta's "words").
int64_t ParseBitmapSlot(Tool& t, DumpParser& p, std::vector<uint32_t>& win, int64_t window, int slot,
                        bool parse_only) {
  const int64_t mp = t.md.max_peers;
  int64_t i = slot - window * kWindowWords;
  if (!t.IsV09()) {
    p.Exp(md::kTkBm);
  } else {
    p.Exp(md::kTkBitmap);
    p.Exp('[');
    p.Exp(md::kTkNum);
    p.Exp(']');
    if (p.Value() != static_cast<uint64_t>(slot)) {
      t.Err(Fmt("Parse error in line %u: Expected peer slot %d but found %d\n", p.Line(), static_cast<int>(i),
                static_cast<int>(p.Value())));
      t.Exit(10);
    }
  }
  p.Exp('{');
  // drbdmeta compares the index as an unsigned number: a negative index
  // (a slot's words before this window) never advances, so only window 0
  // ever receives data.
  auto assign = [&](uint64_t value) {
    if (i < 0 || i >= kWindowWords) return;
    win[static_cast<size_t>(i)] = ((i / mp) & 1) == 0 ? static_cast<uint32_t>(value) : static_cast<uint32_t>(value >> 32);
    i += mp;
  };
  for (;;) {
    const int tok = p.Lex();
    if (tok == md::kTkU64) {
      const uint64_t value = p.Value();
      p.Exp(';');
      if (parse_only) {
        i += mp * 2;
        continue;
      }
      assign(value);
      assign(value);
    } else if (tok == md::kTkNum) {
      int times = static_cast<int>(p.Value());
      p.Exp(md::kTkTimes);
      p.Exp(md::kTkU64);
      const uint64_t value = p.Value();
      p.Exp(';');
      if (parse_only) {
        i += static_cast<int64_t>(times) * mp * 2;
        continue;
      }
      while (times-- > 0) {
        assign(value);
        assign(value);
      }
    } else if (tok == '}') {
      break;
    } else {
      p.Fail(0, tok, "repeat count, 16-digit hex number, or closing brace (})");
    }
  }
  return i - slot;
}

void ParseBitmap(Tool& t, DumpParser& p, bool parse_only, std::vector<uint32_t>& win) {
  const size_t start = p.Pos();
  const uint64_t bm_max = t.layout.bm_offset + ((t.bm_bytes + 4095) & ~uint64_t{4095});
  bool truncated = false;
  int64_t window = 0;
  int64_t words = 0;
  do {
    p.Seek(start);
    const int slots = t.IsV09() ? static_cast<int>(t.md.max_peers) : 1;
    for (int slot = 0; slot < slots; ++slot) words = ParseBitmapSlot(t, p, win, window, slot, parse_only);
    if (words > 0 && !truncated) {
      uint64_t bytes = static_cast<uint64_t>(words) * 4;
      std::fill(win.begin() + std::min<int64_t>(words, kWindowWords), win.end(), 0u);
      // drbdmeta aligns to the hard sector size, which is 0 (so the size
      // becomes 0) when verify-dump never opened the device.
      bytes = t.hard_sect ? (bytes + t.hard_sect - 1) / t.hard_sect * t.hard_sect : 0;
      const uint64_t off = t.layout.bm_offset + static_cast<uint64_t>(window) * kBufferSize;
      uint64_t written = bytes;
      if (parse_only) {
        written = std::min(bytes, bm_max - off);
      } else {
        if (off >= bm_max) {
          t.Err(Fmt("confused in meta_restore_md: offset (%llu) > limit (%llu)\n",
                    static_cast<unsigned long long>(off), static_cast<unsigned long long>(bm_max)));
          t.Exit(10);
        }
        if (written > bm_max - off) {
          t.Err(Fmt("in meta_restore_md: truncating byte count from %lu to %lu\n", static_cast<unsigned long>(written),
                    static_cast<unsigned long>(bm_max - off)));
          written = bm_max - off;
        }
        std::vector<uint8_t> raw(written);
        for (uint64_t k = 0; k < written; ++k) raw[k] = static_cast<uint8_t>(win[k / 4] >> (8 * (k % 4)));
        t.Write(off, raw, "meta_restore_md");
      }
      if (bytes != written) {
        t.Err("Bitmap info too large, truncated!\n");
        truncated = true;
      }
    }
    ++window;
  } while (words == kWindowWords);
}

int RestoreOrVerify(Tool& t, const std::vector<std::string>& a, bool parse_only) {
  std::string text;
  // drbdmeta keeps the dump open while it works (so the device gets the
  // next file descriptor, which -vv shows).
  std::unique_ptr<FILE, int (*)(FILE*)> dump_file(nullptr, &std::fclose);
  if (!a.empty()) {
    dump_file.reset(std::fopen(a[0].c_str(), "r"));
    if (!dump_file) {
      t.Err("open of '" + a[0] + "' failed.\n");
      t.Exit(20);
    }
    char buf[65536];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, dump_file.get())) > 0) text.append(buf, n);
  } else if (t.io.read_line) {
    while (std::optional<std::string> line = t.io.read_line()) text += *line + "\n";
  }
  int old_max_peers = -1;
  if (!parse_only) {
    if (t.Open() != OpenState::kNone) {
      old_max_peers = static_cast<int>(t.md.max_peers);
      if (!t.Confirmed("Valid meta-data in place, overwrite?")) return -1;
    }
  } else {
    t.hard_sect = 0;  // the device is never opened
  }
  DumpParser p(t, std::move(text));
  p.Exp(md::kTkVersion);
  p.Exp(md::kTkString);
  if (p.Text() != md::FormatName(t.place.format)) {
    t.Err("dump is '" + p.Text() + "' you requested '" + md::FormatName(t.place.format) + "'.\n");
    t.Exit(10);
  }
  p.Exp(';');
  int new_max_peers = 1;
  if (t.IsV09()) {
    p.Exp(md::kTkMaxPeers);
    p.Exp(md::kTkNum);
    p.Exp(';');
    new_max_peers = static_cast<int>(p.Value());
  }
  // md_initialize without disk writes.
  auto relayout = [&t] {
    md::Status st = md::InitOffsets(t.md, t.place.index, t.bd_size);
    if (!st.ok()) {
      t.Err(st.message() + "\n");
      t.Exit(10);
    }
    t.layout = md::ComputeLayout(t.md, t.place.index, t.bd_size);
    if (t.bd_size == 0) {
      // Never opened (verify-dump): drbdmeta's offsets start at 0 and
      // wrap as unsigned numbers.
      t.layout.md_offset = 0;
      t.layout.al_offset = static_cast<uint64_t>(int64_t{t.md.al_offset} * 512);
      t.layout.bm_offset = static_cast<uint64_t>(int64_t{t.md.bm_offset} * 512);
      if (t.Internal()) t.layout.max_usable_sect = 0;
    }
    t.VerboseOffsets("");
  };
  t.md = md::NewSuperblock(t.place.format, static_cast<uint32_t>(new_max_peers), static_cast<uint32_t>(t.al_stripes),
                           static_cast<uint32_t>(t.al_stripe_size_4k));
  t.md.max_peers = static_cast<uint32_t>(new_max_peers);
  relayout();
  // The I/O buffer drbdmeta parses the bitmap into still holds the first
  // 68 KiB of the device from the existing-data check.
  std::vector<uint32_t> win(static_cast<size_t>(kWindowWords), 0u);
  if (!parse_only) {
    t.Err("reinitializing\n");
    if (old_max_peers < new_max_peers && t.place.index != md::kIndexFlexInternal) {
      t.Out(Fmt("Meta data needs more space now, since max_peers\nis bigger than in existing meta_data. (%d -> %d)\n",
                old_max_peers, new_max_peers));
    }
    t.CheckForExistingData();
    std::vector<uint8_t> head(md::kProbeBytes);
    if (!t.dev->Read(0, head).ok()) t.Exit(10);  // drbdmeta's buffer, not a new read
    for (size_t k = 0; k < head.size() / 4; ++k) win[k] = md::LoadLe32(head.data() + 4 * k);
  }
  Superblock& m = t.md;
  if (!t.IsV09()) {
    p.Exp(md::kTkUuid);
    p.Exp('{');
    p.Exp(md::kTkU64);
    p.Exp(';');
    m.current_uuid = p.Value();
    p.Exp(md::kTkU64);
    p.Exp(';');
    m.peers[0].bitmap_uuid = p.Value();
    for (int i = 0; i < md::kHistoryUuidsV08; ++i) {
      p.Exp(md::kTkU64);
      p.Exp(';');
      m.history_uuids[i] = p.Value();
    }
    p.Exp(md::kTkFlags);
    p.Exp(md::kTkU32);
    p.Exp(';');
    m.flags = static_cast<uint32_t>(p.Value());
    p.Exp('}');
  } else {
    p.Exp(md::kTkNodeId);
    p.Exp(md::kTkNum);
    p.Exp(';');
    m.node_id = static_cast<int32_t>(p.Value());
    p.Exp(md::kTkCurrentUuid);
    p.Exp(md::kTkU64);
    p.Exp(';');
    m.current_uuid = p.Value();
    p.Exp(md::kTkFlags);
    p.Exp(md::kTkU32);
    p.Exp(';');
    m.flags = static_cast<uint32_t>(p.Value());
    bool seen[md::kPeersMax] = {};
    for (int n = 0; n < md::kPeersMax; ++n) {
      p.Exp(md::kTkPeer);
      p.Exp('[');
      p.Exp(md::kTkNum);
      p.Exp(']');
      const int slot = static_cast<int>(p.Value());
      if (slot < 0 || slot >= md::kPeersMax) {
        t.Err(Fmt("Parse error in line %u: Slot %d out of range\n", p.Line(), slot));
        t.Exit(10);
      }
      if (seen[slot]) {
        t.Err(Fmt("Parse error in line %u: Peer slot %d defined multiple times\n", p.Line(), slot));
        t.Exit(10);
      }
      seen[slot] = true;
      md::PeerRecord& peer = m.peers[slot];
      p.Exp('{');
      p.Exp(md::kTkBitmapIndex);
      p.Exp(md::kTkNum);
      p.Exp(';');
      peer.bitmap_index = static_cast<int32_t>(p.Value());
      p.Exp(md::kTkBitmapUuid);
      p.Exp(md::kTkU64);
      p.Exp(';');
      peer.bitmap_uuid = p.Value();
      p.Exp(md::kTkBitmapDagtag);
      p.Exp(md::kTkU64);
      p.Exp(';');
      peer.bitmap_dagtag = p.Value();
      p.Exp(md::kTkFlags);
      p.Exp(md::kTkU32);
      p.Exp(';');
      peer.flags = static_cast<uint32_t>(p.Value());
      p.Exp('}');
    }
    p.Exp(md::kTkHistoryUuids);
    p.Exp('{');
    for (int i = 0; i < md::kHistoryUuids; ++i) {
      p.Exp(md::kTkU64);
      p.Exp(';');
      m.history_uuids[i] = p.Value();
    }
    p.Exp('}');
  }
  p.Exp(md::kTkLaSize);
  p.Exp(md::kTkNum);
  p.Exp(';');
  m.effective_size = p.Value();
  p.Exp(md::kTkBmBytePerBit);
  p.Exp(md::kTkNum);
  p.Exp(';');
  m.bm_bytes_per_bit = static_cast<uint32_t>(p.Value());
  if (p.Value() < 4096 || (p.Value() & (p.Value() - 1)) != 0) {
    t.Err("Invalid value for bm-byte-per-bit: value must be a power-of-two multiple of 4096\n");
    t.Exit(10);
  }
  p.Exp(md::kTkDeviceUuid);
  p.Exp(md::kTkU64);
  p.Exp(';');
  m.device_uuid = p.Value();
  p.Exp(md::kTkLaBioSize);
  p.Exp(md::kTkNum);
  p.Exp(';');
  m.la_peer_max_bio_size = static_cast<uint32_t>(p.Value());
  p.Exp(md::kTkAlStripes);
  p.Exp(md::kTkNum);
  p.Exp(';');
  m.al_stripes = static_cast<uint32_t>(p.Value());
  p.Exp(md::kTkAlStripeSize4k);
  p.Exp(md::kTkNum);
  p.Exp(';');
  m.al_stripe_size_4k = static_cast<uint32_t>(p.Value());
  if (static_cast<uint32_t>(t.al_stripes) != m.al_stripes ||
      static_cast<uint32_t>(t.al_stripe_size_4k) != m.al_stripe_size_4k) {
    if (t.al_stripes_used) {
      t.Err("override activity log striping from commandline\n");
      m.al_stripes = static_cast<uint32_t>(t.al_stripes);
      m.al_stripe_size_4k = static_cast<uint32_t>(t.al_stripe_size_4k);
    }
    const uint64_t al_blocks = uint64_t{m.al_stripes} * m.al_stripe_size_4k;
    if (al_blocks == 0 || al_blocks > md::kAlMaxBlocksKernel) {
      t.Err(Fmt("invalid activity log striping in dump: %u stripes of %u 4k blocks\n", m.al_stripes,
                m.al_stripe_size_4k));
      t.Exit(10);
    }
    if (t.verbose >= 2) t.Err("adjusting activity-log and bitmap offsets\n");
    relayout();
  }
  if (m.effective_size > t.layout.max_usable_sect) {
    t.Out(Fmt("# la-size-sect was too big (%llu), truncated (%llu)!\n",
              static_cast<unsigned long long>(m.effective_size),
              static_cast<unsigned long long>(t.layout.max_usable_sect)));
    m.effective_size = t.layout.max_usable_sect;
  }
  t.bm_bytes = md::BmBytes(m.max_peers ? m.max_peers : 1, m.bm_bytes_per_bit, m.effective_size);
  if (m.max_peers == 0 || m.max_peers > md::kPeersMax) {
    t.Err(Fmt("%s max-peers value %d out of bounds\n", md::FormatName(t.place.format), static_cast<int>(m.max_peers)));
    return -1;
  }
  ParseBitmap(t, p, parse_only, win);
  p.Exp(md::kTkEof);
  if (parse_only) {
    t.Out("input file parsed ok\n");
    return 0;
  }
  int err = t.WriteMd();
  err = t.Close() || err;
  if (err) {
    t.Err("Writing failed\n");
    return -1;
  }
  t.Out("Successfully restored meta data\n");
  return 0;
}

int CmdRestoreMd(Tool& t, const std::vector<std::string>& a) { return RestoreOrVerify(t, a, false); }
int CmdVerifyDump(Tool& t, const std::vector<std::string>& a) { return RestoreOrVerify(t, a, true); }

const Command kCommands[] = {
    {"get-gi", nullptr, CmdGetGi, true, true, false},
    {"show-gi", nullptr, CmdShowGi, true, true, false},
    {"dump-md", nullptr, CmdDumpMd, true, false, false},
    {"restore-md", "file", CmdRestoreMd, true, false, true},
    {"verify-dump", "file", CmdVerifyDump, true, false, false},
    {"apply-al", nullptr, CmdApplyAl, true, false, true},
    {"wipe-md", nullptr, CmdWipeMd, true, false, true},
    {"outdate", nullptr, CmdOutdate, true, false, true},
    {"invalidate", nullptr, CmdInvalidate, true, false, true},
    {"dstate", nullptr, CmdDstate, true, false, false},
    {"read-dev-uuid", nullptr, CmdReadDevUuid, false, false, false},
    {"write-dev-uuid", "VAL", CmdWriteDevUuid, false, false, true},
    {"set-gi", ":::VAL:VAL:...", CmdSetGi, false, true, true},
    {"check-resize", nullptr, CmdCheckResize, true, false, true},
    {"create-md",
     "[--peer-max-bio-size {val}] [--al-stripes {val}] [--al-stripe-size-kB {val}] {max_peers}",
     CmdCreateMd, true, false, true},
    {"forget-peer", nullptr, CmdForgetPeer, true, true, true},
    // Newer drbd-utils; hidden from the usage text, which stays 9.22's.
    {"dump-superblock", "[--output-format={binary,hex,json}]", CmdDumpSuperblock, false, false, false},
    {"hexdump-superblock", nullptr, CmdHexDumpSuperblock, false, false, false},
    {"repair-md", "[--tentative]", CmdRepairMd, false, false, true},
};

CommandFn Tool::CommandApplyAlFn() { return CmdApplyAl; }

[[noreturn]] void Usage(Tool& t) {
  std::string s = "\nUSAGE: drbdmeta [--force] DEVICE FORMAT [FORMAT ARGS...] COMMAND [CMD ARGS...]\n";
  s += "\nFORMATS:\n  v06 minor\n  v07 device index\n  v08 device index\n  v09 device index\n";
  s += "\nCOMMANDS:\n";
  for (const Command& c : kCommands) {
    if (!c.show_in_usage) continue;
    s += Fmt("  %s%s %s\n", c.name, c.node_id_required ? " --node-id {val}" : "", c.args ? c.args : "");
  }
  t.Out(s);
  t.Exit(20);
}

// Minor number of a drbd device argument: digits or /dev/drbdN, or a
// block device node with the drbd major.
int MinorOfDevice(const std::string& dev) {
  auto only_digits = [](const char* s) {
    const char* c = s;
    while (*c >= '0' && *c <= '9') ++c;
    return c != s && *c == 0;
  };
  const char* c = dev.c_str();
  if (!only_digits(c)) {
    struct stat sb;
    if (dev.compare(0, 9, "/dev/drbd") == 0 && only_digits(c + 9)) {
      c += 9;
    } else if (::stat(c, &sb) == 0 && S_ISBLK(sb.st_mode) && major(sb.st_rdev) == kDrbdMajor) {
      return static_cast<int>(minor(sb.st_rdev));
    } else {
      return -1;
    }
  }
  errno = 0;
  long m = std::strtol(c, nullptr, 10);
  if (errno || m > INT_MAX) return -1;
  return static_cast<int>(m);
}

void LockMinor(Tool& t) {
  const std::string path = Fmt("%s/drbd-%d-%d", t.io.lock_dir.c_str(), kDrbdMajor, t.minor);
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    t.Err(Fmt("open(%s): %s\n", path.c_str(), std::strerror(errno)));
    t.Exit(20);
  }
  struct flock fl = {};
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  for (int attempt = 0; attempt < 10; ++attempt) {
    if (::fcntl(fd, F_SETLK, &fl) == 0) {
      t.lock_fd = fd;
      return;
    }
    if (errno != EAGAIN && errno != EACCES) break;
    ::usleep(100 * 1000);
  }
  if (::fcntl(fd, F_GETLK, &fl) == 0) {
    t.Err(Fmt("lock on %s currently held by pid:%u\n", path.c_str(), static_cast<unsigned>(fl.l_pid)));
  }
  ::close(fd);
  t.Exit(20);
}

bool DstateSaysAttached(Tool& t, int exit_status, std::string result);

// Asks "drbdsetup MINOR dstate" whether the minor has a disk attached.
bool IsAttached(Tool& t) {
  if (t.io.run_helper) {
    std::string out;
    std::optional<int> status =
        t.io.run_helper({"drbdsetup", std::to_string(t.minor), "dstate"}, &out);
    if (status) return DstateSaysAttached(t, *status, out);
  }
  int pipes[2];
  if (::pipe(pipes) != 0) {
    t.Err(Fmt("drbdsetup pipe: %s\n", std::strerror(errno)));
    t.Exit(20);
  }
  const std::string minor = std::to_string(t.minor);
  pid_t pid = ::fork();
  if (pid < 0) {
    t.Err(Fmt("fork for drbdsetup: %s\n", std::strerror(errno)));
    t.Exit(20);
  }
  if (pid == 0) {
    int devnull = ::open("/dev/null", O_WRONLY);
    if (devnull >= 0) ::dup2(devnull, 2);
    ::close(pipes[0]);
    ::dup2(pipes[1], 1);
    const char* argv[] = {"drbdsetup", minor.c_str(), "dstate", nullptr};
    ::execvp(argv[0], const_cast<char* const*>(argv));
    _exit(20);
  }
  ::close(pipes[1]);
  char result[40];
  ssize_t rr = ::read(pipes[0], result, sizeof result);
  ::close(pipes[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return DstateSaysAttached(t, WEXITSTATUS(status),
                            std::string(result, rr > 0 ? static_cast<size_t>(rr) : 0));
}

// The answer of "drbdsetup MINOR dstate": its exit status and the first
// (up to 40) bytes of its output, as one read() from its pipe returns them.
bool DstateSaysAttached(Tool& t, int exit_status, std::string result) {
  if (exit_status == 20 || exit_status == 10) return false;
  if (result.size() > 40) result.resize(40);
  const ssize_t rr = static_cast<ssize_t>(result.size());
  if (rr < 1) {
    t.Err("read from drbdsetup\n: Success\n");
    t.Exit(20);
  }
  result.resize(static_cast<size_t>(rr - 1));
  std::string s = result.substr(0, result.find('\0'));
  const size_t slash = s.find('/');
  const size_t len = slash == std::string::npos ? s.size() : slash;
  static const char* kDiskStates[] = {"Diskless",   "Attaching", "Detaching", "Failed",     "Negotiating",
                                      "Inconsistent", "Outdated",  "DUnknown",  "Consistent", "UpToDate"};
  for (int n = 0; n < 10; ++n) {
    if (std::strncmp(s.c_str(), kDiskStates[n], len) == 0) return n > 0;
  }
  if (s == "Unconfigured") return false;
  t.Err("Unexpected output from drbdsetup >" + s + "<\n");
  t.Exit(20);
}

int ParseFormat(Tool& t, const std::vector<std::string>& args, size_t* ai) {
  if (*ai >= args.size()) {
    t.Err("Format identifier missing\n");
    return -1;
  }
  const std::string& f = args[*ai];
  if (f == "v06" || f == "v07") {
    t.Err("Format '" + f + "' is not supported by this build (drbd-cp supports v08 and v09).\n");
    return -1;
  }
  if (f != "v08" && f != "v09") {
    t.Err("Unknown format '" + f + "'.\n");
    return -1;
  }
  ++*ai;
  t.place.format = f == "v09" ? Format::kV09 : Format::kV08;
  if (args.size() - *ai < 2) {
    t.Err("Too few arguments for format\n");
    return -1;
  }
  t.md_device_name = args[*ai];
  const std::string& idx = args[*ai + 1];
  if (idx == "internal" || idx == "flex-internal") {
    t.place.index = md::kIndexFlexInternal;
  } else if (idx == "flex-external") {
    t.place.index = md::kIndexFlexExternal;
  } else {
    char* end = nullptr;
    errno = 0;
    long v = std::strtol(idx.c_str(), &end, 0);
    if (*end != 0 || v < 0 || v > 255 || errno != 0) {
      t.Err("'" + idx + "' is not a valid index number.\n");
      return -1;
    }
    t.place.index = static_cast<int>(v);
  }
  *ai += 2;
  return 0;
}

int Run(Tool& t, const std::vector<std::string>& in_args) {
  std::vector<std::string> args = in_args;
  if (args.empty()) args.emplace_back("drbdmeta");
  // drbdmeta shows only the basename of argv[0] (also in the dump header).
  const size_t slash = args[0].rfind('/');
  if (slash != std::string::npos) args[0] = args[0].substr(slash + 1);
  if (args.size() < 4) Usage(t);

  static const struct option kOptions[] = {
      {"ignore-sanity-checks", no_argument, nullptr, 1000},
      {"dry-run", no_argument, nullptr, 1001},
      {"force", no_argument, nullptr, 'f'},
      {"verbose", no_argument, nullptr, 'v'},
      {"peer-max-bio-size", required_argument, nullptr, 'p'},
      {"node-id", required_argument, nullptr, 'i'},
      {"al-stripes", required_argument, nullptr, 's'},
      {"al-stripe-size-kB", required_argument, nullptr, 'z'},
      {"initialize-bitmap", required_argument, nullptr, 'b'},
      // Options of newer drbd-utils (9.30 .. 9.33), used by upstream's tests.
      {"output-format", required_argument, nullptr, 'o'},
      {"initial-current-uuid", required_argument, nullptr, 2001},
      {"consistent", no_argument, nullptr, 2002},
      {"uptodate", no_argument, nullptr, 2003},
      {"peers-outdated", no_argument, nullptr, 2004},
      {"rotate-uuids", no_argument, nullptr, 2005},
      {"var-lib-drbd", required_argument, nullptr, 2006},
      {"tentative", no_argument, nullptr, 2007},
      {nullptr, 0, nullptr, 0},
  };
  // getopt_long permutes argv; keep our own copies alive.
  std::vector<std::string> store = args;
  std::vector<char*> argv;
  argv.reserve(store.size() + 1);
  for (std::string& s : store) argv.push_back(s.data());
  argv.push_back(nullptr);
  const int argc = static_cast<int>(store.size());
  optind = 0;
  opterr = 1;
  for (;;) {
    int c = getopt_long(argc, argv.data(), "fvp:i:s:z:b:o:", kOptions, nullptr);
    if (c == -1) break;
    switch (c) {
      case 1000: t.ignore_sanity_checks = 1; break;
      case 1001: t.dry_run = 1; break;
      case 'f': t.force = true; break;
      case 'v': ++t.verbose; break;
      case 'p':
        t.peer_max_bio_size = t.StrToll(optarg, 1);
        if (t.peer_max_bio_size < 0 || t.peer_max_bio_size > 1024 * 1024) {
          t.Err("peer-max-bio-size out of range (0...1M)\n");
          t.Exit(10);
        }
        break;
      case 'i':
        t.node_id = t.StrToll(optarg, 1);
        if (t.node_id < 0 || t.node_id > md::kPeersMax - 1) {
          t.Err(Fmt("node-id out of range (0...%d)\n", md::kPeersMax - 1));
          t.Exit(10);
        }
        break;
      case 's':
        t.al_stripes = static_cast<int>(t.StrToll(optarg, 1));
        t.al_stripes_used = true;
        break;
      case 'z':
        t.al_stripe_size_4k = static_cast<int>(t.StrToll(optarg, 'k')) / 4;
        t.al_stripes_used = true;
        break;
      case 'b':
        t.bitmap_init = t.Choice<BitmapInit>("initialize-bitmap-mode", optarg,
                                             {{"automatic", BitmapInit::kAutomatic},
                                              {"zeroout", BitmapInit::kZeroout},
                                              {"pwrite", BitmapInit::kPwrite},
                                              {"skip", BitmapInit::kSkip}});
        break;
      case 'o':
        t.output_format_used = true;
        t.output_format = t.Choice<DumpFormat>("output format", optarg,
                                               {{"binary", DumpFormat::kBinary},
                                                {"hex", DumpFormat::kHex},
                                                {"json", DumpFormat::kJson}});
        break;
      case 2001: t.initial_current_uuid = std::string(optarg); break;
      case 2002: t.opt_consistent = true; break;
      case 2003: t.opt_uptodate = true; break;
      case 2004: t.opt_peers_outdated = true; break;
      case 2005: t.opt_rotate_uuids = true; break;
      case 2006: t.io.var_lib_drbd = optarg; break;
      case 2007: t.dry_run = 1000; break;
      default: Usage(t);
    }
  }
  // The dump header shows the arguments as permuted by getopt.
  t.argv.clear();
  for (int i = 0; i < argc; ++i) t.argv.emplace_back(argv[i]);
  std::vector<std::string> rest(t.argv.begin(), t.argv.end());
  size_t ai = static_cast<size_t>(optind);
  if (ai >= rest.size()) Usage(t);
  t.drbd_dev_name = rest[ai++];
  if (ParseFormat(t, rest, &ai) != 0) t.Exit(20);
  if (ai >= rest.size()) {
    t.Err("command missing\n");
    t.Exit(20);
  }
  for (const Command& c : kCommands) {
    if (rest[ai] == c.name) t.command = &c;
  }
  if (!t.command) {
    t.Err("Unknown command '" + rest[ai] + "'.\n");
    t.Exit(20);
  }
  ++ai;
  bool attached = false;
  if (t.drbd_dev_name != "-") {
    t.minor = MinorOfDevice(t.drbd_dev_name);
    if (t.minor < 0) {
      t.Err("Cannot determine minor device number of drbd device '" + t.drbd_dev_name + "'");
      t.Exit(20);
    }
    if (t.io.probe_minor) {
      LockMinor(t);
      attached = IsAttached(t);
      // repair-md only reports under --tentative/--dry-run.
      const bool modifies = t.command->modifies_md && !(t.command->fn == CmdRepairMd && t.dry_run);
      if (attached && modifies) {
        t.Err("Device '" + t.drbd_dev_name + "' is configured!\n");
        t.Exit(20);
      }
    }
  }
  if (t.peer_max_bio_size && t.command->fn != CmdCreateMd) {
    t.Err("The --peer-max-bio-size option is only allowed with create-md\n");
    t.Exit(10);
  }
  if (t.al_stripes_used && t.command->fn != CmdCreateMd && std::string(t.command->name) != "restore-md") {
    t.Err("The --al-stripe* options are only allowed with create-md and restore-md\n");
    t.Exit(10);
  }
  // drbdmeta multiplies in unsigned 32-bit arithmetic here.
  const uint32_t total = static_cast<uint32_t>(t.al_stripes) * static_cast<uint32_t>(t.al_stripe_size_4k);
  if (static_cast<uint64_t>(static_cast<uint32_t>(t.al_stripes)) * static_cast<uint32_t>(t.al_stripe_size_4k) >
      kBufferSize / 4096) {
    t.Err("invalid (too large) al-stripe* settings\n");
    t.Exit(10);
  }
  if (total < 32 / 4) {
    t.Err("invalid (too small) al-stripe* settings\n");
    t.Exit(10);
  }
  if (t.output_format_used && t.command->fn != CmdDumpSuperblock) {
    t.Err("The -o|--output-format option is only allowed with dump-superblock\n");
    t.Exit(10);
  }
  const std::pair<bool, const char*> v09_only[] = {{t.initial_current_uuid.has_value(), "initial-current-uuid"},
                                                   {t.opt_consistent, "consistent"},
                                                   {t.opt_uptodate, "uptodate"},
                                                   {t.opt_peers_outdated, "peers-outdated"},
                                                   {t.opt_rotate_uuids, "rotate-uuids"}};
  for (const auto& [set, name] : v09_only) {
    if (!set) continue;
    if (t.command->fn != CmdCreateMd) {
      t.Err(std::string("The --") + name + " option is only allowed with create-md\n");
      t.Exit(10);
    }
    if (!t.IsV09()) {
      t.Err(std::string("--") + name + " is not supported with '" + md::FormatName(t.place.format) + "'\n");
      t.Exit(10);
    }
  }
  if (t.node_id != -1 && !t.command->node_id_required) {
    t.Err(std::string("The ") + t.command->name + " command does not accept the --node-id option\n");
    t.Exit(10);
  }
  if (!t.IsV09() && t.command->node_id_required) {
    if (t.node_id == -1) {
      t.node_id = 0;
    } else if (t.node_id != 0) {
      // drbdmeta warns but keeps the given node-id.
      t.Err("Not v09, implicitly set --node-id = 0\n");
    }
  }
  if (t.node_id == -1 && t.command->node_id_required) {
    t.Err(std::string("The ") + t.command->name + " command requires the --node-id option\n");
    t.Exit(10);
  }
  std::vector<std::string> cmd_args(rest.begin() + static_cast<long>(ai), rest.end());
  const int rv = t.command->fn(t, cmd_args);
  if (attached) t.Err(Fmt("# Output might be stale, since minor %d is attached\n", t.minor));
  return rv != 0 ? 1 : 0;
}

}  // namespace

int RunDrbdmeta(const std::vector<std::string>& args, Io& io) {
  Tool t(io);
  try {
    return Run(t, args);
  } catch (const ExitNow& e) {
    return e.code;
  }
}

}  // namespace drbd::meta
