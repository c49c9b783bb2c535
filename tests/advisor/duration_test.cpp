#include "advisor/duration.h"

#include <gtest/gtest.h>

#include "core/error.h"

namespace trainyard::advisor {
namespace {

TEST(DurationTest, AcceptsHoursMinutesSecondsInOrder) {
  EXPECT_DOUBLE_EQ(parse_duration("2h"), 7200);
  EXPECT_DOUBLE_EQ(parse_duration("90m"), 5400);
  EXPECT_DOUBLE_EQ(parse_duration("1h30m"), 5400);
  EXPECT_DOUBLE_EQ(parse_duration("45s"), 45);
  EXPECT_DOUBLE_EQ(parse_duration("1h30m15s"), 5415);
  EXPECT_DOUBLE_EQ(parse_duration("1.5h"), 5400);
}

TEST(DurationTest, RejectsOtherFormsNamingThem) {
  for (const char* bad : {"", "2", "2x", "h", "30m1h", "1h1h", "-1h", "0m", "2 h", "1..5h"}) {
    try {
      parse_duration(bad);
      ADD_FAILURE() << "'" << bad << "' was accepted";
    } catch (const ValueError& error) {
      EXPECT_NE(std::string(error.what()).find("'" + std::string(bad) + "'"), std::string::npos)
          << error.what();
    }
  }
}

TEST(DurationTest, FormatsForTables) {
  EXPECT_EQ(format_duration(5415), "1h 30m");
  EXPECT_EQ(format_duration(725), "12m 05s");
  EXPECT_EQ(format_duration(42), "42s");
  EXPECT_EQ(format_duration(2.5), "2.5s");
  EXPECT_EQ(format_duration(0.25), "250ms");
  EXPECT_EQ(format_duration(4e-6), "4us");
}

}  // namespace
}  // namespace trainyard::advisor
