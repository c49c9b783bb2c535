// The optional entries' default implementations, built from the required entries, so a
// backend without fused kernels still runs every op.
#include "backend/backend.h"

#include <array>
#include <cstring>
#include <string>

#include "core/error.h"

namespace trainyard::backend {

namespace {

void require_same_bytes(const char* entry, const Tensor& a, const Tensor& b) {
  if (a.nbytes() != b.nbytes()) {
    throw ShapeError(std::string(entry) + ": " + a.to_string() + " and " + b.to_string() +
                     " hold different byte counts");
  }
}

std::array<BackendFactory, 2>& factories() {
  static std::array<BackendFactory, 2> registered{};
  return registered;
}

}  // namespace

void Backend::copy_from_host(const Tensor& host_source, const Tensor& out) {
  require_same_bytes("copy_from_host", host_source, out);
  if (out.nbytes() > 0) std::memmove(out.raw_data(), host_source.raw_data(), out.nbytes());
}

void Backend::copy_to_host(const Tensor& source, const Tensor& host_out) {
  require_same_bytes("copy_to_host", source, host_out);
  if (source.nbytes() > 0) std::memmove(host_out.raw_data(), source.raw_data(), source.nbytes());
}

void register_backend_factory(DeviceType type, BackendFactory factory) {
  factories()[static_cast<size_t>(type)] = factory;
}

Backend& backend_for(const Device& device) {
  if (device.is_cpu()) return cpu_backend();
  BackendFactory factory = factories()[static_cast<size_t>(device.type)];
  if (factory == nullptr) {
    throw ValueError("no backend for device " + device.to_string() +
                     ": this program was built without trainyard's CUDA backend");
  }
  return factory(device.index);
}

Tensor to_device(const Tensor& tensor, const Device& device) {
  if (!tensor.defined()) throw ValueError("to_device: the tensor is undefined");
  const Device source = tensor.device();
  if (source == device) return tensor;
  Backend& target = backend_for(device);
  Tensor moved = Tensor::zeros(tensor.shape(), tensor.dtype(), target.allocator());
  if (source.is_cpu()) {
    target.copy_from_host(tensor, moved);
  } else if (device.is_cpu()) {
    backend_for(source).copy_to_host(tensor, moved);
  } else {
    // Between two devices through the host: rare (model moves), so simple beats fast.
    Tensor staged = to_device(tensor, cpu_device());
    target.copy_from_host(staged, moved);
  }
  return moved;
}

void copy_into(const Tensor& source, const Tensor& destination) {
  if (source.num_elements() != destination.num_elements() ||
      source.dtype() != destination.dtype()) {
    throw ShapeError("copy_into: " + source.to_string() + " does not fit " +
                     destination.to_string());
  }
  const Device from = source.device(), to = destination.device();
  if (from == to) {
    backend_for(to).copy(source, destination, false);
  } else if (from.is_cpu()) {
    backend_for(to).copy_from_host(source, destination);
  } else if (to.is_cpu()) {
    backend_for(from).copy_to_host(source, destination);
  } else {
    backend_for(to).copy_from_host(to_device(source, cpu_device()), destination);
  }
}

void Backend::conv2d_bias_activation_forward(const Window2d& window, const Activation& activation,
                                             const Tensor& x, const Tensor& kernel,
                                             const Tensor& bias, const Tensor& y) {
  if (activation.kind == ActivationKind::kSoftmax) {
    throw ValueError("conv2d_bias_activation_forward: softmax is not elementwise");
  }
  conv2d_forward(window, x, kernel, y);
  if (bias.defined()) bias_add(y, bias, y);
  if (activation.kind != ActivationKind::kLinear) activation_forward(activation, y, y);
}

void Backend::bias_activation_forward(const Activation& activation, const Tensor& x,
                                      const Tensor& bias, const Tensor& y) {
  if (activation.kind == ActivationKind::kSoftmax) {
    throw ValueError("bias_activation_forward: softmax is not elementwise");
  }
  const Tensor* z = &x;
  if (bias.defined()) {
    bias_add(x, bias, y);
    z = &y;
  }
  if (activation.kind != ActivationKind::kLinear) {
    activation_forward(activation, *z, y);
  } else if (z != &y) {
    copy(x, y, false);
  }
}

void Backend::bias_activation_backward(const Activation& activation, const Tensor& y,
                                       const Tensor& y_grad, const Tensor& z_grad,
                                       const Tensor& bias_grad, bool accumulate_bias) {
  if (!derivative_from_output(activation.kind)) {
    throw ValueError("bias_activation_backward: the derivative of " +
                     std::string(activation_name(activation.kind)) +
                     " needs the activation's input");
  }
  // For these activations f'(z) is a function of y alone (ReLU: z > 0 exactly when y > 0), so y
  // stands in for the input z.
  activation_backward(activation, y, y, y_grad, z_grad, false);
  if (bias_grad.defined()) bias_add_backward(z_grad, bias_grad, accumulate_bias);
}

// A backend without step graphs: nothing to capture or replay.
namespace {

[[noreturn]] void no_step_graphs(const Backend& backend, const char* entry) {
  throw ValueError(std::string(entry) + ": the " + backend.device().to_string() +
                   " backend does not capture steps (supports_step_graphs() is false)");
}

}  // namespace

void Backend::set_step_scalars(const StepScalars&) {
  no_step_graphs(*this, "set_step_scalars");
}

void Backend::begin_capture() {
  no_step_graphs(*this, "begin_capture");
}

std::unique_ptr<CapturedWork> Backend::end_capture() {
  no_step_graphs(*this, "end_capture");
}

bool Backend::replay(const CapturedWork&) {
  no_step_graphs(*this, "replay");
}

}  // namespace trainyard::backend
