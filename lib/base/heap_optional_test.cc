// SPDX-License-Identifier: GPL-2.0-or-later
#include "lib/base/heap_optional.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

namespace drbd {
namespace {

struct Big {
  std::vector<std::string> names;
  std::string text;
};

TEST(HeapOptional, EmptyIsOnePointerAndFalse) {
  HeapOptional<Big> h;
  EXPECT_FALSE(h);
  EXPECT_FALSE(h.has_value());
  EXPECT_EQ(sizeof(h), sizeof(void*));
  EXPECT_LT(sizeof(h), sizeof(std::optional<Big>));
}

TEST(HeapOptional, AssignAndEmplaceSetTheValue) {
  HeapOptional<Big> h;
  h = Big{{"a"}, "x"};
  ASSERT_TRUE(h);
  EXPECT_EQ(h->text, "x");
  h.emplace().text = "y";
  EXPECT_TRUE(h->names.empty());
  EXPECT_EQ((*h).text, "y");
  h.reset();
  EXPECT_FALSE(h.has_value());
}

TEST(HeapOptional, CopiesAreDeepAndIndependent) {
  HeapOptional<Big> a = Big{{"n"}, "one"};
  HeapOptional<Big> b = a;
  b->text = "two";
  EXPECT_EQ(a->text, "one");
  EXPECT_EQ(b->text, "two");
  HeapOptional<Big> empty;
  b = empty;
  EXPECT_FALSE(b);
  a = a;  // self-assignment keeps the value
  EXPECT_EQ(a->names, std::vector<std::string>{"n"});
  HeapOptional<Big> moved = std::move(a);
  EXPECT_EQ(moved->text, "one");
}

}  // namespace
}  // namespace drbd
