// to_json writes back what was parsed, and no input makes the parser crash or throw.
#include <gtest/gtest.h>

#include <random>

#include "job_spec_test_util.h"

namespace trainyard::jobs {
namespace {

using nlohmann::json;
using testing::spec_of;
using testing::testdata_json;
using testing::testdata_text;

TEST(JobSpecRoundTripTest, ParseOfToJsonGivesTheSameSpec) {
  for (const char* file : {"seed_job.json", "full_job.json", "serverless_job.json"}) {
    SCOPED_TRACE(file);
    const TrainingJobSpec spec = spec_of(testdata_text(file));
    const TrainingJobSpec again = spec_of(to_json(spec));
    EXPECT_EQ(again, spec);
  }
}

TEST(JobSpecRoundTripTest, ToJsonReproducesTheRequestDocument) {
  // Every member of these files is one the writer emits, so the documents come back whole.
  for (const char* file : {"seed_job.json", "full_job.json", "serverless_job.json"}) {
    SCOPED_TRACE(file);
    const json original = testdata_json(file);
    EXPECT_EQ(to_json(spec_of(original)), original) << to_json(spec_of(original)).dump(2);
  }
}

TEST(JobSpecRoundTripTest, EmptyOptionalContainersAreLeftOut) {
  json request = testdata_json("seed_job.json");
  request["HyperParameters"] = json::object();
  request["Tags"] = json::array();
  const json written = to_json(spec_of(request));
  EXPECT_FALSE(written.contains("HyperParameters"));
  EXPECT_FALSE(written.contains("Tags"));
  EXPECT_EQ(written, testdata_json("seed_job.json"));
}

// Random edits of a valid document must give a spec or violations, never a crash or an
// exception; a spec that comes out must survive the round trip.
TEST(JobSpecRoundTripTest, MutatedDocumentsNeverCrashTheParser) {
  const std::string original = testdata_text("full_job.json");
  const std::string alphabet = "{}[]\":,0123456789-.eE \\/nultrfaxs\x01\xC3\xA9\xFF\n";
  std::mt19937 random(20240601);
  auto pick = [&](size_t bound) {
    return std::uniform_int_distribution<size_t>(0, bound == 0 ? 0 : bound - 1)(random);
  };
  size_t parsed = 0, refused = 0;
  for (int round = 0; round < 1000; ++round) {
    std::string text = original;
    const int edits = 1 + static_cast<int>(pick(4));
    for (int e = 0; e < edits; ++e) {
      const size_t at = pick(text.size());
      switch (pick(4)) {
        case 0:
          text[at] = alphabet[pick(alphabet.size())];
          break;
        case 1:
          text.erase(at, 1 + pick(8));
          break;
        case 2:
          text.insert(at, 1, alphabet[pick(alphabet.size())]);
          break;
        default:
          text.insert(at, text.substr(pick(text.size()), pick(40)));
          break;
      }
    }
    ParseResult result = [&] {
      try {
        return parse_create_training_job(text);
      } catch (...) {
        ADD_FAILURE() << "the parser threw for: " << text;
        return ParseResult(ValidationErrors{});
      }
    }();
    if (result.ok()) {
      ++parsed;
      EXPECT_EQ(spec_of(to_json(result.spec())), result.spec());
    } else {
      ++refused;
      EXPECT_FALSE(result.errors().message().empty());
    }
  }
  EXPECT_GT(refused, 0u);
  EXPECT_EQ(parsed + refused, 1000u);
}

// Edits at the level of JSON values: every member replaced by values of every other type.
TEST(JobSpecRoundTripTest, EveryMemberWithEveryJsonTypeIsHandled) {
  const json original = testdata_json("full_job.json");
  const std::vector<json> replacements = {
      nullptr, -1, 4294967296LL, 1.25, "x", json::array({1}), json{{"Unknown", 1}}};
  std::vector<json::json_pointer> pointers;
  const json flat = original.flatten();
  for (const auto& [pointer, value] : flat.items()) {
    pointers.emplace_back(pointer);
  }
  for (const auto& pointer : pointers) {
    for (const json& replacement : replacements) {
      json request = original;
      request[pointer] = replacement;
      ParseResult result = parse_create_training_job(request.dump());
      if (result.ok()) {
        EXPECT_EQ(spec_of(to_json(result.spec())), result.spec()) << pointer.to_string();
      } else {
        EXPECT_FALSE(result.errors().empty());
      }
    }
  }
}

}  // namespace
}  // namespace trainyard::jobs
