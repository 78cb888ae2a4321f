// SPDX-License-Identifier: GPL-2.0-or-later
// The drbd.conf parser: a recursive-descent reader over lib/config/lexer.h
// tokens that builds the Config model. It follows drbd-utils 9.22 statement
// by statement, including which errors stop at once (syntax errors, uniqueness
// conflicts) and which only mark the configuration invalid (value and range
// checks, structural complaints), and which line each message names.
#include "lib/base/strings.h"
#include "lib/config/parser.h"

#include <fmt/format.h>
#include <fcntl.h>
#include <glob.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iostream>
#include <iterator>
#include <map>
#include <memory>
#include <set>
#include <sstream>

#include "lib/config/host.h"
#include "lib/config/lexer.h"
#include "lib/config/options.h"

namespace drbd::cfg {
namespace {

constexpr int kNoHostSectAllowed = 4;
constexpr int kParseForAdjust = 8;
constexpr int kMaxFileDepth = 256;
// drbd-utils formats template resource names into a 1024-byte buffer.
constexpr size_t kMaxTemplateName = 1023;
constexpr int kDrbdMajor = 147;

// The concatenation of the parts (uniqueness keys, built per statement:
// cheaper than fmt::format for plain joins).
template <typename... Parts>
std::string Cat(const Parts&... parts) {
  std::string out;
  out.reserve((std::string_view(parts).size() + ...));
  (out.append(std::string_view(parts)), ...);
  return out;
}

// drbd-utils prints offending tokens with "%.20s" plus "..." when longer.
std::string Clip20(std::string_view s) {
  std::string out(s.substr(0, 20));
  if (s.size() > 20) out += "...";
  return out;
}

bool OnlyDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// C atoi() on the texts the lexer produces (digits with an optional suffix).
int Atoi(std::string_view s) {
  long long v = 0;
  size_t i = 0;
  bool neg = false;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) neg = s[i++] == '-';
  for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) {
    v = v * 10 + (s[i] - '0');
    if (v > INT64_C(1) << 40) break;
  }
  return static_cast<int>(neg ? -v : v);
}

// drbd-utils dt_minor_of_dev(): /dev/drbdN (or N) gives N; an existing
// block device node with the DRBD major gives its minor; else -1.
int MinorOfDevice(const std::string& dev) {
  std::string digits;
  if (OnlyDigits(dev)) {
    digits = dev;
  } else if (dev.compare(0, 9, "/dev/drbd") == 0 && OnlyDigits(std::string_view(dev).substr(9))) {
    digits = dev.substr(9);
  } else {
    struct stat sb;
    if (stat(dev.c_str(), &sb) == 0 && S_ISBLK(sb.st_mode) &&
        static_cast<int>(major(sb.st_rdev)) == kDrbdMajor) {
      return static_cast<int>(minor(sb.st_rdev));
    }
    return -1;
  }
  errno = 0;
  long m = std::strtol(digits.c_str(), nullptr, 10);
  if (errno != 0) return -1;
  return static_cast<int>(m);
}

std::string JoinNames(const Names& names, char sep) {
  if (names.empty()) return "UNKNOWN";
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i) out += sep;
    out += names[i];
    if (out.size() >= 4095) {
      out.resize(4095);
      break;
    }
  }
  return out;
}

std::string DirOf(const std::string& canonical) {
  size_t slash = canonical.rfind('/');
  if (slash == std::string::npos) return "";
  if (slash == 0) return "/";
  return canonical.substr(0, slash);
}

// drbd-utils canonify_path(): the directory part resolved to an absolute
// path (symlinks included), the last component kept as written.
std::string CanonifyPath(const std::string& path, const std::string& base_dir) {
  if (path.empty()) return path;
  std::string full = path;
  if (path[0] != '/' && !base_dir.empty()) full = base_dir + "/" + path;
  size_t slash = full.rfind('/');
  std::string dir;
  std::string base;
  if (slash == std::string::npos) {
    dir = ".";
    base = full;
  } else if (slash == 0 && path[0] == '/' && path.rfind('/') == 0) {
    return path;
  } else {
    dir = slash == 0 ? "/" : full.substr(0, slash);
    base = full.substr(slash + 1);
  }
  char* real = realpath(dir.c_str(), nullptr);
  std::string abs;
  if (real != nullptr) {
    abs = real;
    free(real);
  } else if (dir[0] == '/') {
    abs = dir;
  } else {
    char* cwd = getcwd(nullptr, 0);
    abs = cwd != nullptr ? std::string(cwd) + "/" + dir : dir;
    free(cwd);
  }
  if (abs == "/") return "/" + base;
  return abs + "/" + base;
}

std::string RealPathOr(const std::string& path) {
  char* real = realpath(path.c_str(), nullptr);
  if (real == nullptr) return path;
  std::string s = real;
  free(real);
  return s;
}

bool ReadWholeFile(const std::string& path, std::string* out) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  struct stat sb;
  // Regular files are read straight into a string of their size; anything
  // else (a pipe, /dev/stdin) in chunks until end of file.
  size_t want = fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) ? static_cast<size_t>(sb.st_size) : 0;
  std::string text;
  text.resize(want + 1);  // + 1: end of file is seen without a second resize
  size_t len = 0;
  for (;;) {
    if (len == text.size()) text.resize(text.size() * 2 + 4096);
    const ssize_t n = read(fd, text.data() + len, text.size() - len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      close(fd);
      return false;
    }
    if (n == 0) break;
    len += static_cast<size_t>(n);
  }
  close(fd);
  text.resize(len);
  *out = std::move(text);
  return true;
}

std::string QuoteTok(Tok t) {
  int n = TokNumber(t);
  if (n > 0 && n < 256) return fmt::format("'{}'", static_cast<char>(n));
  std::string_view kw = KeywordText(t);
  if (!kw.empty()) return fmt::format("'{}'", kw);
  switch (t) {
    case Tok::kString:
      return "a word or quoted string";
    case Tok::kInteger:
      return "a number";
    case Tok::kIpAddr:
      return "an IPv4 address";
    case Tok::kIpAddr6:
      return "an IPv6 address";
    case Tok::kKmodVers:
      return "a version X.Y.Z";
    case Tok::kEof:
      return "end of file";
    default:
      return fmt::format("token {}", n);
  }
}

// How drbd-utils' EXP() names the expected token (its stringified macro
// argument).
std::string ExpName(Tok t) {
  int n = TokNumber(t);
  if (n > 0 && n < 256) return fmt::format("'{}'", static_cast<char>(n));
  switch (t) {
    case Tok::kString:
      return "TK_STRING";
    case Tok::kInteger:
      return "TK_INTEGER";
    case Tok::kIpAddr:
      return "TK_IPADDR";
    case Tok::kIpAddr6:
      return "TK_IPADDR6";
    case Tok::kKmodVers:
      return "TK_KMODVERS";
    case Tok::kProxy:
      return "TK_PROXY";
    case Tok::kOn:
      return "TK_ON";
    case Tok::kDisk:
      return "TK_DISK";
    case Tok::kCommon:
      return "TK_COMMON";
    default:
      return fmt::format("TK_{}", n);
  }
}


std::string Suggest(std::string_view got, std::initializer_list<std::string_view> words) {
  std::string_view best;
  size_t best_d = SIZE_MAX;
  for (std::string_view w : words) {
    size_t d = EditDistance(got, w);
    if (d < best_d) {
      best_d = d;
      best = w;
    }
  }
  if (best.empty() || got.empty() || best_d == 0 || best_d > std::max<size_t>(1, best.size() / 3)) {
    return "";
  }
  return fmt::format("; did you mean '{}'?", best);
}

// For an option keyword unknown in ctx: a "did you mean" for a near miss,
// or the section that does take it (8.4 configs put `fencing` in disk { }).
std::string OptionHint(const ContextDef& ctx, std::string_view name) {
  if (const OptionDef* s = SuggestField(ctx, name)) {
    return fmt::format("; did you mean '{}'?", s->name);
  }
  std::string_view bare = name.substr(0, 3) == "no-" ? name.substr(3) : name;
  static constexpr struct {
    OptContext ctx;
    std::string_view section;
  } kSections[] = {
      {OptContext::kShowNetOptions, "net"},     {OptContext::kAttach, "disk"},
      {OptContext::kPeerDeviceOptions, "disk"}, {OptContext::kResourceOptions, "options"},
      {OptContext::kStartup, "startup"},        {OptContext::kHandlers, "handlers"},
  };
  for (const auto& s : kSections) {
    if (s.ctx == ctx.id) continue;
    for (const OptionDef* f : Context(s.ctx).fields) {
      if (f != nullptr && f->name == bare) {
        return fmt::format("; it belongs in the {} section", s.section);
      }
    }
  }
  return "";
}

// One file being read: its names and its tokens.
struct Source {
  std::string file;  // drbd-utils config_file: the name as given/included
  std::string save;  // drbd-utils config_save: canonical path, or "STDIN"
  std::string text;
  std::unique_ptr<Lexer> lex;
};

class Parser {
 public:
  Parser(Config& cfg, DiagSink& diag, std::string hostname, std::string module_version, bool adjust)
      : cfg_(cfg),
        diag_(diag),
        hostname_(std::move(hostname)),
        module_version_(std::move(module_version)),
        no_uniq_(adjust) {}

  void SetSource(Source* src) { src_ = src; }
  Source* source() { return src_; }

  // drbd-utils my_parse(): top-level statements until end of file.
  void ParseTop();

  // drbd-utils parse_resource(); the opening '{' has been read.
  void ParseResource(Resource& res, const std::string& name, int flags);

  // The `drbdsetup show` loop: `resource NAME {` ... until anything else.
  void ParseShow(std::list<Resource>& out);

  int line() const { return line_; }

 private:
  // ---- tokens and errors -------------------------------------------------
  Tok Next() {
    tok_ = src_->lex->Next();
    line_ = src_->lex->line();
    return tok_.kind;
  }
  const std::string& Text() const { return tok_.text; }

