// SPDX-License-Identifier: GPL-2.0-or-later
// drbdadm's in-process helpers: recognising drbd-cp's own drbdsetup and
// drbdmeta by their ELF note, the shared genl connection (lent to each
// drbdsetup command, with a deadline standing in for cmd-timeout-*), and
// the stream plumbing that makes a command's output land where a child's
// would. See docs/design/drbdadm.md, "Helpers in-process".
#include "drbdadm/inproc.h"

#include <elf.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <sstream>
#include <streambuf>
#include <string_view>
#include <tuple>

#include "drbdmeta/tool.h"
#include "drbdsetup/drbdsetup.h"
#include "lib/base/tool_note.h"
#include "lib/genl/client.h"
#include "lib/genl/transport.h"

namespace drbd::adm {
namespace {

// ---- which program execvp() would run ----

bool IsExecutableFile(const std::string& path) {
  struct stat sb {};
  return stat(path.c_str(), &sb) == 0 && S_ISREG(sb.st_mode) && access(path.c_str(), X_OK) == 0;
}

// execvp()'s search: a name with a slash is used as is; otherwise the PATH
// entries in order (an empty entry is the current directory; glibc's
// default when PATH is unset is "/bin:/usr/bin"). Empty if none matches.
std::string ResolveLikeExecvp(const std::string& program) {
  if (program.empty()) return {};
  if (program.find('/') != std::string::npos) return program;
  const char* env = std::getenv("PATH");
  std::string_view path = env != nullptr ? env : "/bin:/usr/bin";
  for (;;) {
    size_t colon = path.find(':');
    std::string_view dir = path.substr(0, colon);
    std::string candidate = dir.empty() ? program : std::string(dir) + "/" + program;
    if (IsExecutableFile(candidate)) return candidate;
    if (colon == std::string_view::npos) break;
    path.remove_prefix(colon + 1);
  }
  return {};
}

// ---- the drbd-cp tool note ----

bool ReadAt(int fd, void* buf, size_t len, uint64_t off) {
  ssize_t n = pread(fd, buf, len, static_cast<off_t>(off));
  return n == static_cast<ssize_t>(len);
}

OwnTool ToolNamed(std::string_view name) {
  if (name == "drbdsetup") return OwnTool::kDrbdsetup;
  if (name == "drbdmeta") return OwnTool::kDrbdmeta;
  return OwnTool::kNone;
}

// Scans one PT_NOTE segment's bytes for our note.
OwnTool ScanNotes(const std::vector<uint8_t>& seg, size_t align) {
  auto up = [align](size_t v) { return (v + align - 1) / align * align; };
  size_t off = 0;
  while (off + sizeof(Elf64_Nhdr) <= seg.size()) {
    Elf64_Nhdr nh;
    std::memcpy(&nh, seg.data() + off, sizeof nh);
    size_t name_off = off + sizeof nh;
    size_t desc_off = name_off + up(nh.n_namesz);
    size_t next = desc_off + up(nh.n_descsz);
    if (next > seg.size() || next <= off) break;
    std::string_view name(reinterpret_cast<const char*>(seg.data() + name_off), nh.n_namesz);
    if (nh.n_type == kToolNoteType &&
        name == std::string_view(kToolNoteOwner, sizeof kToolNoteOwner) && nh.n_descsz > 0) {
      std::string_view desc(reinterpret_cast<const char*>(seg.data() + desc_off), nh.n_descsz);
      if (desc.back() == '\0') desc.remove_suffix(1);
      return ToolNamed(desc);
    }
    off = next;
  }
  return OwnTool::kNone;
}

OwnTool ReadToolNote(int fd) {
  Elf64_Ehdr eh;
  if (!ReadAt(fd, &eh, sizeof eh, 0)) return OwnTool::kNone;
  if (std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
      eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0 || eh.e_phnum > 256) {
    return OwnTool::kNone;
  }
  std::vector<Elf64_Phdr> ph(eh.e_phnum);
  if (!ReadAt(fd, ph.data(), ph.size() * sizeof(Elf64_Phdr), eh.e_phoff)) return OwnTool::kNone;
  for (const Elf64_Phdr& p : ph) {
    if (p.p_type != PT_NOTE || p.p_filesz == 0 || p.p_filesz > (1u << 16)) continue;
    std::vector<uint8_t> seg(p.p_filesz);
    if (!ReadAt(fd, seg.data(), seg.size(), p.p_offset)) continue;
    OwnTool t = ScanNotes(seg, p.p_align == 8 ? 8 : 4);
    if (t != OwnTool::kNone) return t;
  }
  return OwnTool::kNone;
}

// ---- streams ----

class NullBuf : public std::streambuf {
 protected:
  int_type overflow(int_type c) override { return traits_type::not_eof(c); }
  std::streamsize xsputn(const char*, std::streamsize n) override { return n; }
};

struct NullStream : std::ostream {
  NullStream() : std::ostream(&buf) {}
  NullBuf buf;
};

// Forwards to a target stream until *closed is set: what a command prints
// after drbdadm gave up on it is lost, as a killed child's would be.
class GateBuf : public std::streambuf {
 public:
  GateBuf(std::ostream& target, const bool* closed) : target_(target), closed_(closed) {}

