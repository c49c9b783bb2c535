#include "advisor/link_bandwidth.h"

#include <string>
#include <string_view>

namespace trainyard::advisor {
namespace {

constexpr double kGigabyte = 1e9;
// NVLink per-GPU bandwidth, one direction (half the bidirectional data sheet figure):
// NVLink 2 (V100) 300 GB/s, 3 (A100) 600, 4 (H100) 900, 5 (B200) 1800.
constexpr double kNvlink2 = 150 * kGigabyte;
constexpr double kNvlink3 = 300 * kGigabyte;
constexpr double kNvlink4 = 450 * kGigabyte;
constexpr double kNvlink5 = 900 * kGigabyte;
// PCIe 3.0 x16, one direction: the slowest host link in the catalog, so a conservative
// guess for types that say only "PCIe".
constexpr double kPcie = 16 * kGigabyte;
constexpr double kDefaultNetworkGbps = 10;

bool contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

}  // namespace

double intra_instance_bandwidth(const platform::InstanceType& type) {
  const std::string_view link = type.interconnect;
  if (contains(link, "no NVLink")) return kPcie;  // "PCIe (no NVLink)": g5.12xlarge and kin
  if (contains(link, "NVLink 5")) return kNvlink5;
  if (contains(link, "NVLink 4")) return kNvlink4;
  if (contains(link, "NVLink 3")) return kNvlink3;
  if (contains(link, "NVLink 2") || contains(link, "NVLink")) return kNvlink2;
  return kPcie;
}

double inter_instance_bandwidth(const platform::InstanceType& type) {
  std::string_view figure = type.network_gbps;
  if (figure.starts_with("up to ")) figure.remove_prefix(6);
  double gbps = kDefaultNetworkGbps;
  try {
    size_t used = 0;
    const double parsed = std::stod(std::string(figure), &used);
    if (used == figure.size() && parsed > 0) gbps = parsed;
  } catch (const std::exception&) {
    // An empty or unpublished figure: the documented default stands.
  }
  return gbps * kGigabyte / 8;
}

}  // namespace trainyard::advisor
