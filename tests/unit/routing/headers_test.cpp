#include <catch2/catch.hpp>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "routing_test_support.hpp"
#include "warren/routing/exchange_types.hpp"

using namespace warren::routing;
using namespace warren::routing::test;
using warren::protocol::ByteArray;
using warren::protocol::Decimal;
using warren::protocol::FieldArray;
using warren::protocol::FieldTable;
using warren::protocol::FieldValue;
using warren::protocol::Timestamp;
using warren::protocol::Void;

namespace {

// Whether a headers binding with `arguments` matches a message with `headers`.
bool matches(const FieldTable& arguments, const FieldTable* headers) {
  auto table = make_headers_table();
  REQUIRE(table->bind(binding(queue(1), "ignored", arguments)));
  std::vector<Destination> out;
  table->route("any-key", headers, out);
  return !out.empty();
}

bool matches(const FieldTable& arguments, const FieldTable& headers) {
  return matches(arguments, &headers);
}

// Whether a binding {a: pattern} matches headers {a: header}.
bool value_matches(FieldValue pattern, FieldValue header) {
  return matches(FieldTable{{"a", std::move(pattern)}}, FieldTable{{"a", std::move(header)}});
}

}  // namespace

TEST_CASE("headers x-match all (the default)", "[routing][headers]") {
  const FieldTable args{{"a", std::int32_t{1}}, {"b", str("two")}};
  const FieldTable args_all{{"x-match", str("all")}, {"a", std::int32_t{1}}, {"b", str("two")}};
  for (const FieldTable* binding_args : {&args, &args_all}) {
    CHECK(matches(*binding_args, FieldTable{{"a", std::int32_t{1}}, {"b", str("two")}}));
    CHECK(matches(*binding_args,
                  FieldTable{{"c", str("extra")}, {"b", str("two")}, {"a", std::int32_t{1}}}));
    CHECK_FALSE(matches(*binding_args, FieldTable{{"a", std::int32_t{1}}}));
    CHECK_FALSE(matches(*binding_args, FieldTable{{"a", std::int32_t{1}}, {"b", str("three")}}));
    CHECK_FALSE(matches(*binding_args, FieldTable{}));
    CHECK_FALSE(matches(*binding_args, nullptr));
  }
}

TEST_CASE("headers x-match any", "[routing][headers]") {
  const FieldTable args{{"x-match", str("any")}, {"a", std::int32_t{1}}, {"b", str("two")}};
  CHECK(matches(args, FieldTable{{"b", str("two")}}));
  CHECK(matches(args, FieldTable{{"a", std::int32_t{1}}, {"b", str("nope")}}));
  CHECK(matches(args, FieldTable{{"z", str("z")}, {"a", std::int32_t{1}}}));
  CHECK_FALSE(matches(args, FieldTable{{"a", std::int32_t{2}}, {"b", str("nope")}}));
  CHECK_FALSE(matches(args, FieldTable{{"c", std::int32_t{1}}}));
  CHECK_FALSE(matches(args, nullptr));
}

TEST_CASE("headers with nothing to match: all matches everything, any nothing",
          "[routing][headers]") {
  const FieldTable some{{"a", std::int32_t{1}}};
  CHECK(matches(FieldTable{}, nullptr));
  CHECK(matches(FieldTable{}, some));
  CHECK(matches(FieldTable{{"x-match", str("all")}}, nullptr));
  CHECK(matches(FieldTable{{"x-match", str("all")}, {"x-other", str("v")}}, some));
  CHECK_FALSE(matches(FieldTable{{"x-match", str("any")}}, some));
  CHECK_FALSE(matches(FieldTable{{"x-match", str("any")}, {"x-a", std::int32_t{1}}},
                      FieldTable{{"x-a", std::int32_t{1}}}));
  CHECK(matches(FieldTable{{"x-match", str("all-with-x")}}, nullptr));
  CHECK_FALSE(matches(FieldTable{{"x-match", str("any-with-x")}}, some));
}

