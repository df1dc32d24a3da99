// What the stack actions share (actions.cc, stack_queries.cc, change_sets.cc): reading a
// request's stack name, template and parameters, finding a stack, and the handlers the action
// table in actions.cc lists. Internal to the stacks module.
#pragma once

#include "api/action.h"
#include "stacks/template.h"
#include "store/store.h"

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace tide::stacks {

Status validateStackName(const std::string& name);

// A required string parameter; missing or empty is CloudFormation's ValidationError "1 validation
// error detected: Value null at 'stackName' failed to satisfy constraint: Member must not be
// null" (not api's MissingParameter).
Result<std::string> requiredString(const Json& p, const char* name);

// ValidationError "Stack with id NAME does not exist", the text the CLI's deploy and the
// stack-delete-complete waiter read.
Status stackNotFound(const std::string& nameOrId);

// Refuses a parameter outside `own` and the ones every stack action accepts and tide ignores
// (Capabilities, Tags, NotificationARNs, ClientRequestToken, RoleARN), with UnknownParameter.
Status checkStackParams(const Json& p, std::initializer_list<std::string_view> own);

// A live stack by name or stack id; with `deleted`, also a deleted one by its stack id (a
// deleted stack's name no longer names it). ValidationError stackNotFound otherwise.
Result<model::Stack> findStack(store::Tx& tx, const std::string& nameOrId, bool deleted = false);

// A new stack id "arn:aws:cloudformation:REGION:ACCOUNT:stack/NAME/UUID" for the request's
// region and account.
std::string newStackId(const ActionContext& ctx, const std::string& name);

// The template a request submits (TemplateBody; TemplateURL is refused: tide cannot fetch from
// S3) with TemplateBasePath kept in its Metadata, and the body as submitted.
struct SubmittedTemplate {
  Template parsed;
  std::string body; // as submitted
};
Result<SubmittedTemplate> requestTemplate(const Json& p);

// Parameters [{ParameterKey, ParameterValue | UsePreviousValue}], previous values taken from
// `previous`.
Result<std::vector<model::StackParameter>>
stackParameters(const Json& p, const std::vector<model::StackParameter>& previous);

// An update's template and parameters (UpdateStack, CreateChangeSet of type UPDATE):
// TemplateBody or UsePreviousTemplate, the stack's TemplateBasePath kept when the request has
// none, previous parameter values where asked for, every value resolved.
struct StackUpdate {
  Template next;
  std::string submittedBody;
  std::vector<model::StackParameter> parameters;
};
Result<StackUpdate> requestedUpdate(const Json& p, const model::Stack& stack);

// The stack as DescribeStacks shows it (Stack shape).
Json stackJson(const model::Stack& s);

// Whether a stack in this status takes an update (UpdateStack, an UPDATE change set).
bool updatable(const std::string& status);

// Handlers of stack_queries.cc and change_sets.cc, for the table in actions.cc.
Result<Json> describeStackEvents(ActionContext& ctx, const Json& p);
Result<Json> describeStackResource(ActionContext& ctx, const Json& p);
Result<Json> listStackResources(ActionContext& ctx, const Json& p);
Result<Json> listStacks(ActionContext& ctx, const Json& p);
Result<Json> getTemplate(ActionContext& ctx, const Json& p);
Result<Json> getTemplateSummary(ActionContext& ctx, const Json& p);
Result<Json> createChangeSet(ActionContext& ctx, const Json& p);
Result<Json> describeChangeSet(ActionContext& ctx, const Json& p);
Result<Json> executeChangeSet(ActionContext& ctx, const Json& p);
Result<Json> deleteChangeSet(ActionContext& ctx, const Json& p);
Result<Json> listChangeSets(ActionContext& ctx, const Json& p);

} // namespace tide::stacks
