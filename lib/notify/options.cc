// SPDX-License-Identifier: GPL-2.0-or-later
// Option values <-> genl attributes (see options.h).
#include "lib/notify/options.h"

namespace drbd::notify {

using cfg::OptionDef;
using cfg::OptType;

OptionValues ValuesFromTla(const genl::Tla& tla, cfg::OptContext ctx) {
  OptionValues out;
  for (const OptionDef* f : cfg::Context(ctx).fields) {
    if (f->genl_attr < 0) continue;
    const genl::Attr* a = nullptr;
    for (const genl::Attr& x : tla.attrs) {
      if (x.nr == f->genl_attr) a = &x;
    }
    if (a == nullptr) continue;
    FieldValue v;
    v.field = f;
    v.number = a->num;
    v.text = a->bytes;
    out.push_back(std::move(v));
  }
  return out;
}

void PutValues(genl::Tla& tla, const std::vector<FieldValue>& values) {
  for (const FieldValue& v : values) {
    if (v.field->genl_attr < 0) continue;
    const genl::AttrDesc* a = genl::FindAttr(tla.set, static_cast<uint16_t>(v.field->genl_attr));
    if (a == nullptr) continue;
    if (a->type == genl::AttrType::kStr) {
      tla.PutStr(a->key(), v.text);
    } else if (a->type == genl::AttrType::kBin) {
      tla.PutBin(a->key(),
                 std::span(reinterpret_cast<const uint8_t*>(v.text.data()), v.text.size()));
    } else {
      tla.PutNum(a->key(), v.number);
    }
  }
}

std::string FieldText(const FieldValue& v) {
  const OptionDef& f = *v.field;
  switch (f.type) {
    case OptType::kBoolean:
    case OptType::kFlag:
      return v.number != 0 ? "yes" : "no";
    case OptType::kNumeric: {
      std::string num = f.is_signed
                            ? std::to_string(static_cast<int32_t>(static_cast<uint32_t>(v.number)))
                            : std::to_string(v.number);
      if (f.scale != '1') num += f.scale;
      return num;
    }
    case OptType::kEnum:
    case OptType::kEnumNoCase:
    case OptType::kEnumNum:
      for (const cfg::EnumValue& e : f.enums) {
        if (static_cast<uint64_t>(e.value) == v.number) return std::string(e.name);
      }
      return std::to_string(v.number);
    case OptType::kString:
    case OptType::kAny:
      break;
  }
  return v.text;
}

OptionValues DefaultValues(cfg::OptContext ctx) {
  OptionValues out;
  for (const OptionDef* f : cfg::Context(ctx).fields) {
    FieldValue v;
    v.field = f;
    if (f->type == OptType::kBoolean || f->type == OptType::kFlag) {
      v.number = f->bool_def ? 1 : 0;
    } else if (f->type != OptType::kString && f->type != OptType::kAny) {
      v.number = static_cast<uint64_t>(f->def);
    }
    out.push_back(std::move(v));
  }
  return out;
}

}  // namespace drbd::notify
