// CloudFormation's actions as rows for the API's action table: the stack actions (actions.cc),
// the queries of events, resources and templates (stack_queries.cc) and the change sets
// (change_sets.cc); docs/stacks.md. api does not know them: the server adds them when it builds
// its api::ActionTable.
#pragma once

#include "api/action.h"

#include <span>

namespace tide::stacks {

// The stack actions, one row each; the span lives as long as the program.
std::span<const api::ActionEntry> stackActions();

} // namespace tide::stacks
