// The closed value sets of CreateTrainingJobRequest, as C++ enums whose names are the model's
// spellings (EnumTraits<E>::names, in the model's order, which is also the enumerators' order).
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string_view>

namespace trainyard::jobs {

enum class TrainingInputMode { kPipe, kFile, kFastFile };
enum class S3DataType { kManifestFile, kS3Prefix, kAugmentedManifestFile, kConverse };
enum class S3DataDistribution { kFullyReplicated, kShardedByS3Key };
// Channel.CompressionType.
enum class CompressionType { kNone, kGzip };
enum class RecordWrapper { kNone, kRecordIO };
// OutputDataConfig.CompressionType.
enum class OutputCompressionType { kGzip, kNone };
enum class FileSystemAccessMode { kRw, kRo };
enum class FileSystemType { kEfs, kFsxLustre };
enum class TrainingRepositoryAccessMode { kPlatform, kVpc };
enum class ServerlessJobType { kFineTuning, kEvaluation };
enum class CustomizationTechnique { kSft, kDpo, kRlvr, kRlaif };
enum class Peft { kLora };
enum class EvaluationType { kLlmajEvaluation, kCustomScorerEvaluation, kBenchmarkEvaluation };

// EnumTraits<E>::names[i] is the wire spelling of the i-th enumerator; shape is the model's
// shape name (used in messages).
template <typename E>
struct EnumTraits;

#define TRAINYARD_JOBS_ENUM_TRAITS(Enum, ShapeName, ...)                          \
  template <>                                                                     \
  struct EnumTraits<Enum> {                                                       \
    static constexpr std::string_view shape = ShapeName;                          \
    static constexpr auto names = std::to_array<std::string_view>({__VA_ARGS__}); \
  }

TRAINYARD_JOBS_ENUM_TRAITS(TrainingInputMode, "TrainingInputMode", "Pipe", "File", "FastFile");
TRAINYARD_JOBS_ENUM_TRAITS(S3DataType, "S3DataType", "ManifestFile", "S3Prefix",
                           "AugmentedManifestFile", "Converse");
TRAINYARD_JOBS_ENUM_TRAITS(S3DataDistribution, "S3DataDistribution", "FullyReplicated",
                           "ShardedByS3Key");
TRAINYARD_JOBS_ENUM_TRAITS(CompressionType, "CompressionType", "None", "Gzip");
TRAINYARD_JOBS_ENUM_TRAITS(RecordWrapper, "RecordWrapper", "None", "RecordIO");
TRAINYARD_JOBS_ENUM_TRAITS(OutputCompressionType, "OutputCompressionType", "GZIP", "NONE");
TRAINYARD_JOBS_ENUM_TRAITS(FileSystemAccessMode, "FileSystemAccessMode", "rw", "ro");
TRAINYARD_JOBS_ENUM_TRAITS(FileSystemType, "FileSystemType", "EFS", "FSxLustre");
TRAINYARD_JOBS_ENUM_TRAITS(TrainingRepositoryAccessMode, "TrainingRepositoryAccessMode", "Platform",
                           "Vpc");
TRAINYARD_JOBS_ENUM_TRAITS(ServerlessJobType, "ServerlessJobType", "FineTuning", "Evaluation");
TRAINYARD_JOBS_ENUM_TRAITS(CustomizationTechnique, "CustomizationTechnique", "SFT", "DPO", "RLVR",
                           "RLAIF");
TRAINYARD_JOBS_ENUM_TRAITS(Peft, "Peft", "LORA");
TRAINYARD_JOBS_ENUM_TRAITS(EvaluationType, "EvaluationType", "LLMAJEvaluation",
                           "CustomScorerEvaluation", "BenchmarkEvaluation");

#undef TRAINYARD_JOBS_ENUM_TRAITS

// The wire spelling of `value` ("File", "ShardedByS3Key", ...).
template <typename E>
constexpr std::string_view to_string(E value) {
  return EnumTraits<E>::names[static_cast<size_t>(value)];
}

// The enumerator spelled `text` (case-sensitive, as AWS compares), or nullopt.
template <typename E>
constexpr std::optional<E> enum_from_string(std::string_view text) {
  const auto& names = EnumTraits<E>::names;
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] == text) return static_cast<E>(i);
  }
  return std::nullopt;
}

}  // namespace trainyard::jobs