  Diagnostic Diag(const std::string& file, int line, std::string text, std::string compat) {
    Diagnostic d;
    d.file = file;
    d.line = line;
    d.col = line == tok_.line ? tok_.col : 0;
    d.text = std::move(text);
    d.compat = std::move(compat);
    return d;
  }
  [[noreturn]] void Fatal(const Diagnostic& d, ExitCode code = ExitCode::kConfigInvalid) {
    diag_.Fatal(d, code);
  }
  void Error(const Diagnostic& d) {
    diag_.Emit(d);
    Invalidate();
  }
  void Warn(Diagnostic d) {
    d.severity = Severity::kWarning;
    diag_.Emit(d);
  }
  void Invalidate() {
    if (!no_uniq_) cfg_.valid = false;
  }

  std::string Got() const { return TokenDescription(tok_); }

  // Our text: "expected X, got 'Y'", with any "; did you mean" hint in
  // `ours` moved after the token.
  std::string ExpectedText(const std::string& exp, const std::string& ours) const {
    std::string what = ours.empty() ? exp : ours;
    std::string hint;
    size_t h = what.find("; did you mean");
    if (h != std::string::npos) {
      hint = what.substr(h);
      what.resize(h);
    }
    return fmt::format("expected {}, got {}{}", what, Got(), hint);
  }
  // A syntax error whose whole text is ours (unknown option keywords).
  [[noreturn]] void PeExpectedFull(const std::string& exp, const std::string& text) {
    Fatal(Diag(src_->file, line_, text,
               fmt::format("{}:{}: Parse error: '{}' expected,\n\tbut got '{}'\n", src_->file,
                           line_, exp, Clip20(Text()))));
  }
  [[noreturn]] void PeExpected(const std::string& exp, const std::string& ours = "") {
    Fatal(Diag(src_->file, line_, ExpectedText(exp, ours),
               fmt::format("{}:{}: Parse error: '{}' expected,\n\tbut got '{}'\n", src_->file,
                           line_, exp, Clip20(Text()))));
  }
  [[noreturn]] void PeExpectedGot(const std::string& exp, const std::string& ours = "") {
    std::string shown = exp;
    if (exp.size() == 3 && exp[0] == '\'' && exp[2] == '\'') shown = exp.substr(1, 1);
    Fatal(Diag(src_->file, line_, ExpectedText(exp, ours),
               fmt::format("{}:{}: Parse error: '{}' expected,\n\tbut got '{}' (TK {})\n",
                           src_->file, line_, shown, Clip20(Text()), TokNumber(tok_.kind))));
  }
  void CheckStringError() {
    const char* msg = nullptr;
    const char* ours = nullptr;
    switch (tok_.kind) {
      case Tok::kErrStringTooLong:
        msg = "Token too long";
        ours = "word longer than 128 characters";
        break;
      case Tok::kErrDqstringTooLong:
        msg = "Double quoted string too long";
        ours = "quoted string longer than 255 characters";
        break;
      case Tok::kErrDqstring:
        msg = "Unterminated double quoted string\n  we don't allow embedded newlines\n ";
        ours = "unterminated quoted string (strings cannot span lines)";
        break;
      default:
        return;
    }
    Fatal(Diag(src_->file, line_, ours,
               fmt::format("{}:{}: {} >>>{}...<<<\n", src_->file, line_, msg,
                           std::string_view(Text()).substr(0, 20))));
  }
  Tok Exp(Tok want) {
    Tok t = Next();
    if (t != want) {
      if (want == Tok::kString) CheckStringError();
      PeExpectedGot(ExpName(want), QuoteTok(want));
    }
    return t;
  }

  // ---- uniqueness --------------------------------------------------------
  bool CheckUpr(std::string_view what, std::string_view key) {
    if (no_uniq_) return true;
    auto [use, inserted] = per_res_.TryEmplace(key, UprUse{InternFile(src_->file), fline_});
    if (inserted) return true;
    const std::string data = fmt::format("{}:{}", src_->file, fline_);
    const std::string first = fmt::format("{}:{}", *use->file, use->line);
    Fatal(Diag(src_->file, fline_,
               fmt::format("conflicting use of {} '{}'; first used at {}", what, key, first),
               fmt::format("{}: conflicting use of {} '{}' ...\n{}: {} '{}' first used here.\n",
                           data, what, key, first, what, key)));
  }
  // A copy of a file name that lives as long as the parser (one per file,
  // not one per uniqueness key).
  const std::string* InternFile(const std::string& file) {
    if (last_file_ == nullptr || *last_file_ != file) last_file_ = &*file_names_.insert(file).first;
    return last_file_;
  }
  bool Uniq(const std::string& what, const std::string& key) {
    if (no_uniq_) return true;
    return CheckUniq(cfg_, diag_, src_->file, fline_, what, key);
  }
  template <typename... Args>
  bool UniqAt(std::string_view file, int line, std::string_view what,
              fmt::format_string<Args...> key_fmt, Args&&... args) {
    if (no_uniq_) return true;
    return CheckUniqFormat(cfg_, diag_, file, line, what, key_fmt, std::forward<Args>(args)...);
  }

  void RangeCheck(std::string_view name, const std::string& value, uint64_t min, uint64_t max) {
    auto msg = RangeErrorCompat(name, value, '1', min, max, src_->file, fline_);
    if (!msg) return;
    diag_.Emit(Diag(src_->file, fline_,
                    fmt::format("{} {} is out of range {}..{}", name, value, min, max), *msg));
    Invalidate();
  }

  // ---- sections ----------------------------------------------------------
  void ParseGlobal();
  void ParseSkip();
  void Include(const std::string& pattern);
  void ValidateKmod(Tok op, const std::string& version);
  Resource* TemplateFile(const std::string& res_name, std::string* written);

  std::string ParseOptionValue(const OptionDef* def, bool no_prefix);
  const OptionDef* Find(OptContext ctx, std::string_view name, bool* no_prefix);
  Options ParseOptions(OptContext ctx, const std::function<void()>& delegate);
  // The option NAME of `_unknown NAME;` (current token), through ';'.
  Option UnknownOption(const OptionDef* def);
  // Warns about `_unknown NAME;` naming no option and skips through ';'.
  void IgnoreUnknownOption();
  [[noreturn]] void PeOptions(OptContext ctx);
  // A `disk { }` body: disk (attach) options into disk; peer-device options
  // into pd; device (new-minor) options into device; `fencing` into net when
  // net is given (resource level: the 8.4 place of `fencing`).
  void ParseDiskOptions(Options& disk, Options& device, Options& pd, Options* net);
  void ParseSyncer(Resource& res);
  void ParseProxyOptions(Options& opts, Options& plugins);
  void ProxyPluginDelegate(Options& plugins);
  ProxyInfo ParseProxySection();

  void ParseAddress(Address& a);
  void ParseHosts(Names& hosts, char delim);
  Volume& Volume0(Volumes& vols);
  bool ParseVolumeStmt(Volume& vol, const Names* on_hosts, Tok token);
  Volume ParseVolume(int vnr, const Names* on_hosts);
  Volume ParseStackedVolume(int vnr);
  void ParseDevice(const Names* on_hosts, Volume& vol);
  void CheckMinorNonsense(const std::optional<std::string>& dev, int minor);
  void ParseMetaDisk(Volume& vol);
  void ParseHostSection(Resource& res, const Names& on_hosts, bool require_minor, bool by_address);
  void ParseStackedSection(Resource& res);
  void ParseHnameAddressPair(Path& path, HnameAddress& ha, Tok prev);
  // After `via`: `proxy on ... { }` or `outside-address [af] a:p;`.
  void ParseVia(HnameAddress& ha);
  Path& Path0(Connection& conn);
  void ParsePath(Path& path);
  void ParseConnection(Connection& conn, int flags);
  void ParseMesh(Resource& res, int flags);
  void NetDelegate(int flags);
  void StartupDelegate(Resource& res);

  Config& cfg_;
  DiagSink& diag_;
  std::string hostname_;
  std::string module_version_;
  bool no_uniq_;  // drbd-utils config_valid == 2: parsing `drbdsetup show`
  // The option being parsed was marked `_unknown` (show text only).
  bool unknown_value_ = false;
  Source* src_ = nullptr;
  Token tok_;
  int line_ = 1;
  int fline_ = 0;
  int c_section_start_ = 0;
  int depth_ = 0;
  // Per-resource uniqueness keys → where first used (file name interned).
  struct UprUse {
    const std::string* file;
    int line;
  };
  FlatStringMap<UprUse> per_res_;
  std::set<std::string> file_names_;
  const std::string* last_file_ = nullptr;

  // For its lifetime makes `next` (text already read; shown as `file`,
  // relative names resolved against `dir`) the source being parsed, as an
  // include or a template-file does, then returns to the including file
  // where it left off.
  class SourceScope {
   public:
    SourceScope(Parser& p, Source& next, const std::string& file, const std::string& dir)
        : p_(p), saved_(p.src_), saved_tok_(p.tok_), saved_line_(p.line_) {
      next.file = file;
      next.save = CanonifyPath(file, dir);
      next.lex = std::make_unique<Lexer>(next.text);
      p_.cfg_.uniq.Reserve(p_.cfg_.uniq.size() + next.text.size() / 40);
      p_.src_ = &next;
      p_.line_ = 1;
      ++p_.depth_;
    }
    ~SourceScope() {
      --p_.depth_;
      p_.src_ = saved_;
      p_.tok_ = saved_tok_;
      p_.line_ = saved_line_;
    }
    SourceScope(const SourceScope&) = delete;
    SourceScope& operator=(const SourceScope&) = delete;

   private:
    Parser& p_;
    Source* saved_;
    Token saved_tok_;
    int saved_line_;
  };
};

// ---- options ---------------------------------------------------------------

