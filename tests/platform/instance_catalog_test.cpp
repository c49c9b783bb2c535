#include "platform/instance_catalog.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "core/error.h"
#include "platform/fake_gpu_inventory.h"

namespace trainyard::platform {
namespace {

// The reference fact sheet, read here with a reader of the test's own so that the catalog
// is checked against the file rather than against itself.
using Row = std::map<std::string, std::string>;

std::optional<std::filesystem::path> reference_csv_path() {
  std::vector<std::filesystem::path> candidates = {"/work/shared/reference/instance-catalog.csv"};
  if (const char* source = std::getenv("TRAINYARD_SOURCE_DIR")) {
    candidates.push_back(std::filesystem::path(source) / ".." / "shared" / "reference" /
                         "instance-catalog.csv");
  }
  for (const auto& path : candidates) {
    if (std::filesystem::exists(path)) return path;
  }
  return std::nullopt;
}

std::vector<Row> read_reference_rows(const std::filesystem::path& path) {
  std::ifstream file(path);
  std::stringstream buffer;
  buffer << file.rdbuf();
  std::string text = buffer.str();
  std::vector<std::vector<std::string>> records(1);
  std::string field;
  bool quoted = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      records.back().push_back(field);
      field.clear();
    } else if (c == '\n') {
      records.back().push_back(field);
      field.clear();
      records.emplace_back();
    } else if (c != '\r') {
      field += c;
    }
  }
  if (!field.empty()) records.back().push_back(field);
  std::vector<Row> rows;
  for (std::size_t r = 1; r < records.size(); ++r) {
    if (records[r].empty()) continue;
    Row row;
    for (std::size_t c = 0; c < records[0].size() && c < records[r].size(); ++c) {
      row[records[0][c]] = records[r][c];
    }
    rows.push_back(row);
  }
  return rows;
}

#define REQUIRE_REFERENCE_ROWS(rows)                                                  \
  auto path_ = reference_csv_path();                                                  \
  if (!path_) {                                                                       \
    GTEST_SKIP() << "reference instance-catalog.csv not found under /work/shared or " \
                    "$TRAINYARD_SOURCE_DIR/../shared; nothing to compare against";    \
  }                                                                                   \
  auto rows = read_reference_rows(*path_)

std::optional<double> optional_number(const std::string& text) {
  if (text.empty()) return std::nullopt;
  return std::strtod(text.c_str(), nullptr);
}

TEST(InstanceCatalogTest, EveryReferenceRowIsCatalogedWithTheSameFacts) {
  REQUIRE_REFERENCE_ROWS(rows);
  ASSERT_GT(rows.size(), 100u);
  const InstanceCatalog& catalog = InstanceCatalog::builtin();
  EXPECT_EQ(catalog.all().size(), rows.size() + 2);  // + local and local_gpu
  for (const Row& row : rows) {
    const std::string& name = row.at("instance_type");
    SCOPED_TRACE(name);
    const InstanceType* type = catalog.find(name);
    ASSERT_NE(type, nullptr);
    EXPECT_FALSE(type->local);
    EXPECT_EQ(type->vcpus, optional_number(row.at("vcpus")));
    EXPECT_EQ(type->memory_gib, optional_number(row.at("memory_gib")));
    auto count = optional_number(row.at("accelerator_count"));
    EXPECT_EQ(type->accelerator_count, count);
    EXPECT_EQ(type->accelerator_model, row.at("accelerator_model"));
    EXPECT_EQ(type->accelerator_memory_gib, optional_number(row.at("accelerator_memory_gib_each")));
    EXPECT_EQ(type->accelerator_architecture, row.at("accelerator_arch"));
    const std::string& capability = row.at("compute_capability");
    if (capability.empty() || capability == "n/a") {
      EXPECT_FALSE(type->compute_capability.has_value());
    } else {
      ASSERT_TRUE(type->compute_capability.has_value());
      EXPECT_EQ(type->compute_capability->to_string(), capability);
    }
    // An unknown price stays unknown, never 0.
    EXPECT_EQ(type->price_usd_per_hour, optional_number(row.at("price_usd_per_hour_us_east_1")));
    EXPECT_EQ(type->price_source, row.at("price_source"));
    EXPECT_EQ(type->network_gbps, row.at("network_gbps"));
    EXPECT_EQ(type->interconnect, row.at("interconnect"));
    EXPECT_EQ(type->notes, row.at("notes"));
    const std::string& model = row.at("accelerator_model");
    AcceleratorKind expected_kind = model.empty()               ? AcceleratorKind::kNone
                                    : model.find("NVIDIA") == 0 ? AcceleratorKind::kNvidiaGpu
                                    : model.find("Trainium") != std::string::npos
                                        ? AcceleratorKind::kTrainium
                                        : AcceleratorKind::kInferentia;
    EXPECT_EQ(type->accelerator_kind, expected_kind);
  }
}

