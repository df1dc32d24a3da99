// The response side of AWS's query protocols: a handler's JSON result written as the XML its
// operation's output shape describes, and errors in each dialect's envelope.
//   query: <OpResponse xmlns=NS><OpResult>...</OpResult><ResponseMetadata><RequestId>
//          lists as <member>, maps as <entry><key><value>;
//          errors <ErrorResponse><Error><Type>Sender</Type><Code><Message></Error><RequestId>
//   EC2:   <OpResponse xmlns=NS><requestId>...; elements named by locationName, lists as <item>;
//          errors <Response><Errors><Error><Code><Message></Error></Errors><RequestID>
// Members the model does not have (tide's own fields) are left out.
#pragma once

#include "api/wire/model.h"
#include "api/wire/query.h"

#include <string>

namespace tide::api::wire {

std::string encodeXmlResponse(const Service& service, const Operation& op, const Json& result,
                              const std::string& requestId, QueryDialect dialect);

std::string encodeXmlError(const Service* service, const std::string& code,
                           const std::string& message, bool senderFault,
                           const std::string& requestId, QueryDialect dialect);

// Text escaped for XML 1.0 content and attributes. Characters XML 1.0 cannot carry (controls
// other than tab, LF and CR, and U+FFFE and U+FFFF) become U+FFFD.
std::string xmlEscape(std::string_view text);

} // namespace tide::api::wire