const OptionDef* Parser::Find(OptContext ctx, std::string_view name, bool* no_prefix) {
  *no_prefix = false;
  if (name.substr(0, 3) == "no-") {
    name.remove_prefix(3);
    *no_prefix = true;
  }
  const ContextDef& c = Context(ctx);
  for (const OptionDef* f : c.fields) {
    if (f != nullptr && f->name == name) return f;
  }
  return nullptr;
}

[[noreturn]] void Parser::PeOptions(OptContext ctx) {
  const ContextDef& c = Context(ctx);
  std::string got = Text();
  std::string_view section = c.name;
  switch (ctx) {
    case OptContext::kAttach:
    case OptContext::kPeerDeviceOptions:
      section = "disk";
      break;
    case OptContext::kShowNetOptions:
      section = "net";
      break;
    case OptContext::kResourceOptions:
      section = "options";
      break;
    case OptContext::kStartup:
      section = "startup";
      break;
    case OptContext::kHandlers:
      section = "handlers";
      break;
    case OptContext::kProxy:
      section = "proxy";
      break;
    default:
      break;
  }
  std::string ours = fmt::format("unknown option '{}' in {} section", Clip20(got), section);
  ours += OptionHint(c, got);
  Fatal(Diag(src_->file, line_, ours,
             fmt::format("{}:{}: Parse error: '{}' expected,\n\tbut got '{}'\n", src_->file, line_,
                         FieldNameList(c), Clip20(got))));
}

std::string Parser::ParseOptionValue(const OptionDef* def, bool no_prefix) {
  Tok t = Next();
  if (t == Tok::kSemicolon) return no_prefix ? "no" : "yes";
  std::string value = Text();
  if (!def->checked_in_postparse) {
    CheckCode e = CheckValue(*def, value);
    if (e != CheckCode::kOk) {
      diag_.Emit(Diag(src_->file, line_, CheckErrorText(*def, e, value),
                      CheckErrorCompat(*def, e, value, src_->file, line_)));
      Invalidate();
    }
  }
  Exp(Tok::kSemicolon);
  return value;
}

Options Parser::ParseOptions(OptContext ctx, const std::function<void()>& delegate) {
  Options opts;
  c_section_start_ = line_;
  fline_ = line_;
  for (;;) {
    Tok t = Next();
    if (t == Tok::kRBrace) return opts;
    // `drbdsetup show` (drbd-utils >= 9.23) prints `_unknown NAME;` for an
    // option whose value the kernel did not report.
    unknown_value_ = no_uniq_ && Text() == "_unknown";
    if (unknown_value_) Next();
    bool no_prefix = false;
    const OptionDef* def = Find(ctx, Text(), &no_prefix);
    if (def == nullptr) {
      if (delegate) {
        delegate();
        continue;
      }
      if (unknown_value_) {
        IgnoreUnknownOption();
        continue;
      }
      PeOptions(ctx);
    }
    if (unknown_value_) {
      opts.push_back(UnknownOption(def));
      continue;
    }
    Option o;
    o.name = std::string(def->name);
    o.line = tok_.line;
    o.col = tok_.col;
    o.value = ParseOptionValue(def, no_prefix);
    opts.push_back(std::move(o));
  }
}

Option Parser::UnknownOption(const OptionDef* def) {
  Option o;
  o.name = std::string(def->name);
  o.line = tok_.line;
  o.col = tok_.col;
  o.has_value = false;
  o.unknown = true;
  Exp(Tok::kSemicolon);
  return o;
}

void Parser::IgnoreUnknownOption() {
  std::string name = Text();
  std::string shown = name.size() > 40 ? name.substr(0, 40) + "..." : name;
  Warn(Diag(src_->file, line_, fmt::format("ignoring unknown option '{}'", name),
            fmt::format("{}:{}: Warning: Ignoring {}\n", src_->file, line_, shown)));
  for (Tok t = Next(); t != Tok::kSemicolon; t = Next()) {
    if (t == Tok::kEof || t == Tok::kRBrace) PeExpectedGot(";", "';' after option");
  }
}

void Parser::ParseDiskOptions(Options& disk, Options& device, Options& pd, Options* net) {
  disk = ParseOptions(OptContext::kAttach, [&] {
    bool no_prefix = false;
    Options* target = &pd;
    const OptionDef* def = Find(OptContext::kPeerDeviceOptions, Text(), &no_prefix);
    if (def == nullptr) {
      def = Find(OptContext::kNewMinor, Text(), &no_prefix);
      target = &device;
    }
    // DRBD 8.4 kept `fencing` in disk { }; a resource-level disk section
    // moves it into net (drbd-utils >= 9.23, see docs/compat.md).
    if (def == nullptr && net != nullptr && Text() == "fencing") {
      def = Find(OptContext::kNetOptions, Text(), &no_prefix);
      target = net;
    }
    if (def == nullptr && unknown_value_) {
      IgnoreUnknownOption();
      return;
    }
    if (def == nullptr) PeOptions(OptContext::kPeerDeviceOptions);
    if (unknown_value_) {
      target->push_back(UnknownOption(def));
      return;
    }
    Option o;
    o.name = std::string(def->name);
    o.line = tok_.line;
    o.col = tok_.col;
    o.value = ParseOptionValue(def, no_prefix);
    target->push_back(std::move(o));
  });
}

void Parser::ParseSyncer(Resource& res) {
  c_section_start_ = line_;
  fline_ = line_;
  for (;;) {
    Tok t = Next();
    fline_ = line_;
    if (t == Tok::kRBrace) return;
    std::string name = Text();
    if (name == "outdate-peer")
      name = "fence-peer";
    else if (name == "rate")
      name = "resync-rate";
    else if (name == "after")
      name = "resync-after";
    bool no_prefix = false;
    Options* target = &res.net_options;
    const OptionDef* def = Find(OptContext::kShowNetOptions, name, &no_prefix);
    if (def == nullptr) {
      def = Find(OptContext::kAttach, name, &no_prefix);
      target = &res.disk_options;
    }
    if (def == nullptr) {
      def = Find(OptContext::kResourceOptions, name, &no_prefix);
      target = &res.res_options;
    }
    if (def == nullptr) {
      // DRBD 8.4's syncer { rate; c-*; } are peer-device options in DRBD 9
      // (drbd-utils >= 9.23, see docs/compat.md).
      def = Find(OptContext::kPeerDeviceOptions, name, &no_prefix);
      target = &res.pd_options;
    }
    if (def == nullptr) {
      PeExpectedFull("a syncer option keyword",
                     fmt::format("'{}' is not a net, disk, resource or peer-device option, which "
                                 "is all the syncer section takes",
                                 Clip20(Text())));
    }
    Option o;
    o.name = std::string(def->name);
    o.line = tok_.line;
    o.col = tok_.col;
    o.value = ParseOptionValue(def, no_prefix);
    target->push_back(std::move(o));
  }
}

void Parser::ProxyPluginDelegate(Options& plugins) {
  Options lines;
  if (Next() != Tok::kLBrace) {
    Fatal(Diag(
        src_->file, fline_, fmt::format("expected '{{' after proxy plugin name, got {}", Got()),
        fmt::format("{}:{}: expected \"{{\" after \"proxy\" keyword\n", src_->file, fline_)));
  }
  for (;;) {
    Names words;
    for (;;) {
      Tok t = Next();
      if (t == Tok::kSemicolon) break;
      if (t == Tok::kRBrace) {
        if (words.empty()) {
          plugins = std::move(lines);
          return;
        }
        Fatal(Diag(src_->file, fline_, "missing ';' before '}' in proxy plugin section",
                   fmt::format("{}:{}: Missing \";\" before  \"}}\"\n", src_->file, fline_)));
      }
      if (t == Tok::kEof) {
        Fatal(Diag(src_->file, line_, "end of file inside a proxy plugin section",
                   fmt::format("{}:{}: reached eof while parsing a proxy plugin section.\n",
                               src_->file, line_)));
      }
      words.push_back(Text());
    }
    Option o;
    o.name = JoinNames(words, ' ');
    o.has_value = false;
    o.line = line_;
    lines.push_back(std::move(o));
  }
}

void Parser::ParseProxyOptions(Options& opts, Options& plugins) {
  Exp(Tok::kLBrace);
  opts = ParseOptions(OptContext::kProxy, [&] { ProxyPluginDelegate(plugins); });
}

ProxyInfo Parser::ParseProxySection() {
  ProxyInfo proxy;
  proxy.config_line = line_;
  Exp(Tok::kOn);
  ParseHosts(proxy.on_hosts, '{');
  for (;;) {
    switch (Next()) {
      case Tok::kInside:
        ParseAddress(proxy.inside);
        Exp(Tok::kSemicolon);
        break;
      case Tok::kOutside:
        ParseAddress(proxy.outside);
        Exp(Tok::kSemicolon);
        break;
      case Tok::kOptions:
        ParseProxyOptions(proxy.options, proxy.plugins);
        break;
      case Tok::kRBrace:
        goto done;
      default:
        PeExpected("inside | outside", "'inside', 'outside', 'options' or '}'");
    }
  }
done:
  for (const char* kw : {"inside", "outside"}) {
    const Address& a = kw[0] == 'i' ? proxy.inside : proxy.outside;
    if (!a.addr.empty()) continue;
    std::string hosts = JoinNames(proxy.on_hosts, ' ');
    Error(Diag(src_->file, c_section_start_,
               fmt::format("proxy on {} section lacks '{}'", hosts, kw),
               fmt::format("{}:{}: in section: proxy on {} {{ ... }} }}: '{}' keyword missing.\n",
                           src_->file, c_section_start_, hosts, kw)));
  }
  return proxy;
}

// ---- addresses, hosts, volumes ---------------------------------------------