TEST_CASE("headers: x- arguments are ignored unless -with-x", "[routing][headers]") {
  const FieldTable all{{"x-match", str("all")}, {"a", std::int32_t{1}}, {"x-tag", str("t")}};
  CHECK(matches(all, FieldTable{{"a", std::int32_t{1}}}));
  CHECK(matches(all, FieldTable{{"a", std::int32_t{1}}, {"x-tag", str("other")}}));

  const FieldTable any{{"x-match", str("any")}, {"x-tag", str("t")}, {"a", std::int32_t{1}}};
  CHECK_FALSE(matches(any, FieldTable{{"x-tag", str("t")}}));

  const FieldTable all_x{
      {"x-match", str("all-with-x")}, {"a", std::int32_t{1}}, {"x-tag", str("t")}};
  CHECK_FALSE(matches(all_x, FieldTable{{"a", std::int32_t{1}}}));
  CHECK(matches(all_x, FieldTable{{"a", std::int32_t{1}}, {"x-tag", str("t")}}));
  // x-match itself is never matched, even with -with-x.
  CHECK(matches(all_x, FieldTable{{"x-tag", str("t")}, {"a", std::int32_t{1}}}));

  const FieldTable any_x{
      {"x-match", str("any-with-x")}, {"a", std::int32_t{1}}, {"x-tag", str("t")}};
  CHECK(matches(any_x, FieldTable{{"x-tag", str("t")}}));
  CHECK_FALSE(matches(any_x, FieldTable{{"x-tag", str("u")}, {"x-match", str("any-with-x")}}));
}

TEST_CASE("headers: a void argument matches presence", "[routing][headers]") {
  const FieldTable args{{"a", Void{}}};
  CHECK(matches(args, FieldTable{{"a", str("anything")}}));
  CHECK(matches(args, FieldTable{{"a", std::int32_t{0}}}));
  CHECK(matches(args, FieldTable{{"a", Void{}}}));
  CHECK_FALSE(matches(args, FieldTable{{"b", str("anything")}}));
  CHECK_FALSE(matches(args, nullptr));
  const FieldTable any{{"x-match", str("any")}, {"a", Void{}}, {"b", std::int32_t{1}}};
  CHECK(matches(any, FieldTable{{"a", FieldTable{}}}));
  // A void header is present but equals nothing else.
  CHECK_FALSE(value_matches(std::int32_t{0}, Void{}));
  CHECK_FALSE(value_matches(str(""), Void{}));
}