 protected:
  int_type overflow(int_type c) override {
    if (!*closed_ && !traits_type::eq_int_type(c, traits_type::eof())) {
      target_.put(traits_type::to_char_type(c));
    }
    return traits_type::not_eof(c);
  }
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    if (!*closed_) target_.write(s, n);
    return n;
  }
  int sync() override {
    if (!*closed_) target_.flush();
    return 0;
  }

 private:
  std::ostream& target_;
  const bool* closed_;
};

// ---- the shared genl connection ----

double NowSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// One transport per process, for the DRBD_SIM_SOCKET value it was opened
// with (empty: the kernel).
struct SharedConnection {
  std::string key;
  std::unique_ptr<genl::Transport> transport;
};

SharedConnection& Shared() {
  static SharedConnection* c = new SharedConnection;  // never destroyed: used up to exit
  return *c;
}

std::string ConnectionKey() {
  const char* sim = std::getenv(std::string(genl::kSimSocketEnv).c_str());
  return sim != nullptr ? sim : "";
}

// The shared transport, opened on first use; null when it cannot be opened
// (the caller then lets genl::Client::Connect() report why, in drbdsetup's
// words). A transport with anything unread (a late reply, the peer gone)
// is replaced: a command must start on a quiet connection.
genl::Transport* AcquireShared() {
  SharedConnection& c = Shared();
  std::string key = ConnectionKey();
  if (c.transport && c.key == key) {
    auto r = c.transport->Receive(0);
    if (!r.ok() && r.error().code == genl::ErrorCode::kTimeout) return c.transport.get();
  }
  c.transport.reset();
  auto t = genl::OpenTransportFromEnv();
  if (!t.ok()) return nullptr;
  c.key = key;
  c.transport = std::move(*t);
  return c.transport.get();
}

// What a lent transport saw, read by RunInProcess after the command.
struct LoanReport {
  bool expired = false;  // the deadline passed while waiting for a reply
  bool joined = false;   // the command joined a multicast group
};

// The shared transport lent to one drbdsetup command. Receive waits at most
// until the deadline (cmd-timeout-*), which is how an in-process command
// is "killed" when the exec path would kill its child.
class LentTransport : public genl::Transport {
 public:
  LentTransport(genl::Transport& base, double deadline, LoanReport* report)
      : base_(base), deadline_(deadline), report_(report) {}

  genl::Status Send(std::span<const uint8_t> datagram) override { return base_.Send(datagram); }

  genl::Result<std::vector<uint8_t>> Receive(int timeout_ms) override {
    if (deadline_ > 0) {
      double left = deadline_ - NowSeconds();
      if (left <= 0) {
        report_->expired = true;
        return genl::Error{genl::ErrorCode::kTimeout, "timeout"};
      }
      int left_ms = static_cast<int>(std::ceil(left * 1000));
      if (timeout_ms < 0 || timeout_ms > left_ms) timeout_ms = left_ms;
    }
    auto r = base_.Receive(timeout_ms);
    if (!r.ok() && r.error().code == genl::ErrorCode::kTimeout && deadline_ > 0 &&
        NowSeconds() >= deadline_) {
      report_->expired = true;
    }
    return r;
  }

  genl::Status JoinGroup(uint32_t group_id) override {
    report_->joined = true;
    return base_.JoinGroup(group_id);
  }
  uint32_t port_id() const override { return base_.port_id(); }
  std::string name() const override { return base_.name(); }