void Parser::ParseAddress(Address& a) {
  Tok t = Next();
  switch (t) {
    case Tok::kSci:
      a.af = "ssocks";
      Exp(Tok::kIpAddr);
      break;
    case Tok::kSsocks:
    case Tok::kSdp:
    case Tok::kIpv4:
      a.af = Text();
      Exp(Tok::kIpAddr);
      break;
    case Tok::kIpv6:
      a.af = Text();
      Exp(Tok::kLBracket);
      Exp(Tok::kIpAddr6);
      break;
    case Tok::kIpAddr:
      a.af = "ipv4";
      break;
    default:
      PeExpected("ssocks | sdp | ipv4 | ipv6 | <ipv4 address> ",
                 "an address family (ipv4, ipv6, ssocks, sdp) or an IPv4 address");
  }
  a.addr = Text();
  if (a.af == "ipv6") Exp(Tok::kRBracket);
  Exp(Tok::kColon);
  Exp(Tok::kInteger);
  a.port = Text();
  RangeCheck("port", a.port, 1, 65535);
  a.is_local = false;
  {
    // Loopback scope: 127.0.0.0/8 or ::1.
    if (a.addr == "::1" || a.addr == "0:0:0:0:0:0:0:1") {
      a.is_local = true;
    } else if (a.af != "ipv6" && a.addr.compare(0, 4, "127.") == 0) {
      // (The lexer's IPv4 groups are 1-3 digits: b0 == 127 needs "127.".)
      unsigned b0 = 0, b1 = 0, b2 = 0, b3 = 0;
      char tail = 0;
      if (std::sscanf(a.addr.c_str(), "%u.%u.%u.%u%c", &b0, &b1, &b2, &b3, &tail) == 4 &&
          b0 == 127 && b1 < 256 && b2 < 256 && b3 < 256) {
        a.is_local = true;
      }
    }
  }
}

void Parser::ParseHosts(Names& hosts, char delim) {
  int n = 0;
  for (;;) {
    Tok t = Next();
    if (t == Tok::kString) {
      hosts.push_back(Text());
      ++n;
      continue;
    }
    if (TokNumber(t) == delim) {
      if (n == 0) PeExpectedGot("TK_STRING", "a host name");
      return;
    }
    PeExpectedGot(fmt::format("TK_STRING | '{}'", delim),
                  fmt::format("a host name or '{}'", delim));
  }
}

Volume& Parser::Volume0(Volumes& vols) {
  if (vols.empty()) {
    Volume v;
    v.vnr = 0;
    v.device_minor = -1;
    v.implicit = true;
    vols.push_front(std::move(v));
    return vols.front();
  }
  Volume& first = vols.front();
  if (first.vnr == 0 && vols.size() == 1 && first.implicit) return first;
  Error(Diag(src_->file, line_, "mixing explicit volumes and implicit volume 0 is not allowed",
             fmt::format("{}:{}: mixing explicit and implicit volumes is not allowed\n", src_->file,
                         line_)));
  return first;
}

void Parser::CheckMinorNonsense(const std::optional<std::string>& dev, int minor) {
  if (!dev) return;
  std::string_view rest = dev->size() > 9 ? std::string_view(*dev).substr(9) : std::string_view();
  if (OnlyDigits(rest)) {
    errno = 0;
    long m = std::strtol(std::string(rest).c_str(), nullptr, 10);
    if (static_cast<int>(m) == minor) return;
    Error(Diag(src_->file, fline_,
               fmt::format("device {} does not match minor {}; write \"device /dev/drbd{} minor "
                           "{};\" or use a /dev/drbd_NAME device name",
                           *dev, minor, static_cast<unsigned>(minor), static_cast<unsigned>(minor)),
               fmt::format("{}:{}: explicit minor number must match with device name\n"
                           "\tTry \"device /dev/drbd{} minor {};\",\n"
                           "\tor leave off either device name or explicit minor.\n"
                           "\tArbitrary device names must start with /dev/drbd_\n"
                           "\tmind the '_'! (/dev/ is optional, but drbd_ is required)\n",
                           src_->file, fline_, static_cast<unsigned>(minor),
                           static_cast<unsigned>(minor))));
    return;
  }
  // drbd-utils after 9.22 warns about /dev/drbd_NAME (current udev rules no
  // longer create such names) and words the error for other names anew.
  if (dev->size() > 9 && (*dev)[9] == '_') {
    Warn(Diag(src_->file, fline_,
              fmt::format("udev no longer creates arbitrary device names like '{}'; create it "
                          "with 'mknod {} b 147 {}' or use /dev/drbd{}",
                          *dev, *dev, static_cast<unsigned>(minor), static_cast<unsigned>(minor)),
              fmt::format("{}:{}: arbitrary device names (/dev/drbd_...) are no longer generated "
                          "from current udev rules.\n"
                          "\tYou may need to manually mknod {} b 147 {}\n"
                          "\tYou should no longer use them.\n",
                          src_->file, fline_, *dev, static_cast<unsigned>(minor))));
    return;
  }
  Error(Diag(src_->file, fline_,
             fmt::format("device name '{}' with an explicit minor must be /dev/drbd<minor>", *dev),
             fmt::format("{}:{}: explicit device names should be of the form /dev/drbd<minor>\n",
                         src_->file, fline_)));
}

void Parser::ParseDevice(const Names* on_hosts, Volume& vol) {
  bool host_matches = on_hosts == nullptr || HostnameInList(hostname_, *on_hosts);
  Tok t = Next();
  bool want_minor = false;
  if (t == Tok::kString) {
    std::string name = Text();
    vol.device = name.compare(0, 4, "drbd") == 0 ? "/dev/" + name : name;
    if (host_matches && vol.device->compare(0, 9, "/dev/drbd") != 0) {
      Error(Diag(src_->file, fline_,
                 fmt::format("device name '{}' must start with /dev/drbd (/dev/ is optional)",
                             *vol.device),
                 fmt::format("{}:{}: device name must start with /dev/drbd\n"
                             "\t(/dev/ is optional, but drbd is required)\n",
                             src_->file, fline_)));
    }
    Tok t2 = Next();
    if (t2 == Tok::kMinor) {
      want_minor = true;
    } else {
      if (t2 != Tok::kSemicolon) PeExpected("minor | ;", "'minor' or ';'");
      int m = MinorOfDevice(*vol.device);
      if (m < 0) {
        Error(Diag(src_->file, fline_,
                   fmt::format("device '{}' has no minor number; add 'minor N'", *vol.device),
                   fmt::format("{}:{}: no minor given nor device name contains a minor number\n",
                               src_->file, fline_)));
      }
      vol.device_minor = m;
    }
  } else if (t == Tok::kMinor) {
    want_minor = true;
  }
  if (want_minor) {
    Exp(Tok::kInteger);
    vol.device_minor = Atoi(Text());
    Exp(Tok::kSemicolon);
    if (host_matches) CheckMinorNonsense(vol.device, vol.device_minor);
  }
  if (on_hosts == nullptr) return;
  for (const std::string& h : *on_hosts) {
    UniqAt(vol.config_file, vol.device_line, "device-minor", "device-minor:{}:{}", h,
           static_cast<unsigned>(vol.device_minor));
    if (vol.device)
      UniqAt(vol.config_file, vol.device_line, "device", "device:{}:{}", h, *vol.device);
  }
}

void Parser::ParseMetaDisk(Volume& vol) {
  Exp(Tok::kString);
  vol.meta_disk = Text();
  if (Text() == "internal") {
    vol.meta_index = "internal";
    Exp(Tok::kSemicolon);
    return;
  }
  switch (Next()) {
    case Tok::kLBracket:
      Exp(Tok::kInteger);
      vol.meta_index = Text();
      Exp(Tok::kRBracket);
      Exp(Tok::kSemicolon);
      break;
    case Tok::kSemicolon:
      vol.meta_index = "flexible";
      break;
    default:
      PeExpected("[ | ;", "'[' or ';'");
  }
}

bool Parser::ParseVolumeStmt(Volume& vol, const Names* on_hosts, Tok token) {
  if (vol.config_file.empty()) vol.config_file = src_->file;
  switch (token) {
    case Tok::kDisk: {
      Tok t = Next();
      if (t == Tok::kString) {
        vol.disk = Text();
        Exp(Tok::kSemicolon);
      } else if (t == Tok::kLBrace) {
        ParseDiskOptions(vol.disk_options, vol.device_options, vol.pd_options, nullptr);
      } else {
        CheckStringError();
        PeExpectedGot("TK_STRING | {", "a disk path, 'none' or '{'");
      }
      vol.parsed_disk = true;
      vol.disk_line = fline_;
      return true;
    }
    case Tok::kDevice:
      ParseDevice(on_hosts, vol);
      vol.parsed_device = true;
      vol.device_line = fline_;
      return true;
    case Tok::kMetaDisk:
      ParseMetaDisk(vol);
      vol.parsed_meta_disk = true;
      vol.meta_disk_line = fline_;
      return true;
    case Tok::kFlexMetaDisk:
      Exp(Tok::kString);
      vol.meta_disk = Text();
      vol.meta_index = Text() == "internal" ? "internal" : "flexible";
      Exp(Tok::kSemicolon);
      vol.parsed_meta_disk = true;
      vol.meta_disk_line = fline_;
      return true;
    case Tok::kSkip:
      ParseSkip();
      return true;
    case Tok::kTiebreaker: {
      Tok t = Next();
      if (t == Tok::kYes) {
        vol.tiebreaker = true;
      } else if (t == Tok::kNo) {
        vol.tiebreaker = false;
      } else {
        PeExpected("yes | no", "'yes' or 'no' after 'tiebreaker'");
      }
      vol.parsed_tiebreaker = true;
      Exp(Tok::kSemicolon);
      return true;
    }
    default:
      return false;
  }
}

Volume Parser::ParseVolume(int vnr, const Names* on_hosts) {
  Volume vol;
  vol.device_minor = -1;
  vol.vnr = vnr;
  Exp(Tok::kLBrace);
  for (;;) {
    Tok t = Next();
    if (t == Tok::kRBrace) break;
    if (!ParseVolumeStmt(vol, on_hosts, t)) {
      PeExpectedGot(
          "device | disk | meta-disk | flex-meta-disk | }",
          fmt::format("'device', 'disk', 'meta-disk', 'flexible-meta-disk' or '}}'{}",
                      Suggest(Text(), {"device", "disk", "meta-disk", "flexible-meta-disk"})));
    }
  }
  return vol;
}