TEST_CASE("headers values compare as Erlang's ==", "[routing][headers]") {
  SECTION("integers of every width and timestamps compare numerically") {
    CHECK(value_matches(std::int32_t{5}, std::int64_t{5}));
    CHECK(value_matches(std::int32_t{5}, std::int8_t{5}));
    CHECK(value_matches(std::uint8_t{5}, std::int16_t{5}));
    CHECK(value_matches(std::uint16_t{5}, std::uint32_t{5}));
    CHECK(value_matches(std::int64_t{5}, Timestamp{5}));
    CHECK(value_matches(std::int32_t{-1}, std::int8_t{-1}));
    CHECK_FALSE(value_matches(std::int32_t{-1}, std::uint32_t{0xffffffffu}));
    CHECK_FALSE(value_matches(std::int64_t{5}, std::int64_t{6}));
    const std::uint64_t big = (std::uint64_t{1} << 63) + 1;
    CHECK(value_matches(Timestamp{big}, Timestamp{big}));
    CHECK_FALSE(value_matches(Timestamp{big}, std::int64_t{-9223372036854775807LL}));
  }
  SECTION("integers equal floats of the same value, exactly") {
    CHECK(value_matches(std::int32_t{1}, 1.0));
    CHECK(value_matches(1.0f, std::int64_t{1}));
    CHECK(value_matches(-3.0, std::int8_t{-3}));
    CHECK_FALSE(value_matches(std::int32_t{1}, 1.5));
    const std::int64_t two53 = std::int64_t{1} << 53;
    CHECK(value_matches(std::int64_t{two53}, 9007199254740992.0));
    CHECK_FALSE(value_matches(std::int64_t{two53 + 1}, 9007199254740992.0));
    CHECK(value_matches(Timestamp{std::uint64_t{1} << 63}, 9223372036854775808.0));
    CHECK_FALSE(value_matches(std::int64_t{std::numeric_limits<std::int64_t>::max()},
                              9223372036854775808.0));
    CHECK_FALSE(value_matches(std::int64_t{0}, std::numeric_limits<double>::quiet_NaN()));
    CHECK_FALSE(value_matches(std::int64_t{0}, std::numeric_limits<double>::infinity()));
  }
  SECTION("floats compare as doubles") {
    CHECK(value_matches(1.5f, 1.5));
    CHECK(value_matches(0.0, -0.0));
    CHECK_FALSE(value_matches(0.1f, 0.1));  // 0.1f widens to 0.100000001490116...
    CHECK(value_matches(0.1, 0.1));
  }
  SECTION("longstr and byte array are both binaries") {
    CHECK(value_matches(str("abc"), ByteArray{"abc"}));
    CHECK(value_matches(ByteArray{"abc"}, str("abc")));
    CHECK_FALSE(value_matches(str("abc"), str("abd")));
    CHECK_FALSE(value_matches(str("1"), std::int32_t{1}));
    CHECK(value_matches(str(""), str("")));
  }
  SECTION("booleans only equal booleans") {
    CHECK(value_matches(true, true));
    CHECK_FALSE(value_matches(true, false));
    CHECK_FALSE(value_matches(true, std::int8_t{1}));
    CHECK_FALSE(value_matches(std::uint8_t{0}, false));
    CHECK_FALSE(value_matches(str("true"), true));
  }
  SECTION("decimals") {
    CHECK(value_matches(Decimal{2, 150}, Decimal{2, 150}));
    CHECK_FALSE(value_matches(Decimal{2, 150}, Decimal{1, 15}));
    CHECK_FALSE(value_matches(Decimal{0, 1}, std::int32_t{1}));
  }
  SECTION("arrays and tables compare element types too") {
    CHECK(value_matches(FieldArray{std::int32_t{1}, str("x")},
                        FieldArray{std::int32_t{1}, str("x")}));
    CHECK_FALSE(value_matches(FieldArray{std::int32_t{1}}, FieldArray{std::int64_t{1}}));
    CHECK_FALSE(value_matches(FieldArray{str("x")}, FieldArray{ByteArray{"x"}}));
    CHECK_FALSE(
        value_matches(FieldArray{std::int32_t{1}}, FieldArray{std::int32_t{1}, std::int32_t{1}}));
    CHECK(value_matches(FieldTable{{"k", std::int32_t{1}}}, FieldTable{{"k", std::int32_t{1}}}));
    CHECK_FALSE(
        value_matches(FieldTable{{"k", std::int32_t{1}}}, FieldTable{{"k", std::int64_t{1}}}));
    CHECK_FALSE(
        value_matches(FieldTable{{"k", std::int32_t{1}}}, FieldTable{{"j", std::int32_t{1}}}));
    // Nested tables are not sorted: order matters.
    CHECK_FALSE(
        value_matches(FieldTable{{"a", true}, {"b", true}}, FieldTable{{"b", true}, {"a", true}}));
    // Both are the empty Erlang list.
    CHECK(value_matches(FieldArray{}, FieldTable{}));
    CHECK(value_matches(FieldTable{}, FieldArray{}));
    CHECK_FALSE(value_matches(FieldArray{}, str("")));
    CHECK(value_matches(FieldArray{FieldArray{std::int32_t{1}}},
                        FieldArray{FieldArray{std::int32_t{1}}}));
  }
}

