// The bandwidths a data-parallel all-reduce runs over, read from an instance type's
// catalog facts, with documented defaults where the catalog gives no figure.
#pragma once

#include "platform/instance_type.h"

namespace trainyard::advisor {

// Bytes per second one GPU sends to the next within an instance (one direction): the
// NVLink generation the catalog's interconnect names, else PCIe.
double intra_instance_bandwidth(const platform::InstanceType& type);

// Bytes per second one instance sends to another: the catalog's network figure ("up to"
// taken at its figure), else a default of 10 Gbit/s.
double inter_instance_bandwidth(const platform::InstanceType& type);

}  // namespace trainyard::advisor