TEST(InstanceCatalogTest, SpotFacts) {
  const InstanceCatalog& catalog = InstanceCatalog::builtin();
  const InstanceType& p2 = catalog.require("ml.p2.xlarge");
  EXPECT_EQ(p2.family, "p2");
  EXPECT_EQ(p2.gpu_count(), 1);
  EXPECT_NE(p2.accelerator_model.find("K80"), std::string::npos);
  EXPECT_EQ(p2.accelerator_memory_gib, 12.0);
  EXPECT_EQ(p2.compute_capability, (ComputeCapability{3, 7}));

  const InstanceType& g5 = catalog.require("ml.g5.xlarge");
  EXPECT_EQ(g5.gpu_count(), 1);
  EXPECT_EQ(g5.accelerator_model, "NVIDIA A10G");
  EXPECT_EQ(g5.accelerator_memory_gib, 24.0);
  EXPECT_EQ(g5.compute_capability, (ComputeCapability{8, 6}));
  EXPECT_EQ(g5.vcpus, 4);

  const InstanceType& p4d = catalog.require("ml.p4d.24xlarge");
  EXPECT_EQ(p4d.gpu_count(), 8);
  EXPECT_NE(p4d.accelerator_model.find("A100"), std::string::npos);
  EXPECT_EQ(p4d.accelerator_memory_gib, 40.0);
  EXPECT_EQ(p4d.compute_capability, (ComputeCapability{8, 0}));
  EXPECT_FALSE(p4d.price_usd_per_hour.has_value());

  const InstanceType& trn = catalog.require("ml.trn1.32xlarge");
  EXPECT_EQ(trn.accelerator_kind, AcceleratorKind::kTrainium);
  EXPECT_EQ(trn.accelerator_count, 16);
  EXPECT_EQ(trn.gpu_count(), 0);
  EXPECT_FALSE(trn.compute_capability.has_value());

  const InstanceType& m5 = catalog.require("ml.m5.large");
  EXPECT_EQ(m5.accelerator_kind, AcceleratorKind::kNone);
  EXPECT_EQ(m5.gpu_count(), 0);
  ASSERT_TRUE(m5.price_usd_per_hour.has_value());
  EXPECT_DOUBLE_EQ(*m5.price_usd_per_hour, 0.115);

  EXPECT_EQ(catalog.require("ml.p6-b200.48xlarge").family, "p6-b200");
  // The catalog does not know how many GPUs this size has; it must not guess.
  EXPECT_FALSE(catalog.require("ml.g7e.12xlarge").gpu_count().has_value());
}

TEST(InstanceCatalogTest, LocalModeTypesComeLastAndAreMarkedLocal) {
  const auto& all = InstanceCatalog::builtin().all();
  ASSERT_GE(all.size(), 2u);
  EXPECT_EQ(all[all.size() - 2].name, "local");
  EXPECT_EQ(all.back().name, "local_gpu");
  EXPECT_TRUE(all.back().local);
  EXPECT_TRUE(all.back().has_nvidia_gpus());
  EXPECT_FALSE(all.back().vcpus.has_value());
  EXPECT_EQ(all[all.size() - 2].gpu_count(), 0);
}