 private:
  genl::Transport& base_;
  double deadline_;  // CLOCK_MONOTONIC seconds; 0: none
  LoanReport* report_;
};

int RunDrbdsetupInProcess(const std::vector<std::string>& argv, std::ostream& out,
                          std::ostream& err, bool stdout_captured, unsigned timeout_s) {
  LoanReport report;
  const double deadline = timeout_s ? NowSeconds() + timeout_s : 0;
  GateBuf out_gate(out, &report.expired), err_gate(err, &report.expired);
  std::ostream gated_out(&out_gate), gated_err(&err_gate);
  setup::RunOptions options;
  options.check_module = true;
  if (stdout_captured) options.stdout_is_tty = false;
  options.connect = [&]() -> genl::Result<std::unique_ptr<genl::Client>> {
    genl::Transport* shared = AcquireShared();
    if (shared == nullptr) return genl::Client::Connect();
    return genl::Client::Connect(std::make_unique<LentTransport>(*shared, deadline, &report));
  };
  int rc = timeout_s ? setup::RunDrbdsetupWithOptions(argv, gated_out, gated_err, options)
                     : setup::RunDrbdsetupWithOptions(argv, out, err, options);
  if (report.expired || report.joined) ResetInProcessConnection();
  if (report.expired) return kInProcTimedOut;
  return rc & 0xff;
}

int RunDrbdmetaInProcess(const std::vector<std::string>& argv, std::ostream& out,
                         std::ostream& err) {
  meta::Io io;
  io.err = [&err](const std::string& s) {
    err.write(s.data(), static_cast<std::streamsize>(s.size()));
    err.flush();
  };
  io.flush_out = [&out](std::string& s) {
    out.write(s.data(), static_cast<std::streamsize>(s.size()));
    out.flush();
    s.clear();
  };
  // drbdmeta's "drbdsetup MINOR dstate" probe: in-process as well when that
  // drbdsetup (found in PATH, as drbdmeta looks for it) is ours.
  io.run_helper = [](const std::vector<std::string>& helper,
                     std::string* helper_out) -> std::optional<int> {
    OwnTool tool = InProcessToolFor(helper);
    if (tool != OwnTool::kDrbdsetup) return std::nullopt;
    std::ostringstream captured;
    InProcIo helper_io;
    helper_io.out = &captured;
    helper_io.stdout_captured = true;
    int rc = RunInProcess(tool, helper, helper_io, 0);
    *helper_out = std::move(captured).str();
    return rc;
  };
  io.stdin_is_tty = [] { return isatty(STDIN_FILENO) == 1; };
  // Answers are read through a stdio stream of its own, closed when the
  // command ends: it may read ahead and discard input as a child's would.
  FILE* in = nullptr;
  io.read_line = [&in]() -> std::optional<std::string> {
    if (in == nullptr) {
      int fd = dup(STDIN_FILENO);
      if (fd < 0) return std::nullopt;
      in = fdopen(fd, "r");
      if (in == nullptr) {
        close(fd);
        return std::nullopt;
      }
    }
    char* line = nullptr;
    size_t cap = 0;
    ssize_t n = getline(&line, &cap, in);
    if (n < 0) {
      std::free(line);
      return std::nullopt;
    }
    std::string s(line, static_cast<size_t>(n));
    std::free(line);
    if (!s.empty() && s.back() == '\n') s.pop_back();
    return s;
  };
  int rc = meta::RunDrbdmeta(argv, io);
  if (in != nullptr) std::fclose(in);
  out.write(io.out.data(), static_cast<std::streamsize>(io.out.size()));
  return rc & 0xff;
}

}  // namespace

OwnTool IdentifyTool(const std::string& program) {
  std::string path = ResolveLikeExecvp(program);
  if (path.empty()) return OwnTool::kNone;
  struct stat sb {};
  if (stat(path.c_str(), &sb) != 0 || !S_ISREG(sb.st_mode)) return OwnTool::kNone;
  using Key = std::tuple<dev_t, ino_t, off_t, time_t, long>;
  static auto* cache = new std::map<Key, OwnTool>;  // never destroyed: used up to exit
  Key key{sb.st_dev, sb.st_ino, sb.st_size, sb.st_mtim.tv_sec, sb.st_mtim.tv_nsec};
  if (auto it = cache->find(key); it != cache->end()) return it->second;
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return OwnTool::kNone;
  OwnTool t = ReadToolNote(fd);
  close(fd);
  (*cache)[key] = t;
  return t;
}

OwnTool InProcessToolFor(const std::vector<std::string>& argv) {
  if (argv.empty()) return OwnTool::kNone;
  if (const char* e = std::getenv("DRBDADM_EXEC_HELPERS");
      e != nullptr && *e && std::strcmp(e, "0") != 0) {
    return OwnTool::kNone;
  }
  OwnTool tool = IdentifyTool(argv[0]);
  if (tool == OwnTool::kDrbdsetup) {
    // Commands that wait for events until a condition or a signal keep
    // their own process (drbdadm may kill it; Ctrl-C ends only it).
    for (size_t i = 1; i < argv.size(); ++i) {
      std::string_view a = argv[i];
      if (a == "events2" || a.starts_with("wait-")) return OwnTool::kNone;
    }
  }
  return tool;
}

int RunInProcess(OwnTool tool, const std::vector<std::string>& argv, const InProcIo& io,
                 unsigned timeout_s) {
  NullStream null_out, null_err;
  std::ostream& out = io.out != nullptr ? *io.out : null_out;
  std::ostream& err = io.err != nullptr ? *io.err : null_err;
  int rc = -1;
  try {
    switch (tool) {
      case OwnTool::kDrbdsetup:
        rc = RunDrbdsetupInProcess(argv, out, err, io.stdout_captured, timeout_s);
        break;
      case OwnTool::kDrbdmeta:
        rc = RunDrbdmetaInProcess(argv, out, err);
        break;
      case OwnTool::kNone:
        break;
    }
  } catch (...) {
    // A child would have died by SIGABRT: the exec path reports -1.
    rc = -1;
  }
  out.flush();
  err.flush();
  return rc;
}

void ResetInProcessConnection() { Shared().transport.reset(); }

}  // namespace drbd::adm