TEST_CASE("headers: unsorted and duplicate names behave as in RabbitMQ's sorted merge",
          "[routing][headers]") {
  const FieldTable args{{"c", std::int32_t{3}}, {"a", std::int32_t{1}}};
  CHECK(matches(
      args, FieldTable{{"c", std::int32_t{3}}, {"b", std::int32_t{2}}, {"a", std::int32_t{1}}}));

  // The first header of a name is the one compared (stable sort)...
  CHECK_FALSE(matches(FieldTable{{"a", std::int32_t{1}}},
                      FieldTable{{"a", std::int32_t{2}}, {"a", std::int32_t{1}}}));
  CHECK(matches(FieldTable{{"a", std::int32_t{1}}},
                FieldTable{{"a", std::int32_t{1}}, {"a", std::int32_t{2}}}));
  // ...and each header is consumed by one argument: the second "a" argument
  // meets no header, so 'any' fails although a header equals it.
  CHECK_FALSE(
      matches(FieldTable{{"x-match", str("any")}, {"a", std::int32_t{1}}, {"a", std::int32_t{2}}},
              FieldTable{{"a", std::int32_t{2}}}));
  CHECK_FALSE(matches(FieldTable{{"a", std::int32_t{1}}, {"a", std::int32_t{1}}},
                      FieldTable{{"a", std::int32_t{1}}}));
  CHECK(matches(FieldTable{{"a", std::int32_t{1}}, {"a", std::int32_t{1}}},
                FieldTable{{"a", std::int32_t{1}}, {"a", std::int32_t{1}}}));
  // Non-ASCII names.
  CHECK(matches(FieldTable{{"\xc3\xa9", std::int32_t{1}}, {"z", std::int32_t{2}}},
                FieldTable{{"z", std::int32_t{2}}, {"\xc3\xa9", std::int32_t{1}}}));

  // Many headers, in reverse order.
  FieldTable many;
  for (int i = 99; i >= 0; --i)
    many.push_back({"h" + std::to_string(i), std::int32_t{i}});
  CHECK(matches(
      FieldTable{{"h7", std::int32_t{7}}, {"h70", std::int32_t{70}}, {"h0", std::int32_t{0}}},
      many));
  CHECK_FALSE(matches(FieldTable{{"h7", std::int32_t{7}}, {"h70", std::int32_t{71}}}, many));
}

TEST_CASE("headers: an invalid x-match value means all", "[routing][headers]") {
  const FieldTable args{
      {"x-match", std::int32_t{1}}, {"a", std::int32_t{1}}, {"b", std::int32_t{2}}};
  CHECK_FALSE(matches(args, FieldTable{{"a", std::int32_t{1}}}));
  CHECK(matches(args, FieldTable{{"a", std::int32_t{1}}, {"b", std::int32_t{2}}}));
  const FieldTable bogus{{"x-match", str("some")}, {"a", std::int32_t{1}}, {"b", std::int32_t{2}}};
  CHECK_FALSE(matches(bogus, FieldTable{{"a", std::int32_t{1}}}));
  // Only the first x-match counts.
  const FieldTable twice{{"x-match", str("any")},
                         {"x-match", str("all")},
                         {"a", std::int32_t{1}},
                         {"b", std::int32_t{2}}};
  CHECK(matches(twice, FieldTable{{"a", std::int32_t{1}}}));
}

TEST_CASE("headers routes every matching binding and ignores the key", "[routing][headers]") {
  auto table = make_headers_table();
  REQUIRE(table->bind(binding(queue(1), "", {{"format", str("pdf")}})));
  REQUIRE(table->bind(binding(
      queue(2), "k", {{"x-match", str("any")}, {"format", str("pdf")}, {"type", str("report")}})));
  REQUIRE(table->bind(binding(queue(3), "", {{"type", str("report")}})));
  REQUIRE(table->bind(binding(queue(4), "")));
  const FieldTable headers{{"type", str("report")}};
  CHECK(routed(*table, "whatever", &headers) ==
        std::vector<Destination>{queue(2), queue(3), queue(4)});
  REQUIRE(table->unbind(binding(
      queue(2), "k", {{"type", str("report")}, {"format", str("pdf")}, {"x-match", str("any")}})));
  CHECK(routed(*table, "", &headers) == std::vector<Destination>{queue(3), queue(4)});
  table->unbind_all(queue(4));
  CHECK(routed(*table, "", nullptr).empty());
}

TEST_CASE("validate_headers_binding follows RabbitMQ", "[routing][headers]") {
  CHECK_FALSE(validate_headers_binding(FieldTable{}));
  for (const char* kind : {"all", "any", "all-with-x", "any-with-x"}) {
    CHECK_FALSE(
        validate_headers_binding(FieldTable{{"a", std::int32_t{1}}, {"x-match", str(kind)}}));
  }
  auto bad_value = validate_headers_binding(FieldTable{{"x-match", str("ALL")}});
  REQUIRE(bad_value);
  CHECK(*bad_value ==
        "Invalid x-match field value <<\"ALL\">>; expected all, any, all-with-x, or any-with-x");
  auto bad_type = validate_headers_binding(FieldTable{{"x-match", ByteArray{"all"}}});
  REQUIRE(bad_type);
  CHECK(bad_type->find("binary") != std::string::npos);
}
