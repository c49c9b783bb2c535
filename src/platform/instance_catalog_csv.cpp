// InstanceCatalog::from_csv: the catalog's CSV layout (RFC 4180 quoting, columns found by
// header name) turned into InstanceType rows, every field checked.
#include <charconv>
#include <map>

#include "core/error.h"
#include "platform/instance_catalog.h"

namespace trainyard::platform {
namespace {

struct CsvRecord {
  int line = 0;  // 1-based line where the record starts
  std::vector<std::string> fields;
};

std::vector<CsvRecord> read_csv_records(std::string_view text, std::string_view source_name) {
  std::vector<CsvRecord> records;
  CsvRecord record;
  std::string field;
  int line = 1;
  record.line = line;
  std::size_t i = 0;
  auto end_record = [&] {
    record.fields.push_back(std::move(field));
    field.clear();
    bool blank = record.fields.size() == 1 && record.fields[0].empty();
    if (!blank) records.push_back(std::move(record));
    record = CsvRecord{};
    record.line = line;
  };
  while (i < text.size()) {
    char c = text[i];
    if (c == '"' && field.empty()) {
      int quote_line = line;
      ++i;
      while (true) {
        if (i >= text.size()) {
          throw DataError(std::string(source_name) + " line " + std::to_string(quote_line) +
                          ": quoted field is never closed");
        }
        if (text[i] == '"') {
          if (i + 1 < text.size() && text[i + 1] == '"') {
            field.push_back('"');
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        if (text[i] == '\n') ++line;
        field.push_back(text[i++]);
      }
      if (i < text.size() && text[i] != ',' && text[i] != '\n' && text[i] != '\r') {
        throw DataError(std::string(source_name) + " line " + std::to_string(line) +
                        ": unexpected text after a closing quote");
      }
      continue;
    }
    if (c == ',') {
      record.fields.push_back(std::move(field));
      field.clear();
    } else if (c == '\n') {
      ++line;
      end_record();
    } else if (c != '\r') {
      field.push_back(c);
    }
    ++i;
  }
  if (!field.empty() || !record.fields.empty()) end_record();
  return records;
}

// Reads one row's fields by column name and parses them, naming the place on error.
class RowReader {
 public:
  RowReader(const std::map<std::string, std::size_t>& columns, const CsvRecord& record,
            std::string_view source_name)
      : columns_(columns), record_(record), source_name_(source_name) {}

  const std::string& text(const std::string& column) const {
    return record_.fields[columns_.at(column)];
  }

  std::optional<double> number(const std::string& column) const {
    const std::string& value = text(column);
    if (value.empty()) return std::nullopt;
    double result = 0;
    auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), result);
    if (error != std::errc() || end != value.data() + value.size() || result < 0) {
      fail(column, "'" + value + "' is not a non-negative number");
    }
    return result;
  }

  std::optional<int> count(const std::string& column) const {
    const std::string& value = text(column);
    if (value.empty()) return std::nullopt;
    int result = 0;
    auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), result);
    if (error != std::errc() || end != value.data() + value.size() || result < 0) {
      fail(column, "'" + value + "' is not a non-negative integer");
    }
    return result;
  }

  [[noreturn]] void fail(const std::string& column, const std::string& message) const {
    throw DataError(std::string(source_name_) + " line " + std::to_string(record_.line) +
                    ", column " + column + ": " + message);
  }

 private:
  const std::map<std::string, std::size_t>& columns_;
  const CsvRecord& record_;
  std::string_view source_name_;
};

// The kind of device a model name describes, or nullopt for a vendor trainyard does not know.
std::optional<AcceleratorKind> accelerator_kind_of(const std::string& model) {
  if (model.empty()) return AcceleratorKind::kNone;
  if (model.starts_with("NVIDIA ")) return AcceleratorKind::kNvidiaGpu;
  if (model.find("Trainium") != std::string::npos) return AcceleratorKind::kTrainium;
  if (model.find("Inferentia") != std::string::npos) return AcceleratorKind::kInferentia;
  return std::nullopt;
}