Volume Parser::ParseStackedVolume(int vnr) {
  Volume vol;
  vol.device_minor = -1;
  vol.vnr = vnr;
  Exp(Tok::kLBrace);
  for (;;) {
    Tok t = Next();
    if (t == Tok::kRBrace) break;
    if (t == Tok::kDevice) {
      ParseDevice(nullptr, vol);
    } else if (t == Tok::kDisk) {
      Exp(Tok::kLBrace);
      ParseDiskOptions(vol.disk_options, vol.device_options, vol.pd_options, nullptr);
    } else {
      PeExpectedGot("device | disk | }", "'device', 'disk' or '}'");
    }
  }
  vol.meta_disk = "internal";
  vol.meta_index = "internal";
  return vol;
}

void Parser::ParseHostSection(Resource& res, const Names& on_hosts, bool require_minor,
                              bool by_address) {
  c_section_start_ = line_;
  fline_ = line_;
  res.all_hosts.emplace_back();
  HostInfo& host = res.all_hosts.back();
  host.on_hosts = on_hosts;
  host.config_line = c_section_start_;
  host.implicit = false;
  host.require_minor = require_minor;
  bool in_braces = true;
  if (by_address) {
    host.by_address = true;
    ParseAddress(host.address);
    // The host's name is `addr:port` made a valid DRBD object name (the
    // kernel's name check): every other byte becomes '_'. drbd-utils 9.22
    // used "ipv6 [addr]:port" unmodified; see docs/compat.md.
    std::string fake = fmt::format("{}:{}", host.address.addr, host.address.port);
    for (char& c : fake) {
      const bool ok = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                      c == '+' || c == '-' || c == '.' || c == '_';
      if (!ok) c = '_';
    }
    host.on_hosts.insert(host.on_hosts.begin(), fake);
    Tok t = Next();
    if (t == Tok::kSemicolon) {
      in_braces = false;
    } else if (t != Tok::kLBrace) {
      PeExpectedGot("{ | ;", "'{' or ';'");
    }
  }
  for (const std::string& h : on_hosts)
    CheckUpr("host section", Cat(res.name, ": on ", h));

  while (in_braces) {
    Tok t = Next();
    fline_ = line_;
    const char* stmt = nullptr;
    switch (t) {
      case Tok::kDisk:
        for (const std::string& h : on_hosts) {
          CheckUpr("disk statement", Cat(res.name, ":", h, ":disk"));
        }
        stmt = "disk";
        break;
      case Tok::kDevice:
        for (const std::string& h : on_hosts) {
          CheckUpr("device statement", Cat(res.name, ":", h, ":device"));
        }
        stmt = "device";
        break;
      case Tok::kMetaDisk:
      case Tok::kFlexMetaDisk:
        for (const std::string& h : on_hosts) {
          CheckUpr("meta-disk statement", Cat(res.name, ":", h, ":meta-disk"));
        }
        stmt = "meta-disk";
        break;
      case Tok::kAddress:
        if (host.by_address) {
          Fatal(Diag(src_->file, fline_, "'address' is not allowed in a floating section",
                     fmt::format("{}:{}: address statement not allowed for floating {{}} host "
                                 "sections\n",
                                 src_->file, fline_)));
        }
        for (const std::string& h : on_hosts) {
          CheckUpr("address statement", Cat(res.name, ":", h, ":address"));
        }
        ParseAddress(host.address);
        Exp(Tok::kSemicolon);
        RangeCheck("port", host.address.port, 1, 65535);
        break;
      case Tok::kProxy:
        host.proxy_compat_only = ParseProxySection();
        break;
      case Tok::kVolume: {
        Exp(Tok::kInteger);
        Volume v = ParseVolume(Atoi(Text()), &on_hosts);
        InsertVolume(host.volumes, std::move(v));
        break;
      }
      case Tok::kNodeId:
        Exp(Tok::kInteger);
        RangeCheck("node-id", Text(), 0, 32);
        host.node_id = Text();
        for (const std::string& h : on_hosts) {
          CheckUpr("node-id statement", Cat(res.name, ":", h, ":node-id"));
        }
        CheckUpr("node-id", Cat(res.name, ":", *host.node_id));
        Exp(Tok::kSemicolon);
        break;
      case Tok::kOptions:
        Exp(Tok::kLBrace);
        host.res_options = ParseOptions(OptContext::kResourceOptions, nullptr);
        break;
      case Tok::kSkip:
        ParseSkip();
        break;
      case Tok::kRBrace:
        in_braces = false;
        break;
      default:
        PeExpected(
            "disk | device | address | meta-disk | flexible-meta-disk | node-id | skip",
            fmt::format("'disk', 'device', 'address', 'meta-disk', 'flexible-meta-disk', "
                        "'node-id', 'volume', 'options' or '}}' in host section{}",
                        Suggest(Text(), {"disk", "device", "address", "meta-disk",
                                         "flexible-meta-disk", "node-id", "volume", "options"})));
    }
    if (stmt != nullptr) ParseVolumeStmt(Volume0(host.volumes), &on_hosts, t);
  }
}

void Parser::ParseStackedSection(Resource& res) {
  c_section_start_ = line_;
  fline_ = line_;
  res.all_hosts.emplace_back();
  HostInfo& host = res.all_hosts.back();
  host.require_minor = false;
  host.config_line = 0;
  Exp(Tok::kString);
  Uniq("stacked-on-top-of", fmt::format("stacked:{}", Text()));
  host.lower_name = Text();
  Exp(Tok::kLBrace);
  for (;;) {
    switch (Next()) {
      case Tok::kDevice: {
        Volume& v = Volume0(host.volumes);
        ParseDevice(&host.on_hosts, v);
        Volume& v2 = Volume0(host.volumes);
        v2.meta_disk = "internal";
        v2.meta_index = "internal";
        break;
      }
      case Tok::kAddress: {
        ParseAddress(host.address);
        Exp(Tok::kSemicolon);
        RangeCheck("port", host.address.port, 1, 65535);
        break;
      }
      case Tok::kProxy:
        host.proxy_compat_only = ParseProxySection();
        break;
      case Tok::kVolume: {
        Exp(Tok::kInteger);
        Volume v = ParseStackedVolume(Atoi(Text()));
        InsertVolume(host.volumes, std::move(v));
        break;
      }
      case Tok::kNodeId:
        Exp(Tok::kInteger);
        RangeCheck("node-id", Text(), 0, 32);
        host.node_id = Text();
        CheckUpr("node-id", Cat(res.name, ":", *host.node_id));
        Exp(Tok::kSemicolon);
        break;
      case Tok::kRBrace:
        res.stacked_on_one = true;
        return;
      default:
        PeExpected("device | address | proxy | volume | node-id",
                   "'device', 'address', 'proxy', 'volume', 'node-id' or '}' in stacked-on-top-of");
    }
  }
}

// ---- connections -----------------------------------------------------------

void Parser::ParseHnameAddressPair(Path& path, HnameAddress& ha, Tok prev) {
  ha.config_line = line_;
  bool address_now = false;
  switch (prev) {
    case Tok::kAddress:
      ha.name = "UNKNOWN";
      ha.by_address = true;
      address_now = true;
      break;
    case Tok::kThisHost:
      ha.name = "_this_host";
      path.my_address = &ha.address;
      address_now = true;
      break;
    case Tok::kRemoteHost:
      ha.name = "_remote_host";
      path.connect_to = &ha.address;
      address_now = true;
      break;
    default:
      break;
  }
  bool optional_via = false;
  if (address_now) {
    ParseAddress(ha.address);
    ha.parsed_address = true;
    optional_via = true;
  } else {
    Exp(Tok::kString);
    ha.name = Text();
    Tok t = Next();
    switch (t) {
      case Tok::kAddress:
        ParseAddress(ha.address);
        ha.parsed_address = true;
        optional_via = true;
        break;
      case Tok::kPort:
        Exp(Tok::kInteger);
        ha.address.port = Text();
        ha.parsed_port = true;
        optional_via = true;
        break;
      case Tok::kVia:
        ParseVia(ha);
        break;
      case Tok::kSemicolon:
        break;
      default:
        PeExpectedGot("address | port | ;", "'address', 'port', 'via' or ';'");
    }
  }
  if (optional_via) {
    Tok t = Next();
    if (t == Tok::kVia) {
      ParseVia(ha);
    } else if (t != Tok::kSemicolon) {
      PeExpectedGot("via | ; ", "'via' or ';'");
    }
  }
}

void Parser::ParseVia(HnameAddress& ha) {
  switch (Next()) {
    case Tok::kProxy:
      ha.proxy = ParseProxySection();
      break;
    case Tok::kOutsideAddress:
      ParseAddress(ha.outside_address.emplace());
      ha.parsed_outside_address = true;
      Exp(Tok::kSemicolon);
      break;
    default:
      PeExpectedGot("proxy | outside-address", "'proxy' or 'outside-address' after 'via'");
  }
}

Path& Parser::Path0(Connection& conn) {
  if (conn.paths.empty()) {
    conn.paths.emplace_back();
    Path& p = conn.paths.back();
    p.implicit = true;
    p.config_line = line_;
    return p;
  }
  Path& p = conn.paths.front();
  if (!p.implicit) {
    Error(Diag(src_->file, line_,
               "'host' lines and 'path' sections cannot be mixed in a connection",
               fmt::format("{}:{}: Explicit and implicit paths not allowed\n", src_->file, line_)));
  }
  return p;
}

void Parser::ParsePath(Path& path) {
  path.config_line = line_;
  int hosts = 0;
  Exp(Tok::kLBrace);
  for (;;) {
    Tok t = Next();
    switch (t) {
      case Tok::kAddress:
      case Tok::kHost:
      case Tok::kThisHost:
      case Tok::kRemoteHost: {
        path.hname_address_pairs.emplace_back();
        ParseHnameAddressPair(path, path.hname_address_pairs.back(), t);
        if (++hosts >= 3) {
          Error(Diag(src_->file, fline_, "a path takes exactly two 'host' lines",
                     fmt::format("{}:{}: only two 'host' keywords per path allowed\n", src_->file,
                                 fline_)));
        }
        break;
      }
      case Tok::kRBrace:
        return;
      default:
        PeExpectedGot("host | }", "'host' or '}' in path section");
    }
  }
}