TEST(InstanceCatalogTest, FiltersAgreeWithTheReference) {
  REQUIRE_REFERENCE_ROWS(rows);
  std::size_t nvidia = 0, at_least_40 = 0, at_least_80 = 0;
  for (const Row& row : rows) {
    if (row.at("accelerator_model").rfind("NVIDIA", 0) != 0) continue;
    ++nvidia;
    auto memory = optional_number(row.at("accelerator_memory_gib_each"));
    if (memory && *memory >= 40) ++at_least_40;
    if (memory && *memory >= 80) ++at_least_80;
  }
  const InstanceCatalog& catalog = InstanceCatalog::builtin();
  auto gpu_types = catalog.filter({.gpu_only = true});
  EXPECT_EQ(gpu_types.size(), nvidia + 1);  // + local_gpu, whose GPUs are the host's
  for (const InstanceType* type : gpu_types) EXPECT_TRUE(type->has_nvidia_gpus()) << type->name;

  auto big = catalog.filter({.gpu_only = true, .min_gpu_memory_gib = 40});
  EXPECT_EQ(big.size(), at_least_40);
  for (const InstanceType* type : big) EXPECT_GE(*type->accelerator_memory_gib, 40.0);
  EXPECT_EQ(catalog.filter({.min_gpu_memory_gib = 80}).size(), at_least_80);
  EXPECT_EQ(catalog.filter({}).size(), catalog.all().size());
}

TEST(InstanceCatalogTest, UnknownTypeSuggestsTheClosestNames) {
  const InstanceCatalog& catalog = InstanceCatalog::builtin();
  EXPECT_EQ(catalog.find("ml.p4d.24xlarg"), nullptr);
  try {
    catalog.require("ml.p4d.24xlarg");
    FAIL() << "expected ValueError";
  } catch (const ValueError& error) {
    std::string message = error.what();
    EXPECT_NE(message.find("unknown instance type 'ml.p4d.24xlarg'"), std::string::npos);
    EXPECT_NE(message.find("did you mean ml.p4d.24xlarge"), std::string::npos) << message;
  }
  auto near = catalog.closest_names("p3.2xlarge", 1);
  ASSERT_EQ(near.size(), 1u);
  EXPECT_EQ(near[0], "ml.p3.2xlarge");
  EXPECT_EQ(catalog.closest_names("ml.g5.xlarg", 3).front(), "ml.g5.xlarge");
}

TEST(InstanceCatalogTest, AcceleratorModelsByNameOrWords) {
  const InstanceCatalog& catalog = InstanceCatalog::builtin();
  EXPECT_EQ(catalog.require_accelerator_model("A10G").compute_capability,
            (ComputeCapability{8, 6}));
  EXPECT_EQ(catalog.require_accelerator_model("k80").memory_gib, 12.0);
  EXPECT_EQ(catalog.require_accelerator_model("A100 80GB").memory_gib, 80.0);
  EXPECT_EQ(catalog.require_accelerator_model("L4").name, "NVIDIA L4");  // not the L40S
  EXPECT_EQ(catalog.require_accelerator_model("nvidia h200 141gb").compute_capability,
            (ComputeCapability{9, 0}));
  try {
    catalog.require_accelerator_model("A100");
    FAIL() << "expected ValueError";
  } catch (const ValueError& error) {
    std::string message = error.what();
    EXPECT_NE(message.find("ambiguous"), std::string::npos) << message;
    EXPECT_NE(message.find("A100 SXM4 40GB"), std::string::npos) << message;
    EXPECT_NE(message.find("A100 SXM4 80GB"), std::string::npos) << message;
  }
  try {
    catalog.require_accelerator_model("A10");
    FAIL() << "expected ValueError";
  } catch (const ValueError& error) {
    std::string message = error.what();
    EXPECT_NE(message.find("unknown accelerator model 'A10'"), std::string::npos) << message;
    EXPECT_NE(message.find("NVIDIA A10G"), std::string::npos) << message;
  }
  // Every model appears once, whatever the number of rows that mention it.
  std::set<std::string> names;
  for (const AcceleratorModel& model : catalog.accelerator_models()) {
    EXPECT_TRUE(names.insert(model.name).second) << model.name;
  }
  std::set<std::string> mentioned;
  for (const InstanceType& type : catalog.all()) {
    if (!type.accelerator_model.empty()) mentioned.insert(type.accelerator_model);
  }
  EXPECT_EQ(names, mentioned);
}

