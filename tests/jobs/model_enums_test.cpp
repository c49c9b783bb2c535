// The instance-type value sets, checked against the instance catalog kept in the repository
// (which lists SageMaker's training instance types independently of the model tables).
#include "jobs/model_enums.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <sstream>

#include "job_spec_test_util.h"

namespace trainyard::jobs {
namespace {

std::set<std::string> catalog_instance_types() {
  const std::string text = testing::read_text(testing::source_dir() / "src" / "platform" / "data" /
                                              "instance-catalog.csv");
  std::set<std::string> types;
  std::istringstream lines(text);
  std::string line;
  std::getline(lines, line);  // header
  while (std::getline(lines, line)) {
    if (!line.empty()) types.insert(line.substr(0, line.find(',')));
  }
  return types;
}

TEST(ModelEnumsTest, TrainingInstanceTypesMatchTheCatalog) {
  const auto& types = sagemaker_training_instance_types();
  // The reference counts 145 values in botocore 1.43's TrainingInstanceType.
  EXPECT_EQ(types.size(), 145u);
  const std::set<std::string> model(types.begin(), types.end());
  EXPECT_EQ(model.size(), types.size()) << "duplicate values";
  EXPECT_EQ(model, catalog_instance_types());
}

TEST(ModelEnumsTest, TrainyardAddsTheLocalTypesLast) {
  const auto& types = training_instance_types();
  ASSERT_EQ(types.size(), 147u);
  EXPECT_EQ(types[145], "local");
  EXPECT_EQ(types[146], "local_gpu");
  EXPECT_TRUE(is_local_instance_type("local_gpu"));
  EXPECT_FALSE(is_local_instance_type("ml.p2.xlarge"));
}

TEST(ModelEnumsTest, ProcessingTypesAreASeparateSet) {
  const auto& types = processing_instance_types();
  EXPECT_EQ(types.front(), "ml.t3.medium");
  EXPECT_NE(std::find(types.begin(), types.end(), "ml.m5.xlarge"), types.end());
  // Inference-only families never appear in either set.
  EXPECT_EQ(std::find(types.begin(), types.end(), "ml.inf1.xlarge"), types.end());
}

TEST(ModelEnumsTest, EnumSpellingsRoundTrip) {
  EXPECT_EQ(to_string(TrainingInputMode::kFastFile), "FastFile");
  EXPECT_EQ(enum_from_string<TrainingInputMode>("Pipe"), TrainingInputMode::kPipe);
  EXPECT_FALSE(enum_from_string<TrainingInputMode>("pipe"));
  EXPECT_EQ(to_string(OutputCompressionType::kGzip), "GZIP");
  EXPECT_EQ(to_string(CompressionType::kGzip), "Gzip");
  EXPECT_EQ(to_string(FileSystemType::kFsxLustre), "FSxLustre");
  EXPECT_EQ(to_string(EvaluationType::kLlmajEvaluation), "LLMAJEvaluation");
}

}  // namespace
}  // namespace trainyard::jobs