void Parser::NetDelegate(int flags) {
  if (Text() == "discard-my-data" && (flags & kParseForAdjust)) {
    switch (Next()) {
      case Tok::kYes:
      case Tok::kNo:
        Exp(Tok::kSemicolon);
        return;
      case Tok::kSemicolon:
        return;
      default:
        PeExpected("yes | no | ;", "'yes', 'no' or ';'");
    }
  }
  const ContextDef& c = Context(OptContext::kShowNetOptions);
  std::string ours = fmt::format("unknown option '{}' in net section", Clip20(Text()));
  if (Text() == "discard-my-data") {
    ours += "; it is not allowed in a configuration file (use 'drbdadm connect --discard-my-data')";
  } else {
    ours += OptionHint(c, Text());
  }
  PeExpectedFull("an option keyword", ours);
}

void Parser::StartupDelegate(Resource& res) {
  if (Text() == "become-primary-on") {
    for (;;) {
      Tok t = Next();
      if (t == Tok::kSemicolon) return;
      if (t == Tok::kEof) PeExpected(";", "';' to end become-primary-on");
    }
  }
  if (Text() == "stacked-timeouts") {
    res.stacked_timeouts = true;
    Exp(Tok::kSemicolon);
    return;
  }
  const ContextDef& c = Context(OptContext::kStartup);
  std::string ours = fmt::format("unknown option '{}' in startup section", Clip20(Text()));
  ours += OptionHint(c, Text());
  PeExpectedFull("<an option keyword> | become-primary-on | stacked-timeouts", ours);
}

void Parser::ParseConnection(Connection& conn, int flags) {
  conn.config_line = line_;
  int hosts = 0;
  Tok t = Next();
  if (t == Tok::kString) {
    conn.name = Text();
    Warn(Diag(src_->file, fline_,
              fmt::format("connection names are deprecated; '{}' is ignored", conn.name),
              fmt::format("{}:{}: explicitly named connections are deprecated!\n"
                          "\tits name ('{}') will be ignored\n",
                          src_->file, fline_, conn.name)));
    Exp(Tok::kLBrace);
  } else if (t != Tok::kLBrace) {
    PeExpectedGot("{", "'{' after 'connection'");
  }
  for (;;) {
    t = Next();
    switch (t) {
      case Tok::kAddress:
      case Tok::kHost:
      case Tok::kThisHost:
      case Tok::kRemoteHost: {
        Path& path = Path0(conn);
        path.hname_address_pairs.emplace_back();
        ParseHnameAddressPair(path, path.hname_address_pairs.back(), t);
        if (++hosts >= 3) {
          Error(Diag(src_->file, fline_, "a connection takes exactly two 'host' lines",
                     fmt::format("{}:{}: only two 'host' keywords per connection allowed\n",
                                 src_->file, fline_)));
        }
        break;
      }
      case Tok::kPeerNodeId: {
        conn.implicit_peers.emplace_back();
        HostInfo& h = conn.implicit_peers.back();
        h.config_line = c_section_start_;
        h.implicit = true;
        h.require_minor = false;
        Exp(Tok::kInteger);
        RangeCheck("node-id", Text(), 0, 32);
        h.node_id = Text();
        Exp(Tok::kSemicolon);
        conn.peer = &h;
        break;
      }
      case Tok::kNet:
        if (!conn.net_options.empty()) {
          Error(Diag(src_->file, fline_, "a connection takes only one 'net' section",
                     fmt::format("{}:{}: only one 'net' section per connection allowed\n",
                                 src_->file, fline_)));
        }
        Exp(Tok::kLBrace);
        conn.net_options = ParseOptions(OptContext::kShowNetOptions, [&] { NetDelegate(flags); });
        break;
      case Tok::kSkip:
        ParseSkip();
        break;
      case Tok::kDisk:
        Exp(Tok::kLBrace);
        conn.pd_options = ParseOptions(OptContext::kPeerDeviceOptions, nullptr);
        break;
      case Tok::kVolume: {
        Exp(Tok::kInteger);
        PeerDevice pd;
        pd.vnr = Atoi(Text());
        pd.config_line = line_;
        Exp(Tok::kLBrace);
        Exp(Tok::kDisk);
        Exp(Tok::kLBrace);
        pd.pd_options = ParseOptions(OptContext::kPeerDeviceOptions, nullptr);
        Exp(Tok::kRBrace);
        pd.connection = &conn;
        conn.peer_devices.push_back(std::move(pd));
        break;
      }
      case Tok::kIsStandalone:
        conn.is_standalone = true;
        Exp(Tok::kSemicolon);
        break;
      case Tok::kPath:
        conn.paths.emplace_back();
        ParsePath(conn.paths.back());
        break;
      case Tok::kRBrace:
        if (conn.paths.empty() && !(flags & kParseForAdjust)) {
          Error(Diag(src_->file, fline_,
                     "connection has no path (no 'host' lines or 'path' sections)",
                     fmt::format("{}:{}: connection without a single path (maybe empty?) not "
                                 "allowed\n",
                                 src_->file, fline_)));
        }
        return;
      default:
        if (Text() == "_cstate") {
          // `drbdsetup show` (drbd-utils >= 9.23): the connection state;
          // accepted in configs too, so a saved show text reads back.
          Exp(Tok::kString);
          conn.cstate = Text();
          conn.is_standalone = conn.cstate == "StandAlone";
          Exp(Tok::kSemicolon);
          break;
        }
        PeExpectedGot("host | net | skip | }",
                      fmt::format("'host', 'path', 'net', 'disk', 'volume' or '}}' in connection{}",
                                  Suggest(Text(), {"host", "path", "net", "disk", "volume"})));
    }
  }
}

void Parser::ParseMesh(Resource& res, int flags) {
  Exp(Tok::kLBrace);
  Mesh mesh;
  mesh.config_line = line_;
  for (;;) {
    switch (Next()) {
      case Tok::kHosts:
        ParseHosts(mesh.hosts, ';');
        break;
      case Tok::kNet:
        if (!mesh.net_options.empty()) {
          Error(Diag(src_->file, fline_, "connection-mesh takes only one 'net' section",
                     fmt::format("{}:{}: only one 'net' section allowed\n", src_->file, fline_)));
        }
        Exp(Tok::kLBrace);
        mesh.net_options = ParseOptions(OptContext::kShowNetOptions, [&] { NetDelegate(flags); });
        break;
      case Tok::kRBrace:
        res.meshes.push_back(std::move(mesh));
        return;
      default:
        PeExpectedGot("hosts | net | }", "'hosts', 'net' or '}' in connection-mesh");
    }
  }
}

// ---- resources ---------------------------------------------------------------

