// The JSON module (nlohmann/json with our helpers): nesting, escapes and nulls in dumps
// (formerly daemon/http's JsonWriter test), the <script>-safe dump, quoting, invalid UTF-8,
// and parse errors that name what is wrong.
#include "engine/nn/json.h"

#include <gtest/gtest.h>

#include <cmath>
#include <optional>
#include <string>

namespace petabox::nn::json {
namespace {

bool Has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST(JsonTest, NestingEscapesAndNulls) {
  Json j = {{"s", "a\"b\\c\n<"}, {"n", nullptr}, {"d", 0.5}, {"i", int64_t{-3}}, {"b", true}, {"nan", std::nan("")}};
  j["a"] = {1, Json::object(), Json::array()};
  EXPECT_EQ(DumpForHtml(j), R"({"s":"a\"b\\c\n\u003c","n":null,"d":0.5,"i":-3,"b":true,"nan":null,"a":[1,{},[]]})");
}

TEST(JsonTest, DumpForHtmlLeavesNoTagBoundaries) {
  Json j = {{"</script><script>alert(1)</script>", "<!-- x -->"}};
  std::string text = DumpForHtml(j);
  EXPECT_FALSE(Has(text, "<"));
  EXPECT_FALSE(Has(text, ">"));
  StatusOr<Json> back = Parse(text);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, j);
  EXPECT_EQ(Dump(j), R"({"</script><script>alert(1)</script>":"<!-- x -->"})");
}

TEST(JsonTest, QuoteEscapesAndReplacesInvalidUtf8) {
  EXPECT_EQ(Quote("plain"), "\"plain\"");
  EXPECT_EQ(Quote("q\"b\\n\n\t\x01"), R"("q\"b\\n\n\t\u0001")");
  EXPECT_EQ(Quote("h\xc3\xa9"), "\"h\xc3\xa9\"");  // UTF-8 is kept as it is
  EXPECT_EQ(Quote("bad\xff"), "\"bad\xef\xbf\xbd\"");  // U+FFFD, never an exception
  EXPECT_TRUE(IsUtf8("h\xc3\xa9"));
  EXPECT_FALSE(IsUtf8("bad\xff"));
  EXPECT_FALSE(IsUtf8("\xc3"));  // truncated sequence
}

TEST(JsonTest, ObjectsKeepDocumentOrder) {
  StatusOr<Json> j = Parse(R"({"z":1,"a":2,"m":3})");
  ASSERT_TRUE(j.ok()) << j.status().ToString();
  EXPECT_EQ(Dump(*j), R"({"z":1,"a":2,"m":3})");
}

TEST(JsonTest, NonNegativeIntegersAreExact) {
  EXPECT_EQ(AsNonNegativeInt(*Parse("9007199254740993")), 9007199254740993);  // 2^53 + 1
  EXPECT_EQ(AsNonNegativeInt(*Parse("9223372036854775807")), INT64_MAX);
  EXPECT_EQ(AsNonNegativeInt(*Parse("0")), 0);
  for (const char* text : {"-1", "-0", "1.0", "1e3", "9223372036854775808", "\"5\"", "null", "[1]"}) {
    StatusOr<Json> j = Parse(text);
    ASSERT_TRUE(j.ok()) << text;
    EXPECT_EQ(AsNonNegativeInt(*j), std::nullopt) << text;
  }
}

struct BadJson {
  const char* text;
  const char* message_has;
};

TEST(JsonTest, MalformedInputIsAClearError) {
  const std::string deep = std::string(kMaxDepth + 1, '[') + std::string(kMaxDepth + 1, ']');
  const BadJson cases[] = {
      {"", "JSON syntax error at byte 1"},
      {"{\"a\":1,}", "JSON syntax error at byte 8 (line 1, column 8)"},
      {"{\"a\":1", "unexpected end of input"},
      {"[1 2]", "expected ']'"},
      {"{\"a\":tru}", "invalid literal"},
      {"\"ab", "missing closing quote"},
      {"{\"a\":1} x", "expected end of input"},
      {"\"\xff\"", "ill-formed UTF-8"},
      {"{\"k\":1,\"k\":2}", "JSON syntax error: duplicate key \"k\""},
      {"{\"o\":{\"k\":1},\"p\":{\"k\":1,\"k\":[]}}", "duplicate key \"k\""},
      {deep.c_str(), "nesting deeper than 64"},
  };
  for (const BadJson& c : cases) {
    StatusOr<Json> j = Parse(c.text);
    ASSERT_FALSE(j.ok()) << c.text;
    EXPECT_EQ(j.status().code(), StatusCode::kInvalidArgument) << c.text;
    EXPECT_TRUE(Has(j.status().message(), c.message_has)) << c.text << ": " << j.status().message();
  }
  // The same keys in different objects, and nesting at the limit, are fine.
  EXPECT_TRUE(Parse(R"({"o":{"k":1},"p":{"k":1}})").ok());
  EXPECT_TRUE(Parse(std::string(kMaxDepth, '[') + std::string(kMaxDepth, ']')).ok());
}

}  // namespace
}  // namespace petabox::nn::json