InstanceType parse_row(const RowReader& row) {
  InstanceType type;
  type.name = row.text("instance_type");
  if (type.name.empty()) row.fail("instance_type", "the name is empty");
  if (type.name == kLocalInstanceType || type.name == kLocalGpuInstanceType) {
    row.fail("instance_type", "'" + type.name + "' is reserved for SageMaker local mode");
  }
  type.family = instance_family(type.name);
  type.vcpus = row.count("vcpus");
  type.memory_gib = row.number("memory_gib");
  type.accelerator_count = row.count("accelerator_count");
  type.accelerator_model = row.text("accelerator_model");
  auto kind = accelerator_kind_of(type.accelerator_model);
  if (!kind) {
    row.fail("accelerator_model",
             "'" + type.accelerator_model + "' is not an NVIDIA, Trainium or Inferentia device");
  }
  type.accelerator_kind = *kind;
  if (type.accelerator_model.empty() && type.accelerator_count.value_or(0) != 0) {
    row.fail("accelerator_model",
             "empty, but accelerator_count is " + std::to_string(*type.accelerator_count));
  }
  if (!type.accelerator_model.empty() && type.accelerator_count == 0) {
    row.fail("accelerator_count", "0, but accelerator_model is '" + type.accelerator_model + "'");
  }
  type.accelerator_memory_gib = row.number("accelerator_memory_gib_each");
  type.accelerator_architecture = row.text("accelerator_arch");
  const std::string& capability = row.text("compute_capability");
  if (!capability.empty() && capability != "n/a") {
    if (type.accelerator_kind != AcceleratorKind::kNvidiaGpu) {
      row.fail("compute_capability", "'" + capability + "' given for a non-NVIDIA device");
    }
    try {
      type.compute_capability = ComputeCapability::parse(capability);
    } catch (const ValueError& error) {
      row.fail("compute_capability", error.what());
    }
  }
  type.interconnect = row.text("interconnect");
  type.network_gbps = row.text("network_gbps");
  type.price_usd_per_hour = row.number("price_usd_per_hour_us_east_1");
  if (type.price_usd_per_hour == 0.0) {
    // An unknown price must stay unknown (empty), or cost estimates would call it free.
    row.fail("price_usd_per_hour_us_east_1", "a price of 0; leave it empty when unknown");
  }
  type.price_source = row.text("price_source");
  type.notes = row.text("notes");
  return type;
}

}  // namespace

InstanceCatalog InstanceCatalog::from_csv(std::string_view csv_text, std::string_view source_name) {
  auto records = read_csv_records(csv_text, source_name);
  if (records.empty()) throw DataError(std::string(source_name) + ": no header row");
  std::map<std::string, std::size_t> columns;
  for (std::size_t i = 0; i < records[0].fields.size(); ++i) columns[records[0].fields[i]] = i;
  for (const char* required :
       {"instance_type", "vcpus", "memory_gib", "accelerator_count", "accelerator_model",
        "accelerator_memory_gib_each", "accelerator_arch", "compute_capability", "interconnect",
        "network_gbps", "price_usd_per_hour_us_east_1", "price_source", "notes"}) {
    if (!columns.contains(required)) {
      throw DataError(std::string(source_name) + " line 1: the header has no '" + required +
                      "' column");
    }
  }

  InstanceCatalog catalog;
  for (std::size_t r = 1; r < records.size(); ++r) {
    const CsvRecord& record = records[r];
    if (record.fields.size() != records[0].fields.size()) {
      throw DataError(std::string(source_name) + " line " + std::to_string(record.line) + ": " +
                      std::to_string(record.fields.size()) + " fields, but the header has " +
                      std::to_string(records[0].fields.size()));
    }
    catalog.add(parse_row(RowReader(columns, record, source_name)), source_name, record.line);
  }

  InstanceType local;
  local.name = std::string(kLocalInstanceType);
  local.family = "local";
  local.accelerator_count = 0;
  local.price_source = "not applicable: runs on this host";
  local.notes = "SageMaker local mode: this host's CPUs and memory, no GPU";
  local.local = true;
  catalog.types_.push_back(local);

  InstanceType local_gpu = local;
  local_gpu.name = std::string(kLocalGpuInstanceType);
  local_gpu.accelerator_kind = AcceleratorKind::kNvidiaGpu;
  local_gpu.accelerator_count.reset();
  local_gpu.notes = "SageMaker local mode: this host with all of its NVIDIA GPUs";
  catalog.types_.push_back(local_gpu);
  return catalog;
}

}  // namespace trainyard::platform