void Parser::ParseResource(Resource& res, const std::string& name, int flags) {
  per_res_.Clear();
  Uniq("resource section", name);
  res.name = name;
  res.config_file = src_->save;
  res.start_line = line_;

  for (;;) {
    Tok t = Next();
    fline_ = line_;
    switch (t) {
      case Tok::kString: {
        if (Text() != "protocol") goto unexpected;
        CheckUpr("protocol statement", Cat(res.name, ": protocol"));
        bool no_prefix = false;
        const OptionDef* def = Find(OptContext::kNetOptions, "protocol", &no_prefix);
        if (def == nullptr) def = Find(OptContext::kShowNetOptions, "protocol", &no_prefix);
        if (def == nullptr) goto unexpected;
        Option o;
        o.name = "protocol";
        o.line = tok_.line;
        o.col = tok_.col;
        o.value = ParseOptionValue(def, false);
        res.net_options.push_back(std::move(o));
        break;
      }
      case Tok::kOn: {
        Names names;
        ParseHosts(names, '{');
        ParseHostSection(res, names, true, false);
        break;
      }
      case Tok::kStacked:
        ParseStackedSection(res);
        break;
      case Tok::kThisHost:
        Exp(Tok::kLBrace);
        ParseHostSection(res, Names{"_this_host"}, false, false);
        break;
      case Tok::kRemoteHost:
        // Only a DRBD 8.4 module's `drbdsetup show` names the peer here.
        if (!no_uniq_) goto unexpected;
        Exp(Tok::kLBrace);
        ParseHostSection(res, Names{"_remote_host"}, false, false);
        break;
      case Tok::kFloating:
        ParseHostSection(res, Names{}, true, true);
        break;
      case Tok::kDisk: {
        Tok t2 = Next();
        if (t2 == Tok::kString) {
          Volume& v = Volume0(res.volumes);
          v.disk = Text();
          v.parsed_disk = true;
          Exp(Tok::kSemicolon);
        } else if (t2 == Tok::kLBrace) {
          CheckUpr("disk section", Cat(res.name, ":disk"));
          Options opts;
          ParseDiskOptions(opts, res.device_options, res.pd_options, &res.net_options);
          res.disk_options.splice(res.disk_options.end(), opts);
        } else {
          CheckStringError();
          PeExpectedGot("TK_STRING | {", "a disk path, 'none' or '{'");
        }
        break;
      }
      case Tok::kNet: {
        CheckUpr("net section", Cat(res.name, ":net"));
        Exp(Tok::kLBrace);
        Options opts = ParseOptions(OptContext::kShowNetOptions, [&] { NetDelegate(flags); });
        res.net_options.splice(res.net_options.end(), opts);
        break;
      }
      case Tok::kSyncer:
        CheckUpr("syncer section", Cat(res.name, ":syncer"));
        Exp(Tok::kLBrace);
        ParseSyncer(res);
        break;
      case Tok::kStartup:
        CheckUpr("startup section", Cat(res.name, ":startup"));
        Exp(Tok::kLBrace);
        res.startup_options = ParseOptions(OptContext::kStartup, [&] { StartupDelegate(res); });
        // drbd-utils copies the parsed list head by value; an empty list keeps
        // a stale tail pointer, so later appends to it are lost (dump.cc).
        res.startup_section_empty = res.startup_options.empty();
        break;
      case Tok::kHandlers:
        CheckUpr("handlers section", Cat(res.name, ":handlers"));
        Exp(Tok::kLBrace);
        res.handlers = ParseOptions(OptContext::kHandlers, nullptr);
        break;
      case Tok::kProxy:
        CheckUpr("proxy section", Cat(res.name, ":proxy"));
        ParseProxyOptions(res.proxy_options, res.proxy_plugins);
        break;
      case Tok::kDevice:
        CheckUpr("device statement", Cat(res.name, ":device"));
        ParseVolumeStmt(Volume0(res.volumes), nullptr, t);
        break;
      case Tok::kMetaDisk:
      case Tok::kFlexMetaDisk:
        ParseVolumeStmt(Volume0(res.volumes), nullptr, t);
        break;
      case Tok::kVolume: {
        Exp(Tok::kInteger);
        Volume v = ParseVolume(Atoi(Text()), nullptr);
        InsertVolume(res.volumes, std::move(v));
        break;
      }
      case Tok::kOptions: {
        CheckUpr("resource options section", Cat(res.name, ":res_options"));
        Exp(Tok::kLBrace);
        Options opts = ParseOptions(OptContext::kResourceOptions, nullptr);
        res.res_options.splice(res.res_options.end(), opts);
        break;
      }
      case Tok::kConnection:
        res.connections.emplace_back();
        ParseConnection(res.connections.back(), flags);
        break;
      case Tok::kConnectionMesh:
        ParseMesh(res, flags);
        break;
      case Tok::kTemplateFile: {
        std::string written;
        Resource* tmpl = TemplateFile(name, &written);
        res.template_res = tmpl;
        res.template_file = written;
        break;
      }
      case Tok::kSkip:
        ParseSkip();
        break;
      case Tok::kRBrace:
      case Tok::kEof:
        goto done;
      default:
      unexpected:
        PeExpectedGot(
            "protocol | on | disk | net | syncer | startup | handlers | connection |"
            " ignore-on | stacked-on-top-of | skip",
            fmt::format("a resource statement (on, volume, connection, net, disk, "
                        "options, ...){}",
                        Suggest(Text(), {"protocol", "on", "disk", "net", "syncer", "startup",
                                         "handlers", "connection", "connection-mesh", "volume",
                                         "options", "device", "meta-disk", "floating",
                                         "stacked-on-top-of", "template-file", "proxy"})));
    }
  }
done:
  if (flags == kNoHostSectAllowed && !res.all_hosts.empty()) {
    Error(Diag(src_->file, c_section_start_,
               fmt::format("host sections are not allowed in the {} section", res.name),
               fmt::format("{}:{}: in the {} section, there are no host sections allowed.\n",
                           src_->file, c_section_start_, res.name)));
  }
}

// ---- top level ----------------------------------------------------------------

void Parser::ParseSkip() {
  int level = 0;
  fline_ = line_;
  for (;;) {
    Tok t = Next();
    if (t == Tok::kEof) break;
    if (t == Tok::kLBrace) {
      ++level;
    } else if (t == Tok::kRBrace) {
      if (--level == 0) return;
    }
  }
  Fatal(
      Diag(src_->file, fline_, "end of file inside this skip block",
           fmt::format("{}:{}: reached eof while parsing this skip block.\n", src_->file, fline_)));
}

void Parser::ParseGlobal() {
  fline_ = line_;
  Uniq("global section", "global");
  cfg_.global_seen = true;
  if (!cfg_.resources.empty()) {
    Warn(Diag(src_->file, line_, "the global section should come before any resource section",
              fmt::format("{}:{}: You should put the global {{}} section\n\tin front of any "
                          "resource {{}} section\n",
                          src_->file, line_)));
  }
  Exp(Tok::kLBrace);
  Globals& g = cfg_.globals;
  for (;;) {
    Tok t = Next();
    fline_ = line_;
    switch (t) {
      case Tok::kUdevAlwaysUseVnr:
        g.udev_always_use_vnr = true;
        break;
      case Tok::kDisableIpVerification:
        g.disable_ip_verification = true;
        break;
      case Tok::kMinorCount:
        Exp(Tok::kInteger);
        RangeCheck("minor-count", Text(), 1, 255);
        g.minor_count = Atoi(Text());
        break;
      case Tok::kDialogRefresh:
        Exp(Tok::kInteger);
        RangeCheck("dialog-refresh", Text(), 0, 600);
        g.dialog_refresh = Atoi(Text());
        break;
      case Tok::kCmdTimeoutShort:
      case Tok::kCmdTimeoutMedium:
      case Tok::kCmdTimeoutLong: {
        Exp(Tok::kInteger);
        std::string_view kw = t == Tok::kCmdTimeoutShort    ? "cmd-timeout-short"
                              : t == Tok::kCmdTimeoutMedium ? "cmd-timeout-medium"
                                                            : "cmd-timeout-long";
        RangeCheck(kw, Text(), 0, 900);
        unsigned v = static_cast<unsigned>(Atoi(Text()));
        if (t == Tok::kCmdTimeoutShort)
          g.cmd_timeout_short = v;
        else if (t == Tok::kCmdTimeoutMedium)
          g.cmd_timeout_medium = v;
        else
          g.cmd_timeout_long = v;
        break;
      }
      case Tok::kUsageCount:
        switch (Next()) {
          case Tok::kYes:
            g.usage_count = UsageCount::kYes;
            break;
          case Tok::kNo:
            g.usage_count = UsageCount::kNo;
            break;
          case Tok::kAsk:
            g.usage_count = UsageCount::kAsk;
            break;
          default:
            PeExpected("yes | no | ask", "'yes', 'no' or 'ask'");
        }
        break;
      case Tok::kRBrace:
        return;
      default:
        PeExpected("dialog-refresh | minor-count | disable-ip-verification",
                   fmt::format("a global option (usage-count, minor-count, dialog-refresh, "
                               "disable-ip-verification, udev-always-use-vnr, cmd-timeout-*){}",
                               Suggest(Text(), {"usage-count", "minor-count", "dialog-refresh",
                                                "disable-ip-verification", "udev-always-use-vnr",
                                                "cmd-timeout-short", "cmd-timeout-medium",
                                                "cmd-timeout-long"})));
    }
    Exp(Tok::kSemicolon);
  }
}

Resource* Parser::TemplateFile(const std::string& res_name, std::string* written) {
  Exp(Tok::kString);
  std::string name = Text();
  *written = name;
  Exp(Tok::kSemicolon);
  std::string dir = DirOf(src_->save);
  std::string open_path = (name[0] == '/' || dir.empty()) ? name : dir + "/" + name;
  auto next = std::make_unique<Source>();
  if (name.empty() || !ReadWholeFile(open_path, &next->text)) {
    Error(
        Diag(src_->save, line_, fmt::format("cannot open template file '{}'", name),
             fmt::format("{}:{}: Failed to open template file '{}'.\n", src_->save, line_, name)));
    return nullptr;
  }
  if (depth_ >= kMaxFileDepth) {
    Fatal(Diag(src_->file, line_, "template-file nested too deeply",
               fmt::format("{}:{}: template-file nested too deeply.\n", src_->file, line_)));
  }
  SourceScope in_template(*this, *next, name, dir);
  cfg_.templates.emplace_back();
  Resource& tmpl = cfg_.templates.back();
  Exp(Tok::kCommon);
  Exp(Tok::kLBrace);
  std::string tname = "template-" + res_name;
  if (tname.size() > kMaxTemplateName) tname.resize(kMaxTemplateName);
  ParseResource(tmpl, tname, kNoHostSectAllowed);
  return &tmpl;
}

void Parser::Include(const std::string& pattern) {
  const std::string& save = src_->save;
  bool from_stdin = save.find('/') == std::string::npos;
  std::string dir = from_stdin ? "" : DirOf(save);
  std::string full = pattern;
  std::string prefix;
  if (!pattern.empty() && pattern[0] != '/' && !dir.empty()) {
    prefix = dir == "/" ? "/" : dir + "/";
    full = prefix + pattern;
  }
  glob_t g{};
  int r = glob(full.c_str(), 0, nullptr, &g);
  if (r == 0) {
    std::vector<std::string> paths;
    for (size_t i = 0; i < g.gl_pathc; ++i) paths.emplace_back(g.gl_pathv[i]);
    bool magic = (g.gl_flags & GLOB_MAGCHAR) != 0;
    globfree(&g);
    for (const std::string& p : paths) {
      std::string shown = p;
      if (!prefix.empty() && shown.compare(0, prefix.size(), prefix) == 0) {
        shown = shown.substr(prefix.size());
      }
      std::string real = RealPathOr(p);
      if (!cfg_.seen_files.insert(real).second) continue;
      auto next = std::make_unique<Source>();
      struct stat st;
      bool is_dir = stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
      if (is_dir || !ReadWholeFile(p, &next->text)) {
        if (!is_dir && errno == ENOENT && magic) {
          diag_.Emit(Diag(save, line_,
                          fmt::format("include file '{}' vanished after glob expansion", shown),
                          fmt::format("{}:{}: include file vanished after glob expansion '{}'.\n",
                                      save, line_, shown)));
          continue;
        }
        if (is_dir) {
          Fatal(
              Diag(save, line_, fmt::format("cannot read include file '{}': is a directory", shown),
                   "input in flex scanner failed\n"),
              ExitCode::kSyntax);
        }
        Error(Diag(save, line_, fmt::format("cannot open include file '{}'", shown),
                   fmt::format("{}:{}: Failed to open include file '{}'.\n", save, line_, shown)));
        continue;
      }
      if (depth_ >= kMaxFileDepth) {
        Fatal(Diag(src_->file, line_, "includes nested too deeply",
                   fmt::format("{}:{}: includes nested too deeply.\n", src_->file, line_)));
      }
      SourceScope in_include(*this, *next, shown, dir);
      ParseTop();
    }
    return;
  }
  globfree(&g);
  if (r == GLOB_NOMATCH) {
    if (pattern.find_first_of("?*[") == std::string::npos) {
      Error(Diag(save, line_, fmt::format("cannot open include file '{}'", pattern),
                 fmt::format("{}:{}: Failed to open include file '{}'.\n", save, line_, pattern)));
    }
    return;
  }
  Fatal(Diag("", 0, fmt::format("glob() failed: {}", r), fmt::format("glob() failed: {}\n", r)),
        ExitCode::kUsage);
}

