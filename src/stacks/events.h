// Stack events: one per status change of a stack and of each of its resources, written in the
// same transaction as the change itself, so that DescribeStackEvents never disagrees with
// DescribeStacks. Every write of a stack record (the actions and the engine) goes through
// putStackWithEvents.
#pragma once

#include "model/auto_scaling.h"
#include "store/store.h"

#include <string>

namespace tide::stacks {

// "arn:aws:cloudformation:REGION:ACCOUNT:stack/NAME/UUID" and the like: a new UUID
// (8-4-4-4-12 lowercase hex digits).
std::string newUuid();

// Writes `after` in tx with an event for each status that differs from `before` (nullptr: a
// new stack): the stack's own and each resource's, a resource that is no longer listed counting
// as DELETE_COMPLETE; a resource whose status changed gets `now` as its lastUpdatedTimestamp
// (in `after` too, which the caller keeps). When the stack starts an operation (its previous status
// was not
// *_IN_PROGRESS) its event comes first, otherwise after its resources'. A stack whose status is
// DELETE_COMPLETE leaves the live stacks (its name is free again) for the deleted ones.
Status putStackWithEvents(store::Tx& tx, const model::Stack* before, model::Stack& after,
                          TimeMs now);

} // namespace tide::stacks
