// The JSON wire format of the action table: POST / with the action named in the X-Amz-Target
// header ("RunInstances" or "<Service>.RunInstances", as AWS's JSON protocol does) and the
// parameters as a JSON object in the body. Success: 200 with the response object. Failure:
// the AWS JSON error shape {"__type": CODE, "message": TEXT} with the HTTP status of
// httpStatusFor(CODE). GET / answers {"Service": "tide", "Version": ...} for readiness checks.
#pragma once

#include "api/action.h"
#include "api/http.h"

namespace tide::api {

// The one place that maps error codes to HTTP statuses: InternalError 500,
// ServiceUnavailable 503, everything else (validation, not found, conflicts) 400 as in EC2.
int httpStatusFor(const std::string& code);

HttpResponse errorResponse(const Status& status);

// Parses, dispatches (through ctx.actions; api's own actions when it is null) and encodes one
// API request. Logs failures of the server's own making.
HttpResponse handleApiRequest(ActionContext& ctx, const HttpRequest& request);

} // namespace tide::api
