// The CPU backend records no steps: supports_step_graphs is false, the capture entries refuse
// with a ValueError naming the device, and abandoning a capture that never began does nothing.
#include <gtest/gtest.h>

#include <string>

#include "backend/backend.h"

namespace trainyard::backend {
namespace {

template <typename Call>
void expect_refusal(Call&& call, const std::string& entry) {
  try {
    call();
    ADD_FAILURE() << entry << " should refuse on the CPU";
  } catch (const ValueError& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find(entry + ": the cpu:0 backend does not capture steps"), std::string::npos)
        << message;
  }
}

TEST(StepGraphsTest, TheCpuBackendDoesNotCaptureSteps) {
  Backend& cpu = cpu_backend();
  EXPECT_FALSE(cpu.supports_step_graphs());
  expect_refusal([&] { cpu.set_step_scalars({}); }, "set_step_scalars");
  expect_refusal([&] { cpu.begin_capture(); }, "begin_capture");
  expect_refusal([&] { cpu.end_capture(); }, "end_capture");
  class NoWork : public CapturedWork {};
  expect_refusal([&] { cpu.replay(NoWork{}); }, "replay");
  cpu.abandon_capture();  // nothing to abandon, and no exception
}

}  // namespace
}  // namespace trainyard::backend