TEST(InstanceCatalogTest, ResolvesLocalModeFromTheHost) {
  const InstanceCatalog& catalog = InstanceCatalog::builtin();
  HostResources host{.vcpus = 16, .memory_gib = 62.5};
  auto eight_a10g = FakeGpuInventory::of("A10G", 8);

  InstanceType local = catalog.resolve("local", host, eight_a10g);
  EXPECT_EQ(local.vcpus, 16);
  EXPECT_EQ(local.memory_gib, 62.5);
  EXPECT_EQ(local.gpu_count(), 0);

  InstanceType local_gpu = catalog.resolve("local_gpu", host, eight_a10g);
  EXPECT_EQ(local_gpu.gpu_count(), 8);
  EXPECT_EQ(local_gpu.accelerator_model, "NVIDIA A10G");
  ASSERT_TRUE(local_gpu.accelerator_memory_gib.has_value());
  EXPECT_DOUBLE_EQ(*local_gpu.accelerator_memory_gib, 24.0);
  EXPECT_EQ(local_gpu.compute_capability, (ComputeCapability{8, 6}));
  EXPECT_FALSE(local_gpu.price_usd_per_hour.has_value());
  EXPECT_TRUE((InstanceFilter{.gpu_only = true, .min_gpu_memory_gib = 24}.matches(local_gpu)));
  EXPECT_FALSE(InstanceFilter{.min_gpu_memory_gib = 40}.matches(local_gpu));

  // A mixed host is described by its weakest GPU, the limit a job has to fit.
  auto t4 = FakeGpuInventory::of("T4", 1).gpus().front();
  auto a10g = FakeGpuInventory::of("A10G", 1).gpus().front();
  a10g.index = 1;
  FakeGpuInventory mixed({t4, a10g});
  InstanceType mixed_gpu = catalog.resolve("local_gpu", host, mixed);
  EXPECT_EQ(mixed_gpu.gpu_count(), 2);
  EXPECT_EQ(mixed_gpu.accelerator_model, "NVIDIA T4 + NVIDIA A10G");
  EXPECT_DOUBLE_EQ(*mixed_gpu.accelerator_memory_gib, 16.0);
  EXPECT_EQ(mixed_gpu.compute_capability, (ComputeCapability{7, 5}));

  auto none = FakeGpuInventory::without_gpus("no NVIDIA driver found");
  InstanceType no_gpu = catalog.resolve("local_gpu", host, none);
  EXPECT_EQ(no_gpu.gpu_count(), 0);
  EXPECT_FALSE(InstanceFilter{.gpu_only = true}.matches(no_gpu));

  InstanceType g5 = catalog.resolve("ml.g5.xlarge", host, eight_a10g);
  EXPECT_EQ(g5.vcpus, 4);  // catalogued types are not the host
  EXPECT_THROW(catalog.resolve("ml.nope", host, eight_a10g), ValueError);
}

// A one-row catalog in the reference layout, with `row` as its only data line.
std::string csv_with_row(const std::string& row) {
  return "instance_type,vcpus,memory_gib,accelerator_count,accelerator_model,"
         "accelerator_memory_gib_each,accelerator_arch,compute_capability,interconnect,"
         "network_gbps,price_usd_per_hour_us_east_1,price_source,notes\n" +
         row + "\n";
}

std::string data_error_of(const std::string& csv) {
  try {
    InstanceCatalog::from_csv(csv, "test.csv");
  } catch (const DataError& error) {
    return error.what();
  }
  return "no error";
}

