// SPDX-License-Identifier: GPL-2.0-or-later
// drbd-scenario: runs one scenario of the catalogue (tests/scenarios/*.scn)
// on engines in one sim::World, in virtual time, and prints the first
// failed step as FILE:LINE:COL. It owns the scenario language: a parser
// driven by the step table (steps.def), the interpreter of each step on
// sim::Node fixtures, a reference model of acknowledged writes, the --help
// text and the catalogue page (--doc prints docs/scenarios.md, --check-doc
// compares it).
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "lib/config/options.h"
#include "lib/events/model.h"
#include "lib/events/states.h"
#include "lib/md/device.h"
#include "lib/md/metadata.h"
#include "lib/md/superblock.h"
#include "sim/engine/codes.h"
#include "sim/engine/engine.h"
#include "sim/world/helpers.h"
#include "sim/world/node.h"
#include "sim/world/world.h"

namespace drbd::sim::scenario {
namespace {

enum class StepId {
#define DRBD_STEP(id, name, args, keys, synopsis, doc) id,
#define DRBD_COND(id, name, peer, doc)
#include "tests/scenarios/steps.def"
#undef DRBD_STEP
#undef DRBD_COND
};

enum class CondId {
#define DRBD_STEP(id, name, args, keys, synopsis, doc)
#define DRBD_COND(id, name, peer, doc) id,
#include "tests/scenarios/steps.def"
#undef DRBD_STEP
#undef DRBD_COND
};

struct StepDef {
  StepId id;
  std::string_view name, args, keys, synopsis, doc;
};
struct CondDef {
  CondId id;
  std::string_view name;
  bool peer;
  std::string_view doc;
};

constexpr StepDef kSteps[] = {
#define DRBD_STEP(id, name, args, keys, synopsis, doc) \
  {StepId::id, name, args, keys, synopsis, doc},
#define DRBD_COND(id, name, peer, doc)
#include "tests/scenarios/steps.def"
#undef DRBD_STEP
#undef DRBD_COND
};
constexpr CondDef kConds[] = {
#define DRBD_STEP(id, name, args, keys, synopsis, doc)
#define DRBD_COND(id, name, peer, doc) {CondId::id, name, (peer) != 0, doc},
#include "tests/scenarios/steps.def"
#undef DRBD_STEP
#undef DRBD_COND
};

const StepDef* FindStep(std::string_view name) {
  for (const StepDef& s : kSteps) {
    if (s.name == name) return &s;
  }
  return nullptr;
}
const CondDef* FindCond(std::string_view name) {
  for (const CondDef& c : kConds) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

// ---- parsing -----------------------------------------------------------------

struct Word {
  std::string key;  // empty for a positional word
  std::string value;
  int col = 0;
};

struct Step {
  const StepDef* def = nullptr;
  int line = 0;
  int col = 0;
  std::vector<Word> pos;
  std::vector<Word> kw;
  std::string text;  // "t" argument
};

struct Scenario {
  std::string file;
  std::string name;
  std::vector<Step> steps;
  std::map<std::string, std::string> meta;  // summary, follows, ... -> text
};

struct ParseError {
  int line = 0;
  int col = 0;
  std::string what;
};

// Splits `line` into words (double quotes group; KEY="a b" keeps the key).
bool Tokenize(const std::string& line, std::vector<Word>* out, ParseError* err, int lineno) {
  size_t i = 0;
  while (i < line.size()) {
    if (line[i] == ' ' || line[i] == '\t') {
      ++i;
      continue;
    }
    if (line[i] == '#') break;
    Word w;
    w.col = static_cast<int>(i) + 1;
    std::string raw;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') {
      if (line[i] == '"') {
        const size_t end = line.find('"', i + 1);
        if (end == std::string::npos) {
          *err = {lineno, static_cast<int>(i) + 1, "unterminated quote"};
          return false;
        }
        raw += line.substr(i + 1, end - i - 1);
        i = end + 1;
        continue;
      }
      raw += line[i++];
    }
    const size_t eq = raw.find('=');
    if (eq != std::string::npos && eq > 0 && line[w.col - 1] != '"') {
      w.key = raw.substr(0, eq);
      w.value = raw.substr(eq + 1);
    } else {
      w.value = raw;
    }
    out->push_back(std::move(w));
  }
  return true;
}

bool IsUInt(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

bool KeyAllowed(const StepDef& d, const std::string& key) {
  if (d.keys == "*") return true;
  std::istringstream in{std::string(d.keys)};
  for (std::string k; in >> k;) {
    if (k == key) return true;
    if (k == "?" && FindCond(key) != nullptr) return true;
  }
  return false;
}

std::string NodeName(int i) { return std::string(1, static_cast<char>('a' + i)); }

bool ParseLine(const std::string& line, int lineno, int* nodes, Scenario* sc, ParseError* err) {
  std::vector<Word> words;
  if (!Tokenize(line, &words, err, lineno)) return false;
  if (words.empty()) return true;
  const Word& head = words[0];
  const StepDef* d = head.key.empty() ? FindStep(head.value) : nullptr;
  if (d == nullptr) {
    *err = {lineno, head.col,
            fmt::format("unknown step '{}'", head.key.empty() ? head.value : head.key)};
    return false;
  }
  Step st;
  st.def = d;
  st.line = lineno;
  st.col = head.col;
  if (d->args == "t") {
    const size_t at = static_cast<size_t>(head.col - 1) + head.value.size();
    st.text = line.substr(std::min(line.size(), line.find_first_not_of(" \t", at)));
    if (st.text.empty() || st.text.find_first_not_of(" \t") == std::string::npos) {
      *err = {lineno, head.col, fmt::format("'{}' needs a text", d->name)};
      return false;
    }
    sc->meta[std::string(d->name)] = st.text;
    sc->steps.push_back(std::move(st));
    return true;
  }
  for (size_t i = 1; i < words.size(); ++i) {
    const Word& w = words[i];
    if (!w.key.empty()) {
      if (!KeyAllowed(*d, w.key)) {
        *err = {lineno, w.col, fmt::format("'{}' takes no {}=", d->name, w.key)};
        return false;
      }
      st.kw.push_back(w);
      continue;
    }
    const size_t k = st.pos.size();
    if (k >= d->args.size()) {
      *err = {
          lineno, w.col,
          fmt::format("too many arguments for '{}' (usage: {} {})", d->name, d->name, d->synopsis)};
      return false;
    }
    const char t = static_cast<char>(std::tolower(d->args[k]));
    if (t == 'i' && !IsUInt(w.value)) {
      *err = {lineno, w.col, fmt::format("'{}' is not a number", w.value)};
      return false;
    }
    if (t == 'n') {
      const bool ok = w.value.size() == 1 && w.value[0] >= 'a' && w.value[0] < 'a' + *nodes;
      if (!ok) {
        *err = {lineno, w.col,
                *nodes == 0
                    ? std::string("a node before 'nodes'")
                    : fmt::format("'{}' is not a node (a..{})", w.value, NodeName(*nodes - 1))};
        return false;
      }
    }
    st.pos.push_back(w);
  }
  size_t required = 0;
  for (char c : d->args) required += std::islower(static_cast<unsigned char>(c)) ? 1 : 0;
  if (st.pos.size() < required) {
    *err = {lineno, head.col,
            fmt::format("'{}' needs {} argument(s) (usage: {} {})", d->name, required, d->name,
                        d->synopsis)};
    return false;
  }
  if (d->id == StepId::kNodes) {
    const int n = std::stoi(st.pos[0].value);
    if (n < 2 || n > 5) {
      *err = {lineno, st.pos[0].col, "nodes: 2 to 5"};
      return false;
    }
    if (*nodes != 0) {
      *err = {lineno, head.col, "a second 'nodes'"};
      return false;
    }
    *nodes = n;
  } else if (*nodes == 0) {
    *err = {lineno, head.col, fmt::format("'{}' before 'nodes'", d->name)};
    return false;
  }
  if ((d->id == StepId::kExpect || d->id == StepId::kWaitFor)) {
    bool any = false;
    for (const Word& w : st.kw) any = any || FindCond(w.key) != nullptr;
    if (!any) {
      *err = {lineno, head.col, fmt::format("'{}' needs a COND=VALUE", d->name)};
      return false;
    }
  }
  sc->steps.push_back(std::move(st));
  return true;
}

std::string BaseName(const std::string& path) {
  std::string b = path.substr(path.find_last_of('/') + 1);
  if (b.size() > 4 && b.compare(b.size() - 4, 4, ".scn") == 0) b.resize(b.size() - 4);
  return b;
}

// The scenario in `path`, or "FILE:LINE:COL: error" in *err.
std::optional<Scenario> Parse(const std::string& path, std::string* err) {
  std::ifstream in(path);
  if (!in) {
    *err = path + ": cannot open";
    return std::nullopt;
  }
  Scenario sc;
  sc.file = path;
  sc.name = BaseName(path);
  int nodes = 0;
  int lineno = 0;
  for (std::string line; std::getline(in, line);) {
    ++lineno;
    ParseError pe;
    if (!ParseLine(line, lineno, &nodes, &sc, &pe)) {
      *err = fmt::format("{}:{}:{}: {}", path, pe.line, pe.col, pe.what);
      return std::nullopt;
    }
  }
  for (std::string_view need : {"summary", "follows", "faults", "outcome", "live"}) {
    if (sc.meta.count(std::string(need)) == 0) {
      *err = fmt::format("{}:{}:1: no '{}' line (the catalogue page needs it)", path, lineno, need);
      return std::nullopt;
    }
  }
  if (nodes == 0) {
    *err = fmt::format("{}:{}:1: no 'nodes' step", path, lineno);
    return std::nullopt;
  }
  return sc;
}

// ---- the cluster -------------------------------------------------------------

using engine::Ret;
constexpr uint64_t kMs = 1000000;
constexpr uint64_t kBlock = 4096;

std::string Host(int i) { return "10.0.0." + std::to_string(i + 1); }
std::string Disk(int i) { return "/" + NodeName(i) + "/disk"; }

// The data SEED writes to block BLOCK.
std::vector<uint8_t> BlockData(uint64_t block, uint64_t seed) {
  return Pattern(kBlock, static_cast<uint8_t>(seed * 31 + block));
}

class Runner {
 public:
  explicit Runner(const Scenario& sc) : sc_(sc) {}
  // 0 = passed; else prints FILE:LINE:COL: why.
  int Run();

 private:
  struct N {
    std::unique_ptr<ScriptedHelpers> helpers;
    std::unique_ptr<Node> node;
    bool diskless = false;
    uint64_t writer = 0;
    std::optional<int> pending;  // result of the last expect=pending write
    bool pending_open = false;
    // helper/hold steps, kept across restarts: handler -> (exit, delay; hold if exit < 0)
    std::map<std::string, std::pair<int, uint64_t>> scripts;
  };

  bool Fail(const Step& st, const std::string& why, int col = 0) {
    error_ =
        fmt::format("{}:{}:{}: {}: {}", sc_.file, st.line, col ? col : st.col, st.def->name, why);
    return false;
  }
  static std::string Kw(const Step& st, const std::string& key, const std::string& def = "") {
    for (const Word& w : st.kw) {
      if (w.key == key) return w.value;
    }
    return def;
  }
  int NodeArg(const Step& st, size_t k) const { return st.pos.at(k).value[0] - 'a'; }
  Node& Nd(int i) { return *nodes_[static_cast<size_t>(i)].node; }
  bool Up(int i) const { return nodes_[static_cast<size_t>(i)].node != nullptr; }

  bool Exec(const Step& st);
  bool SetupNodes(const Step& st);
  bool SetOption(const Step& st, const Word& w);
  bool BringUp(const Step& st, int i, bool connect);
  bool MakeDisk(int i);
  bool UpAll(const Step& st);
  bool Writer(const Step& st, int i, uint64_t* h);
  bool DoWrite(const Step& st);
  bool DoRead(const Step& st);
  bool WaitReply(const std::function<bool()>& done, uint64_t limit_ns);
  // nullopt if `cond` holds on node i, else the reason.
  std::optional<std::string> Check(const Step& st, int i, const Word& cond);
  bool Conditions(const Step& st, bool wait);
  int PeerOf(const Step& st, int i);

  const Scenario& sc_;
  std::string error_;
  std::unique_ptr<World> world_;
  std::vector<N> nodes_;
  engine::OptionSet res_{cfg::OptContext::kResourceOptions};
  engine::OptionSet net_{cfg::OptContext::kNewPeer};
  engine::OptionSet disk_{cfg::OptContext::kAttach};
  engine::OptionSet pd_{cfg::OptContext::kPeerDeviceOptions};
  std::map<uint64_t, uint64_t> model_;  // block -> seed of its last acknowledged write
};

bool Runner::SetOption(const Step& st, const Word& w) {
  struct Ctx {
    cfg::OptContext ctx;
    engine::OptionSet* set;
  };
  const Ctx ctxs[] = {{cfg::OptContext::kResourceOptions, &res_},
                      {cfg::OptContext::kPeerDeviceOptions, &pd_},
                      {cfg::OptContext::kAttach, &disk_},
                      {cfg::OptContext::kNetOptions, &net_}};
  for (const Ctx& c : ctxs) {
    const cfg::OptionDef* d = cfg::FindField(cfg::Context(c.ctx), w.key);
    if (d == nullptr) continue;
    if (const cfg::CheckCode code = cfg::CheckValue(*d, w.value); code != cfg::CheckCode::kOk)
      return Fail(st, cfg::CheckErrorText(*d, code, w.value), w.col);
    switch (d->type) {
      case cfg::OptType::kBoolean:
      case cfg::OptType::kFlag:
        c.set->Set(w.key, int64_t{w.value != "no"});
        return true;
      case cfg::OptType::kEnum:
      case cfg::OptType::kEnumNoCase:
      case cfg::OptType::kEnumNum:
        for (const cfg::EnumValue& e : d->enums) {
          const bool same = d->type == cfg::OptType::kEnumNoCase
                                ? e.name.size() == w.value.size() &&
                                      std::equal(e.name.begin(), e.name.end(), w.value.begin(),
                                                 [](char x, char y) {
                                                   return std::tolower(x) == std::tolower(y);
                                                 })
                                : e.name == w.value;
          if (same) {
            c.set->Set(w.key, int64_t{e.value});
            return true;
          }
        }
        if (IsUInt(w.value)) {
          c.set->Set(w.key, static_cast<int64_t>(std::stoll(w.value)));
          return true;
        }
        return Fail(st, fmt::format("{}: '{}' not understood", w.key, w.value), w.col);
      case cfg::OptType::kNumeric: {
        const std::optional<uint64_t> v = cfg::ParseScaled(w.value, d->scale);
        if (!v) return Fail(st, fmt::format("{}: '{}' is not a number", w.key, w.value), w.col);
        c.set->Set(w.key, static_cast<int64_t>(*v));
        return true;
      }
      case cfg::OptType::kString:
      case cfg::OptType::kAny:
        c.set->Set(w.key, w.value);
        return true;
    }
  }
  return Fail(st, fmt::format("no resource, net, disk or peer-device option '{}'", w.key), w.col);
}

bool Runner::SetupNodes(const Step& st) {
  uint64_t seed = 1;
  std::vector<std::string> diskless;
  pd_.Set("c-plan-ahead", int64_t{0});
  pd_.Set("resync-rate", int64_t{4000000});
  for (const Word& w : st.kw) {
    if (w.key == "seed") {
      if (!IsUInt(w.value)) return Fail(st, "seed: not a number", w.col);
      seed = std::stoull(w.value);
    } else if (w.key == "diskless") {
      std::istringstream in(w.value);
      for (std::string n; std::getline(in, n, ',');) diskless.push_back(n);
    } else if (!SetOption(st, w)) {
      return false;
    }
  }
  world_ = std::make_unique<World>(seed);
  const int count = std::stoi(st.pos[0].value);
  nodes_.resize(static_cast<size_t>(count));
  for (int i = 0; i < count; ++i) {
    for (const std::string& d : diskless) {
      if (d == NodeName(i)) nodes_[static_cast<size_t>(i)].diskless = true;
    }
  }
  return true;
}

bool Runner::MakeDisk(int i) {
  const int peers = static_cast<int>(nodes_.size()) - 1;
  return sim::MakeMetadata(*world_, Disk(i), kDiskBytes, md::kMdfAlClean, md::kUuidJustCreated,
                           -1, peers);
}

bool Runner::WaitReply(const std::function<bool()>& done, uint64_t limit_ns) {
  const uint64_t end = world_->now_ns() + limit_ns;
  while (!done()) {
    if (!world_->StepUntil(end)) return done();
  }
  return true;
}

bool Runner::BringUp(const Step& st, int i, bool connect) {
  N& n = nodes_[static_cast<size_t>(i)];
  n.helpers = std::make_unique<ScriptedHelpers>(*world_);
  for (const auto& [name, rule] : n.scripts) {
    if (rule.first < 0) {
      n.helpers->Hold(name);
    } else {
      n.helpers->Script(name, rule.first, rule.second);
    }
  }
  n.node = std::make_unique<Node>(*world_, NodeName(i), n.helpers.get());
  n.writer = 0;
  Node& x = *n.node;
  world_->SetHostDown(Host(i), false);
  if (x.engine.NewResource(x.Res("r0"), i, res_).ret != Ret::kNoError)
    return Fail(st, NodeName(i) + ": new-resource failed");
  engine::Ctx mc = x.Res("r0");
  mc.minor = 0;
  mc.volume = 0;
  if (x.engine.NewMinor(mc, 512, n.diskless).ret != Ret::kNoError)
    return Fail(st, NodeName(i) + ": new-minor failed");
  for (int j = 0; j < static_cast<int>(nodes_.size()); ++j) {
    if (j == i) continue;
    const auto pj = static_cast<uint32_t>(j);
    if (x.NewPeer("r0", pj, NodeName(j), net_) != Ret::kNoError ||
        x.NewPath("r0", pj, Ip4(Host(i), 7788), Ip4(Host(j), 7788)) != Ret::kNoError)
      return Fail(st, NodeName(i) + ": new-peer/new-path failed");
    engine::OptionSet pd = pd_;
    if (nodes_[static_cast<size_t>(j)].diskless) pd.Set("bitmap", int64_t{0});
    if (x.engine.PeerDeviceOptions(x.PeerVol("r0", pj, 0), pd, false).ret != Ret::kNoError)
      return Fail(st, NodeName(i) + ": peer-device-options failed");
  }
  if (!n.diskless) {
    if (!world_->DiskBytes(Disk(i)) && !MakeDisk(i)) return Fail(st, "metadata");
    engine::DiskConf conf;
    conf.backing_dev = conf.meta_dev = Disk(i);
    conf.opts = disk_;
    // Shared: a reply after the wait gave up must not write into this frame.
    auto got = std::make_shared<std::optional<engine::Reply>>();
    x.engine.Attach(x.Minor(0), conf, [got](engine::Reply r) { *got = std::move(r); });
    WaitReply([got] { return got->has_value(); }, 10 * kSec);
    if (!got->has_value() || (*got)->ret != Ret::kNoError)
      return Fail(st, fmt::format("{}: attach: {}", NodeName(i),
                                  got->has_value() ? engine::RetName((*got)->ret) : "no reply"));
  }
  if (connect) {
    for (int j = 0; j < static_cast<int>(nodes_.size()); ++j) {
      if (j != i && x.Connect("r0", static_cast<uint32_t>(j)) != Ret::kSsSuccess)
        return Fail(st, NodeName(i) + ": connect failed");
    }
  }
  return true;
}

bool Runner::UpAll(const Step& st) {
  const std::string init = Kw(st, "initial-sync", "skip");
  if (init != "skip" && init != "full" && init != "none")
    return Fail(st, "initial-sync: skip, full or none");
  for (int i = 0; i < static_cast<int>(nodes_.size()); ++i) {
    if (!BringUp(st, i, true)) return false;
  }
  world_->RunFor(2 * kSec);
  const int count = static_cast<int>(nodes_.size());
  for (int i = 0; i < count; ++i) {
    for (int j = 0; j < count; ++j) {
      if (i != j &&
          Nd(i).engine.ConnStateOf("r0", static_cast<uint32_t>(j)) != engine::ConnState::kConnected)
        return Fail(st, fmt::format("{} not connected to {}", NodeName(i), NodeName(j)));
    }
  }
  int src = 0;  // the first node with a disk runs the initial sync
  while (src < count && nodes_[static_cast<size_t>(src)].diskless) ++src;
  if (src == count) return Fail(st, "no node has a disk");
  Node& s = Nd(src);
  bool full = init == "full";
  if (init == "skip") {
    // (new-current-uuid --clear-bitmap; refused with a diskless client
    // among the peers, when the initial sync runs instead.)
    full = !engine::IsSuccess(s.engine.NewCurrentUuid(s.Minor(0), true).ret);
    world_->RunFor(2 * kSec);
  }
  if (full) {
    if (!engine::IsSuccess(s.engine.Primary(s.Res("r0"), true).ret))
      return Fail(st, fmt::format("primary --force on {} failed", NodeName(src)));
    world_->RunFor(30 * kSec);
    if (!engine::IsSuccess(s.engine.Secondary(s.Res("r0"), false).ret))
      return Fail(st, fmt::format("secondary on {} failed", NodeName(src)));
    world_->RunFor(2 * kSec);
  }
  if (init != "none") {
    for (int i = 0; i < count; ++i) {
      const auto want = nodes_[static_cast<size_t>(i)].diskless ? engine::DiskState::kDiskless
                                                                : engine::DiskState::kUpToDate;
      if (Nd(i).engine.DiskStateOf(0) != want)
        return Fail(st, fmt::format("{} is {} after the initial sync", NodeName(i),
                                    events::ToString(Nd(i).engine.DiskStateOf(0).value_or(
                                        engine::DiskState::kDiskless))));
    }
  }
  return true;
}

bool Runner::Writer(const Step& st, int i, uint64_t* h) {
  N& n = nodes_[static_cast<size_t>(i)];
  if (n.writer == 0) {
    int err = 0;
    const uint64_t w = Nd(i).engine.OpenDevice(0, &err);
    if (w == 0) return Fail(st, fmt::format("open of {}'s device: errno {}", NodeName(i), err));
    if (const int e = Nd(i).engine.OpenDeviceForWrite(w); e != 0) {
      Nd(i).engine.CloseDevice(w);
      return Fail(st, fmt::format("write open of {}'s device: errno {}", NodeName(i), e));
    }
    n.writer = w;
  }
  *h = n.writer;
  return true;
}

bool Runner::DoWrite(const Step& st) {
  const int i = NodeArg(st, 0);
  if (!Up(i)) return Fail(st, NodeName(i) + " is down");
  const uint64_t block = std::stoull(st.pos[1].value);
  const uint64_t seed = st.pos.size() > 2 ? std::stoull(st.pos[2].value) : 1;
  const std::string cnt = Kw(st, "count", "1");
  if (!IsUInt(cnt) || cnt == "0") return Fail(st, "count: a number > 0");
  const uint64_t count = std::stoull(cnt);
  const std::string expect = Kw(st, "expect", "ok");
  if (expect != "ok" && expect != "error" && expect != "pending")
    return Fail(st, "expect: ok, error or pending");
  uint64_t h = 0;
  if (!Writer(st, i, &h)) return false;
  std::vector<uint8_t> data;
  for (uint64_t b = block; b < block + count; ++b) {
    std::vector<uint8_t> d = BlockData(b, seed);
    data.insert(data.end(), d.begin(), d.end());
  }
  N& n = nodes_[static_cast<size_t>(i)];
  auto result = std::make_shared<std::optional<int>>();
  auto* model = &model_;
  n.pending.reset();
  n.pending_open = expect == "pending";
  Node* node = n.node.get();
  N* np = &n;
  Nd(i).engine.IoWrite(h, block * kBlock, std::move(data), false,
                       [result, model, block, count, seed, np, node](int e) {
                         *result = e;
                         if (e == 0) {
                           for (uint64_t b = block; b < block + count; ++b) (*model)[b] = seed;
                         }
                         if (np->node.get() == node && np->pending_open) np->pending = e;
                       });
  WaitReply([&result] { return result->has_value(); }, expect == "pending" ? kSec : 30 * kSec);
  if (expect == "pending") {
    if (result->has_value())
      return Fail(st, fmt::format("the write completed (errno {}), expected it to wait", **result));
    return true;
  }
  n.pending_open = false;
  if (!result->has_value()) return Fail(st, "the write did not complete within 30 s");
  if (expect == "ok" && **result != 0)
    return Fail(st, fmt::format("the write failed with errno {}", **result));
  if (expect == "error" && **result == 0) return Fail(st, "the write succeeded, expected an error");
  return true;
}

bool Runner::DoRead(const Step& st) {
  const int i = NodeArg(st, 0);
  if (!Up(i)) return Fail(st, NodeName(i) + " is down");
  const uint64_t block = std::stoull(st.pos[1].value);
  const uint64_t seed = std::stoull(st.pos[2].value);
  const uint64_t count = std::stoull(Kw(st, "count", "1"));
  int err = 0;
  const uint64_t h = Nd(i).engine.OpenDevice(0, &err);
  if (h == 0) return Fail(st, fmt::format("open of {}'s device: errno {}", NodeName(i), err));
  auto got = std::make_shared<std::optional<std::pair<int, std::vector<uint8_t>>>>();
  Nd(i).engine.IoRead(h, block * kBlock, static_cast<uint32_t>(count * kBlock),
                      [got](int e, std::vector<uint8_t> d) { got->emplace(e, std::move(d)); });
  WaitReply([got] { return got->has_value(); }, 30 * kSec);
  Nd(i).engine.CloseDevice(h);
  if (!got->has_value()) return Fail(st, "the read did not complete within 30 s");
  const auto& [rerr, rdata] = **got;
  if (rerr != 0) return Fail(st, fmt::format("the read failed with errno {}", rerr));
  for (uint64_t b = 0; b < count; ++b) {
    const std::vector<uint8_t> want = BlockData(block + b, seed);
    if (!std::equal(want.begin(), want.end(), rdata.begin() + static_cast<long>(b * kBlock)))
      return Fail(st, fmt::format("block {} does not hold seed {}'s data", block + b, seed));
  }
  return true;
}

int Runner::PeerOf(const Step& st, int i) {
  const std::string p = Kw(st, "peer");
  if (!p.empty()) return p[0] - 'a';
  return nodes_.size() == 2 ? 1 - i : -1;
}

std::optional<std::string> Runner::Check(const Step& st, int i, const Word& cond) {
  const CondDef* c = FindCond(cond.key);
  if (c == nullptr) return std::nullopt;  // peer=, timeout=
  const std::string& want = cond.value;
  if (!Up(i)) return NodeName(i) + " is down";
  Node& x = Nd(i);
  const int peer = PeerOf(st, i);
  if (c->peer && (peer < 0 || peer >= static_cast<int>(nodes_.size()) || peer == i))
    return std::string("needs peer=NODE");
  const auto p = static_cast<uint32_t>(peer);
  auto is = [&want](std::string_view got) -> std::optional<std::string> {
    if (got == want) return std::nullopt;
    return fmt::format("is {}", got);
  };
  auto yes = [](bool b) { return std::string(b ? "yes" : "no"); };
  switch (c->id) {
    case CondId::kRole: {
      const auto r = x.engine.ResourceRole("r0");
      return is(r ? events::ToString(*r) : "none");
    }
    case CondId::kDisk: {
      const auto d = x.engine.DiskStateOf(0);
      return is(d ? events::ToString(*d) : "none");
    }
    case CondId::kConn: {
      const auto v = x.engine.ConnStateOf("r0", p);
      return is(v ? events::ToString(*v) : "none");
    }
    case CondId::kRepl: {
      const auto v = x.engine.ReplStateOf("r0", p, 0);
      return is(v ? events::ToString(*v) : "none");
    }
    case CondId::kPeerDisk: {
      const auto v = x.engine.PeerDiskOf("r0", p, 0);
      return is(v ? events::ToString(*v) : "none");
    }
    case CondId::kPeerRole: {
      const auto v = x.engine.PeerRoleOf("r0", p);
      return is(v ? events::ToString(*v) : "none");
    }
    case CondId::kQuorum:
      return is(yes(x.engine.HasQuorum(0).value_or(false)));
    case CondId::kSuspQuorum:
      return is(yes(x.engine.SuspendedForQuorum("r0").value_or(false)));
    case CondId::kSuspFencing: {
      bool fen = false;
      for (const events::Notification& n : x.engine.InitialState("r0", true)) {
        if (const auto* r = std::get_if<events::Resource>(&n.object)) fen = r->info.susp.fencing;
      }
      return is(yes(fen));
    }
    case CondId::kOutOfSync: {
      const auto v = x.engine.OutOfSyncBlocks("r0", p, 0);
      return is(v ? std::to_string(*v) : "none");
    }
    case CondId::kSplitBrain:
      return is(yes(x.sink.LogContains("Split-Brain detected")));
    case CondId::kHelperCalled:
    case CondId::kHelperNotCalled: {
      const bool called = nodes_[static_cast<size_t>(i)].helpers->Last(want).has_value();
      if (called == (c->id == CondId::kHelperCalled)) return std::nullopt;
      std::string names;
      for (const std::string& s : nodes_[static_cast<size_t>(i)].helpers->Names()) names += " " + s;
      return fmt::format("{} (calls:{})", called ? "was called" : "was not called",
                         names.empty() ? " none" : names);
    }
    case CondId::kLog:
    case CondId::kNoLog: {
      const bool has = x.sink.LogContains(want);
      if (has == (c->id == CondId::kLog)) return std::nullopt;
      return std::string(has ? "is in the log" : "is not in the log");
    }
    case CondId::kDataIdentical: {
      if (want.size() != 1 || want[0] < 'a' || want[0] >= 'a' + static_cast<int>(nodes_.size()))
        return std::string("data-identical=NODE");
      auto mine = world_->DiskBytes(Disk(i));
      auto theirs = world_->DiskBytes(Disk(want[0] - 'a'));
      const auto size = x.engine.DeviceBytes(0);
      if (!mine || !theirs || !size) return std::string("no disk");
      for (uint64_t off = 0; off < *size; off += kBlock) {
        if (!std::equal(mine->begin() + static_cast<long>(off),
                        mine->begin() + static_cast<long>(off + kBlock),
                        theirs->begin() + static_cast<long>(off)))
          return fmt::format("block {} differs", off / kBlock);
      }
      return std::nullopt;
    }
    case CondId::kAckedWrites: {
      auto mine = world_->DiskBytes(Disk(i));
      if (!mine) return std::string("no disk");
      int missing = 0;
      std::string first;
      for (const auto& [block, seed] : model_) {
        const std::vector<uint8_t> data = BlockData(block, seed);
        if (!std::equal(data.begin(), data.end(),
                        mine->begin() + static_cast<long>(block * kBlock))) {
          if (missing++ == 0) first = fmt::format("block {} (seed {})", block, seed);
        }
      }
      if ((missing == 0) == (want == "yes")) return std::nullopt;
      return missing ? fmt::format("{} acknowledged block(s) missing, first {}", missing, first)
                     : std::string("all present");
    }
    case CondId::kWriteDone: {
      const N& n = nodes_[static_cast<size_t>(i)];
      const std::string got = !n.pending ? "pending" : *n.pending == 0 ? "ok" : "error";
      return is(got);
    }
  }
  return std::nullopt;
}

bool Runner::Conditions(const Step& st, bool wait) {
  const int i = NodeArg(st, 0);
  uint64_t timeout = 60;
  const std::string t = Kw(st, "timeout");
  if (!t.empty()) {
    if (!IsUInt(t)) return Fail(st, "timeout: seconds");
    timeout = std::stoull(t);
  }
  const uint64_t end = world_->now_ns() + timeout * kSec;
  for (;;) {
    std::optional<std::string> bad;
    const Word* which = nullptr;
    for (const Word& w : st.kw) {
      bad = Check(st, i, w);
      if (bad) {
        which = &w;
        break;
      }
    }
    if (!bad) return true;
    if (!wait || !world_->StepUntil(end)) {
      if (wait) world_->AdvanceTo(end);
      return Fail(st,
                  fmt::format("{}{}={}: {}{}", wait ? fmt::format("after {} s: ", timeout) : "",
                              which->key, which->value, bad->c_str(),
                              Kw(st, "peer").empty() ? "" : " (peer " + Kw(st, "peer") + ")"),
                  which->col);
    }
  }
}

bool Runner::Exec(const Step& st) {
  const auto need_up = [&](int i) {
    if (Up(i)) return true;
    return Fail(st, NodeName(i) + " is down");
  };
  auto ok = [&](Ret r) {
    if (engine::IsSuccess(r)) return true;
    return Fail(st, fmt::format("returned {}", engine::RetName(r)));
  };
  const int a = st.pos.empty() || std::tolower(st.def->args[0]) != 'n' ? -1 : NodeArg(st, 0);
  const int b = st.pos.size() > 1 && std::tolower(st.def->args[1]) == 'n' ? NodeArg(st, 1) : -1;
  if (a >= 0 && st.def->id != StepId::kRestart && st.def->id != StepId::kCorrupt &&
      st.def->id != StepId::kFailDisk && st.def->id != StepId::kRepairDisk &&
      st.def->id != StepId::kHelper && st.def->id != StepId::kHold &&
      st.def->id != StepId::kExpect && st.def->id != StepId::kWaitFor && !need_up(a))
    return false;
  switch (st.def->id) {
    case StepId::kSummary:
    case StepId::kFollows:
    case StepId::kFaults:
    case StepId::kOutcome:
    case StepId::kLive:
    case StepId::kKnownFailing:
      return true;
    case StepId::kNodes:
      return SetupNodes(st);
    case StepId::kUp:
      return UpAll(st);
    case StepId::kPrimary: {
      // As the kernel's drbd_set_role: fence-peer first when a peer is unknown.
      auto got = std::make_shared<std::optional<engine::Reply>>();
      Nd(a).engine.PrimaryFenced(Nd(a).Res("r0"), Kw(st, "force") == "yes",
                                 [got](const engine::Reply& r) { *got = r; });
      WaitReply([got] { return got->has_value(); }, 60 * kSec);
      if (!got->has_value()) return Fail(st, "no reply within 60 s");
      const engine::Reply rep = **got;
      const std::string want = Kw(st, "expect", "ok");
      if (want == "refused") {
        if (!engine::IsSuccess(rep.ret)) return true;
        return Fail(st, "the promotion succeeded, expected it to be refused");
      }
      if (want != "ok") return Fail(st, "expect: ok or refused");
      return ok(rep.ret);
    }
    case StepId::kSecondary:
    case StepId::kClose: {
      N& n = nodes_[static_cast<size_t>(a)];
      if (n.writer != 0) Nd(a).engine.CloseDevice(n.writer);
      n.writer = 0;
      world_->RunFor(100 * kMs);
      if (st.def->id == StepId::kClose) return true;
      return ok(Nd(a).engine.Secondary(Nd(a).Res("r0"), false).ret);
    }
    case StepId::kWrite:
      return DoWrite(st);
    case StepId::kVerifyData:
      return DoRead(st);
    case StepId::kDisconnect:
      return ok(
          Nd(a)
              .engine
              .Disconnect(Nd(a).Peer("r0", static_cast<uint32_t>(b)), Kw(st, "force") == "yes")
              .ret);
    case StepId::kConnect:
      return ok(Nd(a)
                    .engine
                    .Connect(Nd(a).Peer("r0", static_cast<uint32_t>(b)), false,
                             Kw(st, "discard-my-data") == "yes")
                    .ret);
    case StepId::kPartition:
    case StepId::kHeal: {
      const bool cut = st.def->id == StepId::kPartition;
      if (Kw(st, "oneway") == "yes") {
        world_->PartitionOneWay(Host(a), Host(b), cut);
      } else {
        world_->Partition(Host(a), Host(b), cut);
      }
      return true;
    }
    case StepId::kIsolate:
    case StepId::kHealAll:
      for (int i = 0; i < static_cast<int>(nodes_.size()); ++i) {
        for (int j = i + 1; j < static_cast<int>(nodes_.size()); ++j) {
          if (st.def->id == StepId::kHealAll) {
            world_->Partition(Host(i), Host(j), false);
            world_->PartitionOneWay(Host(i), Host(j), false);
            world_->PartitionOneWay(Host(j), Host(i), false);
          } else if (i == a || j == a) {
            world_->Partition(Host(i), Host(j), true);
          }
        }
      }
      return true;
    case StepId::kCrash: {
      const std::string m = Kw(st, "mode", "keep");
      World::CrashMode mode = World::CrashMode::kKeep;
      if (m == "lose-unflushed") {
        mode = World::CrashMode::kLoseUnflushed;
      } else if (m == "tear") {
        mode = World::CrashMode::kTear;
      } else if (m != "keep") {
        return Fail(st, "mode: keep, lose-unflushed or tear");
      }
      world_->SetHostDown(Host(a), true);
      if (!nodes_[static_cast<size_t>(a)].diskless) world_->CrashDisk(Disk(a), mode);
      nodes_[static_cast<size_t>(a)].node.reset();
      nodes_[static_cast<size_t>(a)].writer = 0;
      return true;
    }
    case StepId::kDown: {
      N& n = nodes_[static_cast<size_t>(a)];
      if (n.writer != 0) Nd(a).engine.CloseDevice(n.writer);
      n.writer = 0;
      if (!ok(Nd(a).engine.Down(Nd(a).Res("r0")).ret)) return false;
      world_->RunFor(kSec);
      n.node.reset();
      return true;
    }
    case StepId::kRestart:
      if (Up(a)) return Fail(st, NodeName(a) + " is up");
      return BringUp(st, a, Kw(st, "connect", "yes") == "yes");
    case StepId::kDetach:
      return ok(Nd(a).engine.Detach(Nd(a).Minor(0), Kw(st, "force") == "yes").ret);
    case StepId::kAttach: {
      engine::DiskConf conf;
      conf.backing_dev = conf.meta_dev = Disk(a);
      conf.opts = disk_;
      auto got = std::make_shared<std::optional<engine::Reply>>();
      Nd(a).engine.Attach(Nd(a).Minor(0), conf, [got](engine::Reply r) { *got = std::move(r); });
      WaitReply([got] { return got->has_value(); }, 10 * kSec);
      return got->has_value() ? ok((*got)->ret) : Fail(st, "no reply");
    }
    case StepId::kFailDisk:
      world_->SetDiskErrors(Disk(a), Kw(st, "read") == "yes", Kw(st, "write", "yes") == "yes");
      return true;
    case StepId::kRepairDisk:
      world_->SetDiskErrors(Disk(a), false, false);
      return true;
    case StepId::kCorrupt:
      CorruptBlocks(*world_, Disk(a), {std::stoull(st.pos[1].value)});
      return true;
    case StepId::kInvalidate:
      return ok(Nd(a).engine.Invalidate(Nd(a).Minor(0)).ret);
    case StepId::kInvalidateRemote:
      return ok(
          Nd(a).engine.InvalidateRemote(Nd(a).PeerVol("r0", static_cast<uint32_t>(b), 0)).ret);
    case StepId::kOutdate:
      return ok(Nd(a).engine.Outdate(Nd(a).Minor(0)).ret);
    case StepId::kVerify:
      return ok(Nd(a)
                    .engine
                    .StartVerify(Nd(a).PeerVol("r0", static_cast<uint32_t>(b), 0), std::nullopt,
                                 std::nullopt)
                    .ret);
    case StepId::kHelper: {
      const std::string code = Kw(st, "exit");
      if (!IsUInt(code)) return Fail(st, "exit=N needed");
      const std::string delay = Kw(st, "delay-ms", "1");
      if (!IsUInt(delay)) return Fail(st, "delay-ms: a number");
      N& n = nodes_[static_cast<size_t>(a)];
      n.scripts[st.pos[1].value] = {std::stoi(code), std::stoull(delay) * kMs};
      if (n.helpers) n.helpers->Script(st.pos[1].value, std::stoi(code), std::stoull(delay) * kMs);
      return true;
    }
    case StepId::kHold:
      nodes_[static_cast<size_t>(a)].scripts[st.pos[1].value] = {-1, 0};
      if (nodes_[static_cast<size_t>(a)].helpers)
        nodes_[static_cast<size_t>(a)].helpers->Hold(st.pos[1].value);
      return true;
    case StepId::kAnswer: {
      const std::string code = Kw(st, "exit");
      if (!IsUInt(code)) return Fail(st, "exit=N needed");
      const auto idx = nodes_[static_cast<size_t>(a)].helpers->Last(st.pos[1].value);
      if (!idx) return Fail(st, st.pos[1].value + " was never called");
      nodes_[static_cast<size_t>(a)].helpers->Answer(*idx, std::stoi(code));
      return true;
    }
    case StepId::kLatency:
      world_->set_latency_ns(std::stoull(st.pos[0].value) * kMs);
      return true;
    case StepId::kRun:
      world_->RunFor(std::stoull(st.pos[0].value) * kSec);
      return true;
    case StepId::kWaitFor:
      return Conditions(st, true);
    case StepId::kExpect:
      return Conditions(st, false);
  }
  return true;
}

int Runner::Run() {
  for (const Step& st : sc_.steps) {
    if (!Exec(st)) {
      std::fprintf(stderr, "%s\n", error_.c_str());
      if (std::getenv("DRBD_SCENARIO_LOG") != nullptr) {
        for (size_t i = 0; i < nodes_.size(); ++i) {
          if (!nodes_[i].node) continue;
          for (const std::string& l : nodes_[i].node->sink.log)
            std::fprintf(stderr, "[%s] %s\n", NodeName(static_cast<int>(i)).c_str(), l.c_str());
        }
      }
      std::fprintf(stderr, "%s: FAILED at virtual time %.3f s\n", sc_.name.c_str(),
                   world_ ? static_cast<double>(world_->now_ns()) / 1e9 : 0.0);
      return 1;
    }
  }
  std::printf("%s: passed (%zu steps, %.1f s virtual time)\n", sc_.name.c_str(), sc_.steps.size(),
              static_cast<double>(world_->now_ns()) / 1e9);
  return 0;
}

// ---- help and the catalogue page ---------------------------------------------

std::string Help() {
  std::string out =
      "usage: drbd-scenario FILE.scn        run one scenario\n"
      "       drbd-scenario --doc FILE...   print docs/scenarios.md for the files\n"
      "       drbd-scenario --check-doc DOC FILE...   DOC must equal --doc's output\n"
      "DRBD_SCENARIO_LOG=1 prints every node's kernel log after a failure.\n"
      "\nSteps (one a line; # starts a comment; \"quotes\" group words):\n";
  for (const StepDef& s : kSteps)
    out += fmt::format("  {} {}\n      {}\n", s.name, s.synopsis, s.doc);
  out += "\nConditions of expect / wait-for:\n";
  for (const CondDef& c : kConds)
    out += fmt::format("  {}{}: {}\n", c.name, c.peer ? " (peer=)" : "", c.doc);
  return out;
}

std::string Cell(std::string s) {
  for (char& c : s) {
    if (c == '|') c = '/';
  }
  return s;
}

std::string Doc(const std::vector<Scenario>& all) {
  std::string out =
      "<!-- Generated by drbd-scenario --doc tests/scenarios/*.scn; ctest scenario_doc checks "
      "it. -->\n"
      "# Scenario catalogue\n\n"
      "Deterministic scenarios on the simulated world (sim/world: engines in one process, "
      "virtual time, no real processes), one per file in `tests/scenarios/NAME.scn`, each run "
      "by `drbd-scenario` (tests/scenarios/runner.cc) as the ctest `scenario.NAME` (label "
      "sim). Names follow LINBIT's drbd9-tests (`tests/NAME` there) where the behaviour "
      "matches; the live column names the test on real drbd-simd processes "
      "(tests/integration) or the DRBD 9.2.18 capture that covers the same behaviour.\n\n"
      "Regenerate: `build/tests/drbd-scenario --doc tests/scenarios/*.scn > "
      "docs/scenarios.md`.\n\n";
  std::string known;
  for (const Scenario& s : all) {
    out += fmt::format("## {}\n\n{}\n\n", s.name, s.meta.at("summary"));
    out += fmt::format("- Faults: {}\n", s.meta.at("faults"));
    out += fmt::format("- Expected outcome: {}\n", s.meta.at("outcome"));
    out += fmt::format("- Follows drbd9-tests: {}\n", s.meta.at("follows"));
    out += fmt::format("- Live coverage: {}\n", s.meta.at("live"));
    if (s.meta.count("known-failing") != 0) {
      out += fmt::format("- **Known failing** (registered DISABLED): {}\n",
                         s.meta.at("known-failing"));
      known += fmt::format("| {} | {} |\n", s.name, Cell(s.meta.at("known-failing")));
    }
    out += "\n";
  }
  out +=
      "## Known failing\n\nScenarios whose expectation the engine does not meet yet (the "
      "expectation is the kernel's; the test is registered DISABLED until the engine is "
      "fixed).\n\n";
  out += known.empty() ? "None.\n" : "| Scenario | Why |\n|---|---|\n" + known;
  out +=
      "\n## Step vocabulary\n\nFrom tests/scenarios/steps.def (also `drbd-scenario "
      "--help`).\n\n| Step | Arguments | Meaning |\n|---|---|---|\n";
  for (const StepDef& s : kSteps)
    out += fmt::format("| `{}` | `{}` | {} |\n", s.name, Cell(std::string(s.synopsis)),
                       Cell(std::string(s.doc)));
  out += "\nConditions of `expect` and `wait-for`:\n\n| Condition | Meaning |\n|---|---|\n";
  for (const CondDef& c : kConds)
    out += fmt::format("| `{}`{} | {} |\n", c.name, c.peer ? " (peer=)" : "",
                       Cell(std::string(c.doc)));
  return out;
}

int Main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    std::fputs(Help().c_str(), args.empty() ? stderr : stdout);
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "--doc" || args[0] == "--check-doc") {
    const bool check = args[0] == "--check-doc";
    size_t first = check ? 2 : 1;
    if (check && args.size() < 2) return 2;
    std::vector<Scenario> all;
    std::vector<std::string> files(args.begin() + static_cast<long>(first), args.end());
    std::sort(files.begin(), files.end(),
              [](const std::string& x, const std::string& y) { return BaseName(x) < BaseName(y); });
    for (const std::string& f : files) {
      std::string err;
      std::optional<Scenario> sc = Parse(f, &err);
      if (!sc) {
        std::fprintf(stderr, "%s\n", err.c_str());
        return 1;
      }
      all.push_back(std::move(*sc));
    }
    const std::string doc = Doc(all);
    if (!check) {
      std::fputs(doc.c_str(), stdout);
      return 0;
    }
    std::ifstream in(args[1]);
    std::stringstream have;
    have << in.rdbuf();
    if (have.str() == doc) return 0;
    for (const Scenario& s : all) {
      if (have.str().find("## " + s.name + "\n") == std::string::npos)
        std::fprintf(stderr, "%s: scenario %s is not listed\n", args[1].c_str(), s.name.c_str());
    }
    std::fprintf(stderr,
                 "%s is out of date: regenerate with drbd-scenario --doc tests/scenarios/*.scn\n",
                 args[1].c_str());
    return 1;
  }
  std::string err;
  std::optional<Scenario> sc = Parse(args[0], &err);
  if (!sc) {
    std::fprintf(stderr, "%s\n", err.c_str());
    return 2;
  }
  Runner r(*sc);
  return r.Run();
}

}  // namespace
}  // namespace drbd::sim::scenario

int main(int argc, char** argv) { return drbd::sim::scenario::Main(argc, argv); }
