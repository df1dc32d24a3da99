// CloudFormation's stack actions as rows for the API's action table: CreateStack, UpdateStack,
// DeleteStack, DescribeStacks, DescribeStackResources, ValidateTemplate (actions.cc). api does
// not know them: the server adds them when it builds its api::ActionTable.
#pragma once

#include "api/action.h"

#include <span>

namespace tide::stacks {

// The stack actions, one row each; the span lives as long as the program.
std::span<const api::ActionEntry> stackActions();

} // namespace tide::stacks