TEST(InstanceCatalogTest, ParsesQuotedFieldsAndCrlf) {
  auto catalog = InstanceCatalog::from_csv(
      csv_with_row("ml.x1.large,2,8,1,NVIDIA T4,16,Turing,7.5,\"PCIe, one \"\"GPU\"\"\",up to 5,"
                   "0.5,somewhere,\"two\nlines\"\r"),
      "test.csv");
  const InstanceType& type = catalog.require("ml.x1.large");
  EXPECT_EQ(type.interconnect, "PCIe, one \"GPU\"");
  EXPECT_EQ(type.notes, "two\nlines");
  EXPECT_EQ(type.price_usd_per_hour, 0.5);
  EXPECT_EQ(catalog.all().size(), 3u);
}

TEST(InstanceCatalogTest, BadRowsAreRejectedWithTheirPlace) {
  std::string message = data_error_of(csv_with_row("ml.x.large,two,8,0,,,,,,,,unknown,"));
  EXPECT_NE(message.find("test.csv line 2, column vcpus: 'two'"), std::string::npos) << message;

  message = data_error_of(csv_with_row("ml.x.large,2,8,0,,,,,,,0,unknown,"));
  EXPECT_NE(message.find("price_usd_per_hour_us_east_1"), std::string::npos) << message;

  message = data_error_of(csv_with_row("ml.x.large,2,8,1,Intel Gaudi,96,,,,,,unknown,"));
  EXPECT_NE(message.find("column accelerator_model"), std::string::npos) << message;

  message = data_error_of(csv_with_row("ml.x.large,2,8,1,NVIDIA T4,16,Turing,7-5,,,,unknown,"));
  EXPECT_NE(message.find("column compute_capability"), std::string::npos) << message;

  message = data_error_of(csv_with_row("ml.x.large,2,8,0,,,,,,,,unknown"));
  EXPECT_NE(message.find("12 fields, but the header has 13"), std::string::npos) << message;

  message = data_error_of(csv_with_row("ml.x.large,2,8,0,,,,,,,,unknown,\"open"));
  EXPECT_NE(message.find("never closed"), std::string::npos) << message;

  message = data_error_of(
      csv_with_row("ml.x.large,2,8,0,,,,,,,,unknown,\nml.x.large,2,8,0,,,,,,,,unknown,"));
  EXPECT_NE(message.find("line 3: instance type 'ml.x.large' is listed twice"), std::string::npos)
      << message;

  message =
      data_error_of(csv_with_row("ml.a.large,2,8,1,NVIDIA T4,16,Turing,7.5,,,,unknown,\n"
                                 "ml.b.large,2,8,1,NVIDIA T4,16,Turing,8.0,,,,unknown,"));
  EXPECT_NE(message.find("compute capability 8.0, but an earlier row gives 7.5"), std::string::npos)
      << message;

  message =
      data_error_of(csv_with_row("ml.a.large,2,8,1,NVIDIA T4,16,Turing,7.5,,,,unknown,\n"
                                 "ml.b.large,2,8,1,NVIDIA T4,15.5,Turing,7.5,,,,unknown,"));
  EXPECT_NE(message.find("memory 15.5, but an earlier row gives 16"), std::string::npos) << message;

  message = data_error_of(csv_with_row("local,2,8,0,,,,,,,,unknown,"));
  EXPECT_NE(message.find("reserved for SageMaker local mode"), std::string::npos) << message;

  message = data_error_of("instance_type,vcpus\nml.x.large,2\n");
  EXPECT_NE(message.find("line 1: the header has no 'memory_gib' column"), std::string::npos)
      << message;
  EXPECT_NE(data_error_of(""), "no error");
}

TEST(InstanceFamilyTest, TakesTheMiddlePart) {
  EXPECT_EQ(instance_family("ml.g5.xlarge"), "g5");
  EXPECT_EQ(instance_family("ml.p6-b200.48xlarge"), "p6-b200");
  EXPECT_EQ(instance_family("local_gpu"), "local_gpu");
  EXPECT_EQ(instance_family("ml.broken"), "ml.broken");
}

}  // namespace
}  // namespace trainyard::platform
