// SPDX-License-Identifier: GPL-2.0-or-later
// show for 8.4: GET_STATUS replies (context, res_opts, net_conf, disk_conf
// per minor) printed in drbdsetup-84's layout.
#include "drbdsetup/show84.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>

#include <cstring>
#include <ostream>

#include "drbdsetup/options84.h"
#include "lib/genl/drbd_codes.h"
#include "lib/genl/family84.h"

namespace drbd::setup {
namespace {

namespace a84 = genl::v84::attr;
using genl::Message;
using genl::Set;

// "ipv4 127.0.0.1:7788", "ipv6 [::1]:7788" from sockaddr bytes.
std::string AddressText(std::string_view b) {
  if (b.size() >= sizeof(sockaddr_in)) {
    sa_family_t fam;
    std::memcpy(&fam, b.data(), sizeof fam);
    char host[INET6_ADDRSTRLEN] = "";
    if (fam == AF_INET) {
      sockaddr_in sin;
      std::memcpy(&sin, b.data(), sizeof sin);
      inet_ntop(AF_INET, &sin.sin_addr, host, sizeof host);
      return fmt::format("ipv4 {}:{}", host, ntohs(sin.sin_port));
    }
    if (fam == AF_INET6 && b.size() >= sizeof(sockaddr_in6)) {
      sockaddr_in6 sin6;
      std::memcpy(&sin6, b.data(), sizeof sin6);
      inet_ntop(AF_INET6, &sin6.sin6_addr, host, sizeof host);
      return fmt::format("ipv6 [{}]:{}", host, ntohs(sin6.sin6_port));
    }
  }
  return "?";
}

class Printer {
 public:
  Printer(std::string* out, bool defaults) : out_(out), defaults_(defaults) {}
  void Line(const std::string& s) {
    out_->append(4 * static_cast<size_t>(indent_), ' ');
    out_->append(s);
  }
  // One section of options of contexts `mask` from TLA `set` of m.
  void Options(const Message& m, Set set, uint16_t mask, std::string_view section) {
    const genl::Tla* t = m.Find(set);
    if (!t) return;
    bool opened = false;
    for (const o84::Opt& o : o84::All()) {
      if (!(o.ctx & mask) || !o.field || o.field->set != set) continue;
      const genl::Attr* a = t->Find(o.field->key());
      if (!a) continue;
      if (!opened) {
        Line(fmt::format("{} {{\n", section));
        ++indent_;
        opened = true;
      }
      bool is_default = o84::IsDefault(o, *a);
      if (is_default && !defaults_) continue;
      std::string s = fmt::format("{:<16}\t{};", o.name, o84::Text(o, *a));
      if (!o.unit.empty() || is_default) {
        s += " # ";
        s += o.unit;
        if (!o.unit.empty() && is_default) s += ", ";
        if (is_default) s += "default";
      }
      Line(s + "\n");
    }
    if (opened) {
      --indent_;
      Line("}\n");
    }
  }
  int indent_ = 0;

 private:
  std::string* out_;
  bool defaults_;
};

}  // namespace

std::string FormatShow84(const std::vector<Message>& replies, bool show_defaults) {
  std::string out;
  Printer p(&out, show_defaults);
  std::string last;
  bool any = false;
  for (const Message& m : replies) {
    const genl::Tla* ctx = m.Find(Set::kCfgContext);
    if (!ctx) continue;
    std::string res(ctx->GetStr(a84::ctx_resource_name).value_or(""));
    if (res != last) {
      if (!last.empty()) {
        --p.indent_;
        p.Line("}\n");
        --p.indent_;
        p.Line("}\n\n");
      }
      last = res;
      any = true;
      p.Line(fmt::format("resource {} {{\n", res));
      ++p.indent_;
      p.Options(m, Set::kResourceOpts, o84::kResource, "options");
      p.Options(m, Set::kNetConf, o84::kNet, "net");
      if (auto peer = ctx->GetStr(a84::ctx_peer_addr); peer && !peer->empty()) {
        p.Line("_remote_host {\n");
        ++p.indent_;
        p.Line(fmt::format("address\t\t\t{};\n", AddressText(*peer)));
        --p.indent_;
        p.Line("}\n");
      }
      p.Line("_this_host {\n");
      ++p.indent_;
      if (auto mine = ctx->GetStr(a84::ctx_my_addr); mine && !mine->empty())
        p.Line(fmt::format("address\t\t\t{};\n", AddressText(*mine)));
    }
    if (auto vol = ctx->GetU32(a84::ctx_volume)) {
      p.Line(fmt::format("volume {} {{\n", static_cast<int32_t>(*vol)));
      ++p.indent_;
      p.Line(fmt::format("device\t\t\tminor {};\n", m.minor));
      if (const genl::Tla* dc = m.Find(Set::kDiskConf)) {
        std::string backing(dc->GetStr(a84::backing_dev).value_or(""));
        if (!backing.empty()) {
          p.Line(fmt::format("disk\t\t\t\"{}\";\n", backing));
          int32_t idx = dc->GetS32(a84::meta_dev_idx).value_or(0);
          std::string meta(dc->GetStr(a84::meta_dev).value_or(""));
          if (idx == -1 || idx == -3)
            p.Line("meta-disk\t\t\tinternal;\n");
          else if (idx == -2)
            p.Line(fmt::format("meta-disk\t\t\t\"{}\";\n", meta));
          else
            p.Line(fmt::format("meta-disk\t\t\t\"{}\" [ {} ];\n", meta, idx));
        }
      }
      p.Options(m, Set::kDiskConf, o84::kDisk | o84::kAttachOnly, "disk");
      --p.indent_;
      p.Line("}\n");
    }
  }
  if (any) {
    --p.indent_;
    p.Line("}\n");
    --p.indent_;
    p.Line("}\n");
  }
  return out;
}

int Show84(genl::Client& client, const std::vector<std::string>& args, std::ostream& out,
           std::ostream& err) {
  bool defaults = false;
  std::string obj = "all";
  bool have_obj = false;
  for (size_t i = 1; i < args.size(); ++i) {
    if (args[i] == "--show-defaults")
      defaults = true;
    else if (!args[i].starts_with("-") && !have_obj) {
      obj = args[i];
      have_obj = true;
    } else {
      err << "drbdsetup show: unrecognized option '" << args[i] << "'\n";
      return 20;
    }
  }
  Message req = genl::MakeRequest(genl::Cmd::kGetStatus);
  req.version = genl::v84::kFamilyVersion;
  bool by_minor = !obj.empty() && obj.find_first_not_of("0123456789") == std::string::npos;
  if (by_minor) {
    req.nl.flags = genl::kNlmFRequest;
    req.minor = static_cast<uint32_t>(std::stoul(obj));
  } else {
    req.nl.flags = genl::kNlmFRequest | genl::kNlmFDump;
    if (obj != "all") req.Get(Set::kCfgContext).PutStr(a84::ctx_resource_name, obj);
  }
  auto r = client.Call(std::move(req));
  if (!r.ok()) {
    err << obj << ": " << r.error().message << "\n";
    return 20;
  }
  std::vector<Message> ok;
  for (Message& m : *r) {
    if (m.ret_code() != genl::ToInt(genl::RetCode::kNoError)) {
      genl::ReplyReport rep = genl::ReportReply(obj, m);
      err << rep.text;
      return rep.exit_code ? rep.exit_code : 10;
    }
    ok.push_back(std::move(m));
  }
  out << FormatShow84(ok, defaults);
  return 0;
}

}  // namespace drbd::setup
