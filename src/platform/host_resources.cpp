#include "platform/host_resources.h"

#include <sched.h>
#include <unistd.h>

#include <thread>

namespace trainyard::platform {

HostResources HostResources::detect() {
  HostResources host;
  // The affinity mask, not the machine's CPU count: inside a container or under taskset
  // the job only gets the CPUs it is allowed to run on.
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  if (sched_getaffinity(0, sizeof(allowed), &allowed) == 0) host.vcpus = CPU_COUNT(&allowed);
  if (host.vcpus <= 0) host.vcpus = static_cast<int>(std::thread::hardware_concurrency());
  if (host.vcpus <= 0) host.vcpus = 1;

  long pages = sysconf(_SC_PHYS_PAGES);
  long page_size = sysconf(_SC_PAGE_SIZE);
  if (pages > 0 && page_size > 0) {
    host.memory_gib =
        static_cast<double>(pages) * static_cast<double>(page_size) / (1024.0 * 1024.0 * 1024.0);
  }
  return host;
}

}  // namespace trainyard::platform
