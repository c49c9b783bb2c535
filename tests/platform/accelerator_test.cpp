#include "platform/accelerator.h"

#include <gtest/gtest.h>

#include "core/error.h"
#include "platform/edit_distance.h"

namespace trainyard::platform {
namespace {

TEST(ComputeCapabilityTest, ParsesAndOrders) {
  EXPECT_EQ(ComputeCapability::parse("8.6"), (ComputeCapability{8, 6}));
  EXPECT_EQ(ComputeCapability::parse("10.0").to_string(), "10.0");
  EXPECT_LT(ComputeCapability::parse("7.5"), ComputeCapability::parse("8.0"));
  EXPECT_LT(ComputeCapability::parse("9.0"), ComputeCapability::parse("10.0"));
  for (const char* bad : {"", "8", "8.", ".6", "8.6.1", "a.b", "-1.0", "n/a"}) {
    EXPECT_THROW(ComputeCapability::parse(bad), ValueError) << bad;
  }
}

TEST(AcceleratorModelTest, MatchesWholeWordsIgnoringCase) {
  AcceleratorModel k80{.name = "NVIDIA Tesla K80 (GK210)"};
  EXPECT_TRUE(k80.matches("K80"));
  EXPECT_TRUE(k80.matches("tesla k80"));
  EXPECT_TRUE(k80.matches("GK210"));
  EXPECT_FALSE(k80.matches("K8"));
  EXPECT_FALSE(k80.matches(""));
  AcceleratorModel l40s{.name = "NVIDIA L40S"};
  EXPECT_FALSE(l40s.matches("L4"));
  EXPECT_EQ(accelerator_kind_name(AcceleratorKind::kNvidiaGpu), "nvidia_gpu");
  EXPECT_EQ(accelerator_kind_name(AcceleratorKind::kNone), "none");
}

TEST(EditDistanceTest, CountsSingleCharacterEdits) {
  EXPECT_EQ(edit_distance("", ""), 0u);
  EXPECT_EQ(edit_distance("abc", ""), 3u);
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(edit_distance("flaw", "lawn"), 2u);
  EXPECT_EQ(edit_distance("ML.G5.XLARGE", "ml.g5.xlarge"), 0u);
  EXPECT_EQ(edit_distance("ml.g5.xlarge", "ml.g5.2xlarge"), 1u);
}

TEST(EditDistanceTest, ClosestNamesAreNearestFirstAndStableOnTies) {
  std::vector<std::string> names = {"gamma", "alpha", "alphb", "beta"};
  EXPECT_EQ(closest_names("alphx", names, 2), (std::vector<std::string>{"alpha", "alphb"}));
  EXPECT_EQ(closest_names("beta", names, 1), (std::vector<std::string>{"beta"}));
  EXPECT_EQ(closest_names("x", names, 10).size(), 4u);
  EXPECT_TRUE(closest_names("x", {}, 3).empty());
}

}  // namespace
}  // namespace trainyard::platform