void Parser::ValidateKmod(Tok op_tok, const std::string& version) {
  auto code_of = [](std::string_view v, unsigned* maj, unsigned* min, unsigned* sub) -> bool {
    unsigned long a = 0, b = 0, c = 0;
    if (std::sscanf(std::string(v).c_str(), "%lu.%lu.%lu", &a, &b, &c) != 3) return false;
    *maj = static_cast<unsigned>(a);
    *min = static_cast<unsigned>(b);
    *sub = static_cast<unsigned>(c);
    return true;
  };
  unsigned hm = 0, hn = 0, hs = 0;
  if (module_version_.empty() || !code_of(module_version_, &hm, &hn, &hs)) {
    Fatal(Diag("", 0, "cannot determine the DRBD kernel module version (module not loaded?)",
               "Could not get drbd-module-version, Module not loaded?\n"));
  }
  unsigned em = 0, en = 0, es = 0;
  code_of(version, &em, &en, &es);
  uint32_t have = (hm << 16) + (hn << 8) + hs;
  uint32_t want = (em << 16) + (en << 8) + es;
  uint32_t diff = have - want;  // drbd-utils compares this unsigned difference with 0
  bool ok = false;
  const char* op = "???";
  switch (op_tok) {
    case Tok::kModuleEq:
      op = "==";
      ok = diff == 0;
      break;
    case Tok::kModuleNe:
      op = "!=";
      ok = diff != 0;
      break;
    case Tok::kModuleGt:
      op = ">";
      ok = diff > 0;
      break;
    case Tok::kModuleGe:
      op = ">=";
      ok = true;
      break;
    case Tok::kModuleLt:
      op = "<";
      ok = false;
      break;
    case Tok::kModuleLe:
      op = "<=";
      ok = diff == 0;
      break;
    default:
      break;
  }
  cfg_.module_requirements.push_back(ModuleVersionRequirement{
      std::string(KeywordText(op_tok).substr(28)), version, src_->file, line_});
  if (ok) return;
  Fatal(Diag(src_->file, line_,
             fmt::format("DRBD module version {}.{}.{} does not satisfy {} {}", hm, hn, hs,
                         KeywordText(op_tok), version),
             fmt::format("{}:{}: Validation error: drbd-module-version {}.{}.{} {} {} not true\n",
                         src_->file, line_, static_cast<int>(hm), static_cast<int>(hn),
                         static_cast<int>(hs), op, version)));
}

void Parser::ParseTop() {
  for (;;) {
    Tok t = Next();
    fline_ = line_;
    switch (t) {
      case Tok::kGlobal:
        ParseGlobal();
        break;
      case Tok::kCommon: {
        Exp(Tok::kLBrace);
        Resource common;
        ParseResource(common, "common", kNoHostSectAllowed);
        cfg_.common = std::move(common);
        break;
      }
      case Tok::kResource: {
        Exp(Tok::kString);
        std::string name = Text();
        if (name.empty()) {
          Fatal(Diag(src_->file, line_, "resource name is empty", "Resource name is empty.\n"),
                ExitCode::kUsage);
        }
        for (unsigned char c : name) {
          if (c < ' ' || c == 0x7f) {
            Fatal(Diag(src_->file, line_, "resource name contains control characters",
                       "Resource name is invalid - please don't use control characters.\n"),
                  ExitCode::kUsage);
          }
        }
        Exp(Tok::kLBrace);
        cfg_.resources.emplace_back();
        ParseResource(cfg_.resources.back(), name, 0);
        break;
      }
      case Tok::kSkip:
        ParseSkip();
        break;
      case Tok::kInclude: {
        Exp(Tok::kString);
        std::string pattern = Text();
        Exp(Tok::kSemicolon);
        Include(pattern);
        break;
      }
      case Tok::kModuleEq:
      case Tok::kModuleNe:
      case Tok::kModuleGt:
      case Tok::kModuleGe:
      case Tok::kModuleLt:
      case Tok::kModuleLe: {
        Exp(Tok::kKmodVers);
        std::string version = Text();
        Exp(Tok::kSemicolon);
        ValidateKmod(t, version);
        break;
      }
      case Tok::kEof:
        return;
      default:
        PeExpected(
            "global | common | resource | skip | include |\n"
            "\trequire-drbd-module-version-{eq,ne,gt,ge,lt,le}",
            fmt::format("'global', 'common', 'resource', 'skip', 'include' or "
                        "'require-drbd-module-version-*' at top level{}",
                        Suggest(Text(), {"global", "common", "resource", "skip", "include"})));
    }
  }
}

void Parser::ParseShow(std::list<Resource>& out) {
  for (;;) {
    if (Next() != Tok::kResource) return;
    if (Next() != Tok::kString) return;
    std::string name = Text();
    if (Next() != Tok::kLBrace) return;
    out.emplace_back();
    ParseResource(out.back(), name, kParseForAdjust);
  }
}

}  // namespace

void ParseConfig(const ParseRequest& req, Config& cfg, DiagSink& diag) {
  Source src;
  if (req.config_file == "-") {
    src.file = "STDIN";
    src.save = "STDIN";
    std::istream& in = req.stdin_stream != nullptr ? *req.stdin_stream : std::cin;
    src.text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  } else {
    src.file = req.config_file;
    struct stat st;
    bool is_dir = stat(req.config_file.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
    if (is_dir) {
      Diagnostic d;
      d.text = fmt::format("cannot read '{}': is a directory", req.config_file);
      d.compat = "input in flex scanner failed\n";
      diag.Fatal(d, ExitCode::kSyntax);
    }
    if (!ReadWholeFile(req.config_file, &src.text)) {
      Diagnostic d;
      d.text = fmt::format("cannot open '{}'", req.config_file);
      d.compat = fmt::format("Can not open '{}'.\n.", req.config_file);
      diag.Fatal(d, ExitCode::kExecError);
    }
    src.save = CanonifyPath(req.config_file, "");
  }
  // About one uniqueness key per 40 bytes of configuration: sized once
  // instead of re-placing every key at each doubling.
  cfg.uniq.Reserve(cfg.uniq.size() + src.text.size() / 40);
  if (cfg.config_file.empty()) cfg.config_file = src.file;
  if (cfg.config_save.empty()) cfg.config_save = src.save;
  cfg.seen_files.insert(src.save == "STDIN" ? std::string("STDIN") : RealPathOr(req.config_file));
  // A second file (--config-to-test) continues drbd-utils' line counter.
  src.lex = std::make_unique<Lexer>(src.text, cfg.end_line > 0 ? cfg.end_line : 1);

  std::string hostname = req.hostname.empty() ? LocalNodeName() : req.hostname;
  Parser p(cfg, diag, hostname, req.module_version, false);
  p.SetSource(&src);
  p.ParseTop();
  cfg.end_line = src.lex->line();
}

std::list<Resource> ParseDrbdsetupShow(std::string_view text, std::string_view source_name,
                                       Config& cfg, DiagSink& diag) {
  Source src;
  src.file = std::string(source_name);
  src.save = cfg.config_save;
  src.text = std::string(text);
  src.lex = std::make_unique<Lexer>(src.text);
  Parser p(cfg, diag, "", "", true);
  p.SetSource(&src);
  std::list<Resource> out;
  p.ParseShow(out);
  return out;
}

bool HostnamesEqual(std::string_view a, std::string_view b) {
  size_t da = a.find('.');
  size_t db = b.find('.');
  auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; };
  auto ieq = [&](std::string_view x, std::string_view y) {
    if (x.size() != y.size()) return false;
    for (size_t i = 0; i < x.size(); ++i) {
      if (lower(x[i]) != lower(y[i])) return false;
    }
    return true;
  };
  if (da != std::string_view::npos && db != std::string_view::npos) return ieq(a, b);
  std::string_view sa = a.substr(0, da == std::string_view::npos ? a.size() : da);
  std::string_view sb = b.substr(0, db == std::string_view::npos ? b.size() : db);
  return ieq(sa, sb);
}

bool HostnameInList(std::string_view name, const Names& names) {
  for (const std::string& n : names) {
    if (HostnamesEqual(n, name)) return true;
  }
  return false;
}

bool CheckUniq(Config& cfg, DiagSink& diag, std::string_view file, int line, std::string_view what,
               std::string_view key) {
  if (cfg.uniq_files.empty() || cfg.uniq_files.back() != file) cfg.uniq_files.emplace_back(file);
  const auto file_index = static_cast<uint32_t>(cfg.uniq_files.size() - 1);
  auto [use, inserted] = cfg.uniq.TryEmplace(key, Config::FirstUse{file_index, line});
  if (inserted) return true;
  std::string data = fmt::format("{}:{}", file, static_cast<unsigned>(line));
  std::string first =
      fmt::format("{}:{}", cfg.uniq_files[use->file], static_cast<unsigned>(use->line));
  cfg.valid = false;
  Diagnostic d;
  d.file = std::string(file);
  d.line = line;
  d.text = fmt::format("conflicting use of {} '{}'; first used at {}", what, key, first);
  d.compat = fmt::format("{}: conflicting use of {} '{}' ...\n{}: {} '{}' first used here.\n", data,
                         what, key, first, what, key);
  diag.Fatal(d, ExitCode::kConfigInvalid);
}

}  // namespace drbd::cfg
