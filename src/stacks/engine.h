// The stack engine: level-triggered, it moves every stack that is *_IN_PROGRESS one step
// closer to its template, making, updating and deleting resources through the action table.
//
// Stack states and their transitions (CloudFormation's; the waiters read them):
//   REVIEW_IN_PROGRESS (a CREATE change set not yet executed; the engine leaves it alone)
//       → CREATE_IN_PROGRESS when it is executed, or → DELETE_COMPLETE (DeleteStack)
//   CREATE_IN_PROGRESS → CREATE_COMPLETE, or → ROLLBACK_IN_PROGRESS → ROLLBACK_COMPLETE
//                                                                     (or ROLLBACK_FAILED)
//   UPDATE_IN_PROGRESS → UPDATE_COMPLETE_CLEANUP_IN_PROGRESS → UPDATE_COMPLETE, or (a resource
//       failed) → UPDATE_ROLLBACK_IN_PROGRESS: back to the template and parameters before the
//       update (the same steps as an update) → UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS →
//       UPDATE_ROLLBACK_COMPLETE, or → UPDATE_ROLLBACK_FAILED when the way back fails too
//   DELETE_IN_PROGRESS → DELETE_COMPLETE (the record leaves the live stacks for the deleted
//       ones, still described by stack id), or → DELETE_FAILED (DeleteStack again retries)
// Every status change of the stack and of its resources is recorded as a stack event in the
// same transaction (events.h).
//
// Resources are made in dependency order (Ref, Fn::GetAtt, Fn::Sub and DependsOn), each as
// soon as everything it depends on is complete; a resource that must become ready (an image)
// holds back only its dependents. Deletion runs in reverse dependency order, one resource at
// a time, waiting for each to be gone (an Auto Scaling group terminates its instances first).
//
// Restart-safe: a resource is recorded as CREATE_IN_PROGRESS before its action runs and its
// physical id right after; a resource found CREATE_IN_PROGRESS without an id after a restart
// is looked up by its name before it is made again.
//
// Updates: UpdateStack (planStackUpdate) marks each resource. Changes to updatable properties
// are applied in place (an Auto Scaling group's sizes and launch template through
// UpdateAutoScalingGroup, a launch template's data as a new default version, target group
// health checks and attributes, load balancer attributes, alarms and scaling policies through
// their Put actions). Any other change replaces the resource: the old one is deleted first,
// then the new one made, and so are the resources that refer to a replaced one (a changed
// reference is a changed property). Resources the template no longer has are deleted first too,
// in UPDATE_IN_PROGRESS (CloudFormation deletes them in the cleanup phase; tide frees their
// names and ports before anything new needs them), so the cleanup phase usually has nothing
// left to do.
//
// Runs on the control thread, like the action handlers.
#pragma once

#include "api/action.h"
#include "stacks/template.h"

namespace tide::stacks {

class StackEngine {
public:
  // Advances every stack in progress. Returns true while some stack waits for something
  // outside it (an image to become available, a group to finish deleting), or could not be
  // advanced (a store error, logged: the other stacks still advance): call again soon.
  // Errors: the stacks cannot be read; a resource's failure is recorded in its stack instead.
  Result<bool> step(ActionContext& ctx);
};

// For UpdateStack: the stack's resources marked for the update from `old` (the stack's current
// template and parameters) to `next`: DELETE_IN_PROGRESS for resources removed or replaced,
// UPDATE_IN_PROGRESS for those changed in place. ValidationError "No updates are to be
// performed." when the template and parameters are unchanged.
Result<std::vector<model::StackResource>>
planStackUpdate(const model::Stack& stack, const Template& old, const Template& next,
                const std::vector<model::StackParameter>& nextParameters);

// Whether a stack status is final and good (CREATE_COMPLETE, UPDATE_COMPLETE): what a change
// set's execution ends as (EXECUTE_COMPLETE, else EXECUTE_FAILED).
bool stackSucceeded(const std::string& status);

} // namespace tide::stacks
