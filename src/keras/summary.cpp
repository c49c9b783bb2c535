// Model::summary(): Keras 3's print_summary (keras/src/utils/summary_utils.py) as plain text, as
// Keras prints it to a stream that is not a terminal: no colours, no bold.
#include "core/error.h"
#include "keras/model.h"
#include "keras/summary_table.h"
#include "keras/trainer.h"

namespace trainyard::keras {
namespace {

struct WeightTotals {
  int64_t count = 0;
  double bytes = 0;
};

WeightTotals totals_of(const std::vector<graph::VariablePtr>& variables) {
  WeightTotals totals;
  for (const auto& variable : variables) {
    totals.count += variable->value.num_elements();
    totals.bytes += static_cast<double>(variable->value.num_elements()) *
                    static_cast<double>(dtype_size(variable->value.dtype()));
  }
  return totals;
}

// What Keras counts as optimizer.variables once built: the int64 iteration counter, the float32
// learning rate (a variable unless a schedule drives it) and one slot per trainable weight element
// for each slot kind.
WeightTotals optimizer_totals(const nn::Optimizer& optimizer, const WeightTotals& trainable) {
  WeightTotals totals{1, 8};
  if (!optimizer.learning_rate_schedule()) {
    totals.count += 1;
    totals.bytes += 4;
  }
  auto slots = static_cast<int64_t>(optimizer.slot_names().size());
  totals.count += slots * trainable.count;
  totals.bytes += static_cast<double>(slots) * trainable.bytes;
  return totals;
}

std::string totals_line(const char* label, const WeightTotals& totals) {
  return std::string(" ") + label + ": " + detail::with_thousands(totals.count) + " (" +
         detail::readable_memory_size(totals.bytes) + ")\n";
}

}  // namespace

std::string Model::summary(const SummaryOptions& options) const {
  SummaryLayout layout = summary_layout();
  const bool chain = layout.sequential_like;
  std::vector<detail::TableColumn> columns = {{"Layer (type)", 0, detail::CellAlign::kLeft},
                                              {"Output Shape", 0, detail::CellAlign::kLeft},
                                              {"Param #", 0, detail::CellAlign::kRight}};
  if (!chain) columns.push_back({"Connected to", 0, detail::CellAlign::kLeft});
  int line_length = options.line_length.value_or(chain ? 88 : 108);
  std::vector<double> positions = options.positions;
  if (positions.empty()) {
    positions =
        chain ? std::vector<double>{0.45, 0.80, 1.0} : std::vector<double>{0.3, 0.56, 0.74, 1.0};
  }
  if (positions.size() != columns.size()) {
    throw ValueError("summary: positions needs " + std::to_string(columns.size()) +
                     " entries, got " + std::to_string(positions.size()));
  }
  int current = 0;
  for (size_t i = 0; i < columns.size(); ++i) {
    int width = static_cast<int>(positions[i] * line_length) - current;
    if (width < 4) throw ValueError("summary: insufficient console width to print summary");
    columns[i].width = width;
    current += width;
  }

  std::vector<std::vector<std::string>> rows;
  const auto& model_layers = layers();
  for (size_t i = 0; i < model_layers.size(); ++i) {
    const nn::Layer& layer = *model_layers[i];
    std::vector<std::string> row{
        layer.name() + " (" + layer.class_name() + ")", layout.output_shapes.at(i),
        layer.built() ? detail::with_thousands(layer.count_params()) : "0 (unbuilt)"};
    if (!chain) row.push_back(layout.connections.at(i));
    rows.push_back(std::move(row));
  }

  WeightTotals trainable = totals_of(trainable_weights());
  WeightTotals non_trainable = totals_of(non_trainable_weights());
  std::optional<WeightTotals> optimizer_params;
  if (compiled() && trainer_->optimizer().built()) {
    optimizer_params = optimizer_totals(trainer_->optimizer(), trainable);
  }
  WeightTotals total{trainable.count + non_trainable.count, trainable.bytes + non_trainable.bytes};
  if (optimizer_params) {
    total.count += optimizer_params->count;
    total.bytes += optimizer_params->bytes;
  }

  std::string text = "Model: \"" + name() + "\"\n";
  text += detail::render_table(columns, rows, line_length);
  text += totals_line("Total params", total);
  text += totals_line("Trainable params", trainable);
  text += totals_line("Non-trainable params", non_trainable);
  if (optimizer_params) text += totals_line("Optimizer params", *optimizer_params);
  return text;
}

}  // namespace trainyard::keras
