// `trainyard doctor`: this host's driver, CUDA, libraries and GPUs judged rule by rule, with a
// fix for every warning and failure; exits non-zero when a rule fails.
#include "platform/doctor.h"

#include <cmath>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "backend/backend.h"
#include "cli/commands/commands.h"
#include "cli/text_table.h"
#include "core/error.h"

namespace trainyard::cli {
namespace {

namespace platform = trainyard::platform;

// A 67 x 45 by 45 x 29 product on the CPU backend against a float64 loop: odd sizes, so the
// BLAS's edge paths run. Returns what went wrong, or nothing.
std::string check_cpu_backend() {
  constexpr int64_t m = 67, k = 45, n = 29;
  std::vector<float> a(m * k), b(k * n);
  for (size_t i = 0; i < a.size(); ++i) a[i] = static_cast<float>(std::sin(0.37 * i));
  for (size_t i = 0; i < b.size(); ++i) b[i] = static_cast<float>(std::cos(0.53 * i));
  try {
    Tensor c = Tensor::zeros(Shape{m, n});
    backend::cpu_backend().matmul(Tensor::from_vector(Shape{m, k}, a), false,
                                  Tensor::from_vector(Shape{k, n}, b), false, c, 1.0, 0.0);
    std::vector<float> got = c.to_vector<float>();
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t j = 0; j < n; ++j) {
        double want = 0;
        for (int64_t p = 0; p < k; ++p) want += double(a[i * k + p]) * double(b[p * n + j]);
        if (!(std::abs(got[i * n + j] - want) <= 1e-4 * (1 + std::abs(want)))) {
          return "matmul element [" + std::to_string(i) + ", " + std::to_string(j) + "] is " +
                 std::to_string(got[i * n + j]) + ", expected " + std::to_string(want);
        }
      }
    }
  } catch (const std::exception& error) {
    return error.what();
  }
  return "";
}

nlohmann::ordered_json library_json(const platform::LibraryProbe& probe) {
  nlohmann::ordered_json entry;
  entry["version"] =
      probe.version ? nlohmann::ordered_json(*probe.version) : nlohmann::ordered_json(nullptr);
  entry["location"] = probe.location.empty() ? nlohmann::ordered_json(nullptr)
                                             : nlohmann::ordered_json(probe.location);
  entry["error"] = probe.found() || probe.error.empty() ? nlohmann::ordered_json(nullptr)
                                                        : nlohmann::ordered_json(probe.error);
  return entry;
}

void print_json(const platform::DoctorFacts& facts, const platform::DoctorReport& report) {
  nlohmann::ordered_json out;
  out["build"] = {{"cuda", facts.build_cuda ? nlohmann::ordered_json(facts.build_cuda->to_string())
                                            : nlohmann::ordered_json(nullptr)},
                  {"cuda_architectures", facts.build_targets.describe()}};
  const platform::RuntimeLibraries& libraries = facts.libraries;
  out["libraries"] = {{"cudnn", library_json(libraries.cudnn)},
                      {"cublas", library_json(libraries.cublas)},
                      {"nccl", library_json(libraries.nccl)},
                      {"openmpi", library_json(libraries.openmpi)},
                      {"mpirun", libraries.mpirun ? nlohmann::ordered_json(*libraries.mpirun)
                                                  : nlohmann::ordered_json(nullptr)}};
  out["checks"] = nlohmann::ordered_json::array();
  for (const platform::DoctorCheck& check : report.checks) {
    out["checks"].push_back({{"name", check.name},
                             {"result", std::string(platform::verdict_name(check.verdict))},
                             {"finding", check.finding},
                             {"fix", check.fix.empty() ? nlohmann::ordered_json(nullptr)
                                                       : nlohmann::ordered_json(check.fix)}});
  }
  out["failed"] = report.failed();
  std::cout << out.dump(2) << '\n';
}

void print_text(const platform::DoctorFacts& facts, const platform::DoctorReport& report) {
  std::cout << "trainyard build: "
            << (facts.build_cuda ? "CUDA " + facts.build_cuda->to_string() + ", kernels for " +
                                       facts.build_targets.describe()
                                 : std::string("CPU only"))
            << "\n\n";
  TextTable table({"check", "result", "finding"});
  for (const platform::DoctorCheck& check : report.checks) {
    table.add_row({check.name, std::string(platform::verdict_name(check.verdict)), check.finding});
  }
  table.print(std::cout);
  bool heading = false;
  for (const platform::DoctorCheck& check : report.checks) {
    if (check.fix.empty()) continue;
    if (!heading) std::cout << "\nHow to fix:\n";
    heading = true;
    std::cout << "  " << check.name << ": " << check.fix << '\n';
  }
  std::cout << '\n'
            << report.count(platform::Verdict::kPass) << " passed, "
            << report.count(platform::Verdict::kWarn) << " warnings, "
            << report.count(platform::Verdict::kFail) << " failed\n";
}

}  // namespace

void add_doctor_command(CLI::App& app) {
  auto json = std::make_shared<bool>(false);
  CLI::App* command = app.add_subcommand(
      "doctor", "Check this host's GPU setup (driver, CUDA, cuDNN, NCCL, GPUs) for trainyard");
  command->add_flag("--json", *json, "Print JSON instead of text");
  command->callback([json] {
    platform::SystemGpuInventory inventory(platform::GpuDetectionOptions::from_environment());
    platform::DoctorFacts facts{.inventory = &inventory,
                                .libraries = platform::RuntimeLibraries::detect(),
                                .build_targets = platform::BuildTargets::of_this_build(),
                                .build_cuda = platform::cuda_toolkit_of_this_build(),
                                .host = platform::HostResources::detect(),
                                .cpu_check_error = check_cpu_backend()};
    platform::DoctorReport report = platform::examine(facts);
    if (*json) {
      print_json(facts, report);
    } else {
      print_text(facts, report);
    }
    if (report.failed()) {
      throw ValueError("the doctor found " +
                       std::to_string(report.count(platform::Verdict::kFail)) +
                       " failed check(s); see the fixes above");
    }
  });
}

}  // namespace trainyard::cli
