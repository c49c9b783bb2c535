#include "keras/options.h"

namespace trainyard::keras {

OptimizerRef::OptimizerRef(const char* identifier) : optimizer(nn::make_optimizer(identifier)) {}
OptimizerRef::OptimizerRef(const std::string& identifier)
    : optimizer(nn::make_optimizer(identifier)) {}

}  // namespace trainyard::keras
