// The management API's operations on environments, their variables and
// references, and a project's configured parameter values
// (core/catalog/environments.h): create_environment, delete_environment,
// create_environment_variable, set_environment_variable_value,
// delete_environment_variable, create_environment_reference,
// delete_environment_reference, set_object_parameter_value,
// clear_object_parameter_value, list_environments,
// list_environment_references, list_object_parameters, validate_project and
// validate_package.
//
// Thread-safety: the handlers run where every operation runs (operations.h).
#ifndef SCALEOUT_CORE_MANAGEMENT_ENVIRONMENT_OPERATIONS_H_
#define SCALEOUT_CORE_MANAGEMENT_ENVIRONMENT_OPERATIONS_H_

#include <vector>

#include "core/management/operations.h"

namespace scaleout::core::management {

// The operations above, in documentation order, for the operation table.
std::vector<Operation> EnvironmentOperations();

}  // namespace scaleout::core::management

#endif  // SCALEOUT_CORE_MANAGEMENT_ENVIRONMENT_OPERATIONS_H_
